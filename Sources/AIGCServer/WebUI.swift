// The web UI: plain HTML/CSS/JS shipped as package resources (Resources/web), no build step.
import Foundation
import Hummingbird
import NIOCore

enum WebUI {
    static let types = ["html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
                        "json": "application/json", "svg": "image/svg+xml", "png": "image/png"]

    static var folder: URL? { Bundle.module.url(forResource: "web", withExtension: nil) }

    static func addRoutes(to router: Router<AIGCRequestContext>, modelNames: [String], imageModelNames: [String]) {
        let openAPI = openAPIDocument(enums: ["ModelName": modelNames, "ImageModelName": imageModelNames])
        router.get("/") { _, _ in try file("index.html") }
        router.get("/openapi.json") { _, _ in
            guard let openAPI else { return try file("openapi.json") }
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: openAPI)))
        }
        router.get("/ui/:name") { _, context in try file(context.parameters.require("name")) }
    }

    /// The shipped OpenAPI document with the served model names as the `ModelName` and
    /// `ImageModelName` enums, so clients and fuzzers know which names exist (any other is a 404).
    static func openAPIDocument(enums: [String: [String]]) -> Data? {
        guard let folder, let data = FileManager.default.contents(atPath: folder.appendingPathComponent("openapi.json").path),
              var document = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              var components = document["components"] as? [String: Any], var schemas = components["schemas"] as? [String: Any] else { return nil }
        for (schema, names) in enums where !names.isEmpty {
            guard var object = schemas[schema] as? [String: Any] else { continue }
            object["enum"] = names
            schemas[schema] = object
        }
        components["schemas"] = schemas
        document["components"] = components
        return try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
    }

    static func file(_ name: String) throws -> Response {
        guard !name.contains("/"), !name.hasPrefix("."), let folder, let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) else {
            throw APIError.notFound("No such file: \(name)")
        }
        var headers = HTTPFields()
        headers[.contentType] = types[(name as NSString).pathExtension] ?? "application/octet-stream"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
