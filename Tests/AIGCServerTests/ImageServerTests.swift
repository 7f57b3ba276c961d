// POST /v1/images/generations with the DCGAN fixture (shared/data): b64_json and URL answers whose
// PNGs carry the implicit label, streamed step events, usage rows, and OpenAI-shaped errors.
import AIGCFormats
import AIGCImaging
import AIGCServer
import AIGCStore
import AIGCTestSupport
import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

struct ImageTestServer {
    let store: SQLiteStore
    let server: ServerContext
    let app: Application<RouterResponder<AIGCRequestContext>>
    let folder: String

    init() throws {
        store = try SQLiteStore.inMemory()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("aigc-images-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let gan = try ImageModelLoader.load(path: Fixtures.shared("models/gan/generator.pth"))
        server = ServerContext(models: ServedModels([]), accounts: Accounts(store: store, authRequired: false),
                               images: ServedImageModels([ServedImageModel(name: "dcgan-mnist", loaded: gan)]), imageFolder: folder)
        app = Application(router: buildRouter(server))
    }
}

@Suite(.serialized) struct ImageServerTests {
    @Test func generatesLabelledPNGsAsBase64AndURLs() async throws {
        let t = try ImageTestServer()
        try await t.app.test(.router) { client in
            try await client.execute(uri: "/v1/images/models", method: .get) { r in
                let data = try #require(try json(r.body)["data"] as? [[String: Any]])
                #expect(data.map { $0["id"] as? String } == ["dcgan-mnist"])
            }
            let seeded = #"{"n": 2, "seed": 7, "response_format": "b64_json"}"#
            let first: [String] = try await post(client, "/v1/images/generations", seeded) { r in
                #expect(r.status == .ok)
                #expect(r.headers[HTTPField.Name("AIGC-Label")!] != nil)
                let body = try json(r.body)
                #expect(body["seed"] as? Int == 7)
                let data = try #require(body["data"] as? [[String: Any]])
                #expect(data.count == 2)
                return try data.map { item in
                    let b64 = try #require(item["b64_json"] as? String)
                    let png = try PNGReader.decode(Array(try #require(Data(base64Encoded: b64))), file: "response.png")
                    #expect(png.width == 28 && png.height == 28)
                    let label = try #require(try png.aigcLabel())
                    #expect(label.label == "1" && label.reservedCode1.hasPrefix("sha256:"))
                    #expect((item["aigc"] as? [String: Any])?["ProduceID"] as? String == label.produceID)
                    return b64
                }
            }
            // Same seed, same pixels (the labels differ: each output has its own ProduceID).
            try await post(client, "/v1/images/generations", seeded) { r in
                let data = try #require(try json(r.body)["data"] as? [[String: Any]])
                let again = try data.map { try PNGReader.decode(Array(Data(base64Encoded: try #require($0["b64_json"] as? String))!), file: "again.png").pixels }
                let before = try first.map { try PNGReader.decode(Array(Data(base64Encoded: $0)!), file: "first.png").pixels }
                #expect(again == before)
            }
            let url: String = try await post(client, "/v1/images/generations", #"{"response_format": "url", "label": false}"#) { r in
                #expect(r.status == .ok)
                let data = try #require(try json(r.body)["data"] as? [[String: Any]])
                return try #require(data.first?["url"] as? String)
            }
            let path = String(url[try #require(url.range(of: "/v1/images/files/"))!.lowerBound...])
            try await client.execute(uri: path, method: .get) { r in
                #expect(r.status == .ok && r.headers[.contentType] == "image/png")
                let png = try PNGReader.decode(Array(r.body.readableBytesView), file: path)
                #expect(try png.aigcLabel() != nil)
            }
            try await client.execute(uri: "/v1/images/files/..%2Faigc.sqlite", method: .get) { #expect($0.status == .notFound) }
        }
        let usage = try await t.store.usageTotals(keyID: nil, since: nil)
        #expect(usage.first { $0.model == "dcgan-mnist" }?.requests == 3)
    }

    @Test func streamsStepsThenTheResult() async throws {
        let t = try ImageTestServer()
        try await t.app.test(.router) { client in
            try await post(client, "/v1/images/generations", #"{"stream": true, "seed": 1}"#) { r in
                let events = String(buffer: r.body).components(separatedBy: "\n\n").filter { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
                #expect(events.last == "[DONE]")
                let objects = try events.dropLast().map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
                #expect(objects.first?["type"] as? String == "image_generation.progress")
                #expect(objects.last?["type"] as? String == "image_generation.completed")
                #expect((objects.last?["data"] as? [[String: Any]])?.count == 1)
            }
        }
    }

    @Test func badRequestsGetOpenAIErrors() async throws {
        let t = try ImageTestServer()
        try await t.app.test(.router) { client in
            for (body, status, param) in [(#"{"model": "dall-e-3"}"#, HTTPResponse.Status.notFound, "model"),
                                          (#"{"prompt": "a cat"}"#, .badRequest, "prompt"),
                                          (#"{"size": "big"}"#, .badRequest, "size"),
                                          (#"{"n": 0}"#, .badRequest, "n"),
                                          (#"{"response_format": "gif"}"#, .badRequest, "response_format"),
                                          (#"{"steps": 3}"#, .badRequest, "steps"),
                                          (#"{"enhance_prompt": true}"#, .badRequest, "enhance_prompt")] {
                try await post(client, "/v1/images/generations", body) { r in
                    #expect(r.status == status, "\(body)")
                    let e = try #require(try json(r.body)["error"] as? [String: Any])
                    #expect(e["param"] as? String == param, "\(body): \(e)")
                }
            }
        }
    }
}
