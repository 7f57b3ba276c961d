// The web UI: plain HTML/CSS/JS shipped as package resources (Resources/web), no build step.
import Foundation
import Hummingbird
import NIOCore

enum WebUI {
    static let types = ["html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
                        "json": "application/json", "svg": "image/svg+xml", "png": "image/png"]

    static var folder: URL? { Bundle.module.url(forResource: "web", withExtension: nil) }

    static func addRoutes(to router: Router<AIGCRequestContext>) {
        router.get("/") { _, _ in try file("index.html") }
        router.get("/openapi.json") { _, _ in try file("openapi.json") }
        router.get("/ui/:name") { _, context in try file(context.parameters.require("name")) }
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
