// The HTTP service through Hummingbird's router test client, with a real in-memory SQLite store and
// the tiny models: OpenAI routes (plain and streamed), errors in OpenAI's shape, keys and limits,
// usage rows, conversations, embeddings, the Ollama dialect, metrics and the web UI.
import AIGCFormats
import AIGCGeneration
import AIGCServer
import AIGCStore
import AIGCTestSupport
import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

struct TestServer {
    let store: SQLiteStore
    let server: ServerContext
    let app: Application<RouterResponder<AIGCRequestContext>>

    init(auth: Bool = false, configuration: BatchEngine.Configuration = BatchEngine.Configuration(), models: [String] = ["llama"],
         maxTokensLimit: Int? = nil) throws {
        store = try SQLiteStore.inMemory()
        let served = try ServedModels(models.map { try ServedModel(name: "tiny-\($0)", loaded: ModelLoader.load(path: TinyModels.gguf($0)), configuration: configuration) })
        server = ServerContext(models: served, accounts: Accounts(store: store, authRequired: auth), maxTokensLimit: maxTokensLimit)
        app = Application(router: buildRouter(server))
    }

    func run(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await app.test(.router, body)
        await server.models.shutdown()
    }
}

func json(_ buffer: ByteBuffer) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
}

@discardableResult
func post<Value: Sendable>(_ client: any TestClientProtocol, _ uri: String, _ body: String, key: String? = nil,
                           _ check: @escaping @Sendable (TestResponse) throws -> Value) async throws -> Value {
    var headers = HTTPFields()
    headers[.contentType] = "application/json"
    if let key { headers[.authorization] = "Bearer \(key)" }
    return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body), testCallback: check)
}

func errorCode(_ response: TestResponse) throws -> String? {
    let e = try #require(try json(response.body)["error"] as? [String: Any])
    #expect(e["message"] is String && e["type"] is String, "OpenAI error shape")
    return e["code"] as? String
}

let chatBody = #"{"model": "tiny-llama", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 8, "temperature": 0}"#

@Suite(.serialized) struct ServerTests {
    @Test func modelsHealthOpenAPIAndTheWebPage() async throws {
        try await TestServer().run { client in
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/models", method: .get) { r in
                let data = try #require(try json(r.body)["data"] as? [[String: Any]])
                #expect(data.map { $0["id"] as? String } == ["tiny-llama"])
            }
            try await client.execute(uri: "/v1/models/nope", method: .get) { r in
                #expect(r.status == .notFound)
                let code = try errorCode(r)
                #expect(code == "model_not_found")
            }
            try await client.execute(uri: "/openapi.json", method: .get) { r in
                let paths = try #require(try json(r.body)["paths"] as? [String: Any])
                for p in ["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/models", "/api/chat", "/health", "/metrics"] {
                    #expect(paths[p] != nil, "openapi documents \(p)")
                }
                let document = try json(r.body)
                let modelName = (document["components"] as? [String: Any])?["schemas"].flatMap { ($0 as? [String: Any])?["ModelName"] } as? [String: Any]
                #expect(modelName?["enum"] as? [String] == ["tiny-llama"], "the served names are the ModelName enum")
            }
            try await client.execute(uri: "/", method: .get) { r in
                #expect(r.status == .ok && String(buffer: r.body).contains("AI-generated"))
            }
            try await client.execute(uri: "/ui/app.js", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/ui/..%2Fsecret", method: .get) { #expect($0.status == .notFound) }
        }
    }

    @Test func chatCompletionWithUsageRowAndLabel() async throws {
        let t = try TestServer()
        try await t.run { client in
            try await post(client, "/v1/chat/completions", chatBody) { r in
                #expect(r.status == .ok)
                let body = try json(r.body)
                #expect(body["object"] as? String == "chat.completion")
                let choice = try #require((body["choices"] as? [[String: Any]])?.first)
                #expect((choice["message"] as? [String: Any])?["role"] as? String == "assistant")
                #expect(["stop", "length"].contains(choice["finish_reason"] as? String))
                let usage = try #require(body["usage"] as? [String: Int])
                #expect(usage["total_tokens"] == usage["prompt_tokens"]! + usage["completion_tokens"]!)
                let label = try #require(body["aigc"] as? [String: String])
                #expect(label["Label"] == "1" && label["ContentProducer"] == "aigc" && label["ReservedCode1"]?.hasPrefix("sha256:") == true)
                #expect(r.headers[HTTPField.Name("AIGC-Label")!]?.contains("\"Label\":\"1\"") == true)
            }
        }
        let totals = try await t.store.usageTotals(keyID: nil, since: nil)
        #expect(totals.reduce(0) { $0 + $1.requests } == 1)
        let conversations = try await t.store.listConversations(limit: 10, offset: 0)
        #expect(conversations.count == 1, "chat API exchanges are stored as conversations")
    }

    @Test func streamingEndsWithDoneAndIncludesUsage() async throws {
        try await TestServer().run { client in
            let body = #"{"model": "tiny-llama", "stream": true, "stream_options": {"include_usage": true}, "n": 2, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 6}"#
            try await post(client, "/v1/chat/completions", body) { r in
                #expect(r.status == .ok && r.headers[.contentType] == "text/event-stream")
                let text = String(buffer: r.body)
                #expect(text.hasSuffix("data: [DONE]\n\n"))
                let events = text.components(separatedBy: "\n\n").filter { $0.hasPrefix("data: {") }
                let chunks = try events.map { try #require(try JSONSerialization.jsonObject(with: Data($0.dropFirst(6).utf8)) as? [String: Any]) }
                #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
                let finishes = chunks.flatMap { ($0["choices"] as? [[String: Any]]) ?? [] }.compactMap { $0["finish_reason"] as? String }
                #expect(finishes.count == 2, "one finish per choice")
                let usage = try #require(chunks.last?["usage"] as? [String: Int])
                #expect(usage["completion_tokens"]! > 0)
            }
        }
    }

    @Test func errorsHaveOpenAIsShapeAndStatus() async throws {
        try await TestServer().run { client in
            try await post(client, "/v1/chat/completions", "{not json") { r in
                #expect(r.status == .badRequest)
                _ = try errorCode(r)
            }
            try await post(client, "/v1/chat/completions", #"{"messages": []}"#) { #expect($0.status == .badRequest) }
            try await post(client, "/v1/chat/completions", #"{"model": "gpt-9", "messages": [{"role": "user", "content": "x"}]}"#) { r in
                #expect(r.status == .notFound)
                let code = try errorCode(r)
                #expect(code == "model_not_found")
            }
            let long = String(repeating: "word ", count: 200)
            try await post(client, "/v1/chat/completions", #"{"model": "tiny-llama", "messages": [{"role": "user", "content": "\#(long)"}]}"#) { r in
                #expect(r.status == .badRequest)
                let code = try errorCode(r)
                #expect(code == "context_length_exceeded")
            }
            try await post(client, "/v1/chat/completions", #"{"model": "tiny-llama", "temperature": 7, "messages": [{"role": "user", "content": "x"}]}"#) {
                #expect($0.status == .badRequest)
            }
            try await post(client, "/v1/completions", #"{"model": "tiny-llama", "prompt": "a", "suffix": "b"}"#) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/v1/nothing", method: .get) { #expect($0.status == .notFound) }
        }
    }

    @Test func keysLimitsAndQuotas() async throws {
        let t = try TestServer(auth: true)
        let (_, secret) = try await t.store.createKey(name: "limited", quotaTokens: nil, rpm: 1)
        let (_, small) = try await t.store.createKey(name: "small", quotaTokens: 1, rpm: nil)
        try await t.run { client in
            try await post(client, "/v1/chat/completions", chatBody) { r in
                #expect(r.status == .unauthorized)
                let code = try errorCode(r)
                #expect(code == "invalid_api_key")
            }
            try await post(client, "/v1/chat/completions", chatBody, key: "aigc-wrong") { #expect($0.status == .unauthorized) }
            try await post(client, "/v1/chat/completions", chatBody, key: secret) { #expect($0.status == .ok) }
            try await post(client, "/v1/chat/completions", chatBody, key: secret) { r in
                #expect(r.status == .tooManyRequests)
                #expect(r.headers[.retryAfter] == "60")
                let code = try errorCode(r)
                #expect(code == "rate_limit_exceeded")
            }
            try await post(client, "/v1/chat/completions", chatBody, key: small) { #expect($0.status == .ok) }
            try await post(client, "/v1/chat/completions", chatBody, key: small) { r in
                #expect(r.status == .tooManyRequests)
                let code = try errorCode(r)
                #expect(code == "insufficient_quota")
            }
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok, "health needs no key") }
        }
        let totals = try await t.store.usageTotals(keyID: nil, since: nil)
        #expect(Set(totals.compactMap(\.keyName)) == ["limited", "small"])
    }

    @Test func completionsEmbeddingsAndJSONMode() async throws {
        try await TestServer().run { client in
            try await post(client, "/v1/completions", #"{"model": "tiny-llama", "prompt": "abc", "max_tokens": 5, "logprobs": 2, "echo": true, "temperature": 0}"#) { r in
                #expect(r.status == .ok)
                let choice = try #require((try json(r.body)["choices"] as? [[String: Any]])?.first)
                #expect((choice["text"] as? String)?.hasPrefix("abc") == true)
                let logprobs = try #require(choice["logprobs"] as? [String: Any])
                #expect((logprobs["tokens"] as? [String])?.count == (logprobs["token_logprobs"] as? [Double])?.count)
            }
            try await post(client, "/v1/embeddings", #"{"model": "tiny-llama", "input": ["hello", "world"]}"#) { r in
                #expect(r.status == .ok)
                let data = try #require(try json(r.body)["data"] as? [[String: Any]])
                #expect(data.count == 2)
                let vector = try #require(data[0]["embedding"] as? [Double])
                #expect(vector.count == 64 && abs(vector.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4)
            }
            try await post(client, "/v1/embeddings", #"{"model": "tiny-llama", "input": "x", "encoding_format": "base64"}"#) { r in
                let data = try #require(try json(r.body)["data"] as? [[String: Any]])
                #expect(Data(base64Encoded: data[0]["embedding"] as? String ?? "")?.count == 64 * 4)
            }
            let jsonBody = #"{"model": "tiny-llama", "messages": [{"role": "user", "content": "json"}], "max_tokens": 40, "seed": 3, "response_format": {"type": "json_object"}}"#
            try await post(client, "/v1/chat/completions", jsonBody) { r in
                let choice = try #require((try json(r.body)["choices"] as? [[String: Any]])?.first)
                let content = (choice["message"] as? [String: Any])?["content"] as? String ?? ""
                #expect(content.hasPrefix("{"), "the output is constrained to a JSON object: \(content)")
                if choice["finish_reason"] as? String == "stop" { #expect(try JSONSerialization.jsonObject(with: Data(content.utf8)) is [String: Any]) }
            }
        }
    }

    @Test func conversationsAreStoredWithProvenance() async throws {
        let t = try TestServer()
        try await t.run { client in
            let captured = try await post(client, "/v1/conversations", #"{"model": "tiny-llama", "title": "test"}"#) { r in
                #expect(r.status == .created)
                return try #require(try json(r.body)["id"] as? String)
            }
            try await post(client, "/v1/chat/completions", #"{"model": "tiny-llama", "conversation_id": "\#(captured)", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}"#) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/v1/conversations/\(captured)", method: .get) { r in
                let messages = try #require(try json(r.body)["messages"] as? [[String: Any]])
                #expect(messages.map { $0["role"] as? String } == ["user", "assistant"])
                let generation = try #require(messages[1]["generation"] as? String)
                #expect(generation.contains("\"seed\"") && generation.contains("ProduceID"))
            }
            try await client.execute(uri: "/v1/conversations", method: .get) { r in
                let body = try json(r.body)
                #expect((body["data"] as? [[String: Any]])?.count == 1)
            }
            try await client.execute(uri: "/v1/conversations/\(captured)", method: .delete) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/conversations/\(captured)", method: .get) { #expect($0.status == .notFound) }
            try await post(client, "/v1/chat/completions", #"{"model": "tiny-llama", "conversation_id": "missing", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2}"#) {
                #expect($0.status == .notFound)
            }
        }
    }

    @Test func theServersMaxTokensClampsRequests() async throws {
        try await TestServer(maxTokensLimit: 3).run { client in
            for body in [#"{"model": "tiny-llama", "prompt": "Hi", "max_tokens": 50, "temperature": 1, "seed": 3}"#,
                         #"{"model": "tiny-llama", "prompt": "Hi", "temperature": 1, "seed": 3}"#] {
                try await post(client, "/v1/completions", body) { r in
                    let usage = try #require(try json(r.body)["usage"] as? [String: Int])
                    #expect(usage["completion_tokens"]! <= 3)
                }
            }
        }
    }

    @Test func ollamaDialect() async throws {
        try await TestServer().run { client in
            try await client.execute(uri: "/api/tags", method: .get) { r in
                let body = try json(r.body)
                #expect((body["models"] as? [[String: Any]])?.first?["name"] as? String == "tiny-llama")
            }
            try await post(client, "/api/generate", #"{"model": "tiny-llama", "prompt": "Hi", "options": {"num_predict": 4}}"#) { r in
                #expect(r.headers[.contentType] == "application/x-ndjson")
                let lines = String(buffer: r.body).split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                #expect(lines.last??["done"] as? Bool == true && lines.last??["eval_count"] as? Int == 4)
                #expect(lines.dropLast().allSatisfy { $0?["done"] as? Bool == false && $0?["response"] is String })
            }
            try await post(client, "/api/chat", #"{"model": "tiny-llama", "stream": false, "messages": [{"role": "user", "content": "Hi"}], "options": {"num_predict": 3}}"#) { r in
                let body = try json(r.body)
                #expect(body["done"] as? Bool == true && (body["message"] as? [String: Any])?["role"] as? String == "assistant")
            }
        }
    }

    @Test func aFullQueueAnswers429WithRetryAfter() async throws {
        var configuration = BatchEngine.Configuration()
        configuration.maxSequences = 1
        configuration.maxQueued = 0
        try await TestServer(configuration: configuration).run { client in
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        try await post(client, "/v1/chat/completions", #"{"model": "tiny-llama", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 100, "temperature": 1}"#) {
                            if $0.status == .tooManyRequests { #expect($0.headers[.retryAfter] != nil) }
                            return $0.status
                        }
                    }
                }
                var statuses: [HTTPResponse.Status] = []
                for try await s in group { statuses.append(s) }
                #expect(statuses.contains(.tooManyRequests), "\(statuses)")
            }
        }
    }

    @Test func metricsCountRequestsAndTokens() async throws {
        try await TestServer().run { client in
            try await post(client, "/v1/chat/completions", chatBody) { #expect($0.status == .ok) }
            try await client.execute(uri: "/metrics", method: .get) { r in
                let text = String(buffer: r.body)
                #expect(text.contains("aigc_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"} 1"))
                #expect(text.contains("aigc_completion_tokens_total{model=\"tiny-llama\"}"))
                #expect(text.contains("aigc_request_duration_seconds_bucket"))
                #expect(text.contains("aigc_queue_depth{model=\"tiny-llama\"} 0"))
            }
        }
    }
}
