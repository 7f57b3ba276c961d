// Ollama's API as a second dialect (https://github.com/ollama/ollama/blob/main/docs/api.md):
// /api/tags, /api/generate and /api/chat, streaming newline-delimited JSON by default.
import AIGCGeneration
import AIGCTokenizers
import Foundation
import Hummingbird
import NIOCore

struct OllamaController {
    let server: ServerContext

    struct Options: Codable, Sendable {
        var temperature: Float?
        var topP: Float?
        var topK: Int?
        var minP: Float?
        var repeatPenalty: Float?
        var repeatLastN: Int?
        var presencePenalty: Float?
        var frequencyPenalty: Float?
        var seed: UInt64?
        var numPredict: Int?
        var stop: [String]?
        enum CodingKeys: String, CodingKey {
            case temperature, topP = "top_p", topK = "top_k", minP = "min_p", repeatPenalty = "repeat_penalty", repeatLastN = "repeat_last_n"
            case presencePenalty = "presence_penalty", frequencyPenalty = "frequency_penalty", seed, numPredict = "num_predict", stop
        }
    }

    struct GenerateRequest: Codable, Sendable {
        var model: String
        var prompt: String
        var system: String?
        var raw: Bool?
        var stream: Bool?
        var format: String?
        var options: Options?
    }

    struct ChatRequest: Codable, Sendable {
        var model: String
        var messages: [ChatMessage]
        var stream: Bool?
        var format: String?
        var options: Options?
    }

    func addRoutes(to router: Router<AIGCRequestContext>) {
        router.get("/api/tags") { _, _ in try tags() }
        router.get("/api/version") { _, _ in try server.json(["version": AigcServerVersion.string]) }
        router.post("/api/generate") { request, context in
            let body = try await request.decode(as: GenerateRequest.self, context: context)
            let model = try server.models.resolve(body.model)
            var generation = try generationRequest(body.options, format: body.format)
            if body.raw == true {
                generation.prompt = body.prompt
            } else {
                var messages = body.system.map { [ChatMessage(role: "system", content: $0)] } ?? []
                messages.append(ChatMessage(role: "user", content: body.prompt))
                generation.promptTokens = try model.promptTokens(for: messages)
            }
            return try await respond(model, generation, endpoint: "/api/generate", context: context, stream: body.stream ?? true, chat: false)
        }
        router.post("/api/chat") { request, context in
            let body = try await request.decode(as: ChatRequest.self, context: context)
            let model = try server.models.resolve(body.model)
            guard !body.messages.isEmpty else { throw APIError.invalidRequest("'messages' must not be empty.", param: "messages") }
            var generation = try generationRequest(body.options, format: body.format)
            generation.promptTokens = try model.promptTokens(for: body.messages)
            return try await respond(model, generation, endpoint: "/api/chat", context: context, stream: body.stream ?? true, chat: true)
        }
    }

    func tags() throws -> Response {
        let formatter = ISO8601DateFormatter()
        let models: [[String: Any]] = server.models.models.map { m in
            let info = m.loaded.info
            return ["name": m.name, "model": m.name, "modified_at": formatter.string(from: Date(timeIntervalSince1970: TimeInterval(m.created))),
                    "size": info.fileBytes, "digest": info.sha256 ?? "",
                    "details": ["format": info.format, "family": info.architecture, "parameter_size": String(format: "%.0fM", Double(info.parameters) / 1e6),
                                "quantization_level": info.quantization]]
        }
        return Self.rawJSON(["models": models])
    }

    func generationRequest(_ o: Options?, format: String?) throws -> GenerationRequest {
        if let format, format != "json" { throw APIError.invalidRequest("format must be \"json\".", param: "format") }
        var r = try server.generationRequest(SamplingFields(temperature: o?.temperature, topP: o?.topP, topK: o?.topK, minP: o?.minP,
                                                            repeatPenalty: o?.repeatPenalty, presencePenalty: o?.presencePenalty,
                                                            frequencyPenalty: o?.frequencyPenalty, seed: o?.seed, logitBias: nil),
                                             maxTokens: (o?.numPredict).flatMap { $0 < 0 ? nil : $0 }, stop: o?.stop ?? [], logprobs: nil)
        if let n = o?.repeatLastN { r.sampling.repeatLastN = n }
        r.jsonObject = format == "json"
        return r
    }

    /// Streams NDJSON lines ({"response"|"message": ..., "done": false}) and a final line with counts and durations.
    func respond(_ model: ServedModel, _ generation: GenerationRequest, endpoint: String, context: AIGCRequestContext,
                 stream: Bool, chat: Bool) async throws -> Response {
        try await server.accounts.checkLimits(context.caller)
        let call = Call(server: server, model: model, endpoint: endpoint, caller: context.caller, id: "ollama-" + Call.newID())
        let streams = try call.submit(generation, n: 1)
        let createdAt = ISO8601DateFormatter().string(from: Date())
        @Sendable func line(_ text: String, done: GenerationResult?) -> [String: Any] {
            var o: [String: Any] = ["model": model.name, "created_at": createdAt, "done": done != nil]
            if chat { o["message"] = ["role": "assistant", "content": text] } else { o["response"] = text }
            if let r = done {
                o["done_reason"] = r.finishReason == .length ? "length" : "stop"
                o["prompt_eval_count"] = r.promptTokens.count
                o["eval_count"] = r.tokens.count
                o["prompt_eval_duration"] = Int(r.timings.promptMs * 1e6)
                o["eval_duration"] = Int(r.timings.generationMs * 1e6)
                o["total_duration"] = Int((r.timings.promptMs + r.timings.generationMs) * 1e6)
            }
            return o
        }
        if !stream {
            let result = try await call.collect(streams)[0]
            try await call.finish(usage: call.usage([result]), conversation: nil, reply: nil, label: call.label(text: result.text))
            return Self.rawJSON(line(result.text, done: result))
        }
        let body = ResponseBody { writer in
            do {
                for try await (_, event) in call.merge(streams) {
                    switch event {
                    case let .token(text, _): try await writer.write(Self.ndjson(line(text, done: nil)))
                    case let .done(result):
                        try await call.finish(usage: call.usage([result]), conversation: nil, reply: nil, label: call.label(text: result.text))
                        try await writer.write(Self.ndjson(line("", done: result)))
                    }
                }
            } catch {
                let e = APIError.from(error)
                try? await call.finishFailed(e)
                try await writer.write(Self.ndjson(["error": e.message]))
            }
            try await writer.finish(nil)
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/x-ndjson"
        return Response(status: .ok, headers: headers, body: body)
    }

    static func ndjson(_ object: [String: Any]) -> ByteBuffer {
        var data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        data.append(0x0A)
        return ByteBuffer(bytes: data)
    }

    static func rawJSON(_ object: [String: Any]) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ndjson(object)))
    }
}
