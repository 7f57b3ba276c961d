// The OpenAI-compatible routes: /v1/models, /v1/chat/completions, /v1/completions, /v1/embeddings.
// Generation runs on each model's BatchEngine; streams are Server-Sent Events ending `data: [DONE]`.
// Usage is recorded before the final bytes go out, so a client that saw a response complete always
// has its usage row.
import AIGCFormats
import AIGCGeneration
import AIGCSampling
import AIGCTokenizers
import Foundation
import Hummingbird

struct OpenAIController {
    let server: ServerContext

    func addRoutes(to router: Router<AIGCRequestContext>) {
        router.get("/v1/models") { _, _ in try server.json(ModelList(data: server.models.models.map(server.modelObject))) }
        router.get("/v1/models/:id") { _, context in
            try server.json(server.modelObject(try server.models.resolve(context.parameters.require("id"))))
        }
        router.post("/v1/chat/completions") { request, context in try await chat(request, context) }
        router.post("/v1/completions") { request, context in try await completions(request, context) }
        router.post("/v1/embeddings") { request, context in try await embeddings(request, context) }
    }

    // MARK: chat

    func chat(_ request: Request, _ context: AIGCRequestContext) async throws -> Response {
        let body = try await request.decode(as: ChatCompletionRequest.self, context: context)
        let model = try server.models.resolve(body.model)
        guard !body.messages.isEmpty else { throw APIError.invalidRequest("'messages' must not be empty.", param: "messages") }
        let n = body.n ?? 1
        guard (1...8).contains(n) else { throw APIError.invalidRequest("'n' must be 1...8.", param: "n") }
        if body.topLogprobs != nil && body.logprobs != true {
            throw APIError.invalidRequest("'top_logprobs' needs 'logprobs': true.", param: "top_logprobs")
        }
        if let f = body.responseFormat?.type, f != "text" && f != "json_object" {
            throw APIError.invalidRequest("response_format type '\(f)' is not supported (text, json_object).", param: "response_format")
        }
        let messages = body.messages.map { ChatMessage(role: $0.role, content: $0.content) }
        var generation = try server.generationRequest(body.sampling, maxTokens: body.maxCompletionTokens ?? body.maxTokens,
                                                      stop: body.stop?.values ?? [], logprobs: body.logprobs == true ? (body.topLogprobs ?? 0) : nil)
        generation.promptTokens = try model.promptTokens(for: messages)
        generation.jsonObject = body.responseFormat?.type == "json_object"
        try await server.accounts.checkLimits(context.caller)
        // An unknown conversation is refused before any compute is spent on it.
        if let id = body.conversationID { _ = try await server.accounts.store.conversation(id: id) }
        let call = Call(server: server, model: model, endpoint: "/v1/chat/completions", caller: context.caller, id: "chatcmpl-" + Call.newID())
        let streams = try call.submit(generation, n: n)
        let record = ConversationRecord(id: body.conversationID, messages: messages, parameters: generation, model: model.name)
        if body.stream == true {
            return call.stream(streams, includeUsage: body.streamOptions?.includeUsage == true, conversation: record, chunk: { choice, delta, logprob, finish in
                ChatCompletionChunk(id: call.id, created: call.created, model: model.name,
                                    choices: [ChatChunkChoice(index: choice, delta: delta, logprobs: logprob.map { ChatChoiceLogprobs(content: [ChatLogprob($0)]) },
                                                              finishReason: finish)])
            }, usageChunk: { usage, label in
                var chunk = ChatCompletionChunk(id: call.id, created: call.created, model: model.name, choices: [])
                chunk.usage = usage
                chunk.aigc = label
                return chunk
            })
        }
        let results = try await call.collect(streams)
        let usage = call.usage(results)
        let label = call.label(text: results.map(\.text).joined(separator: "\n"))
        try await call.finish(usage: usage, conversation: record, reply: results.first, label: label)
        let choices = results.enumerated().map { i, r in
            ChatChoice(index: i, message: AssistantMessage(role: "assistant", content: r.text),
                       logprobs: r.logprobs.map { ChatChoiceLogprobs(content: $0.map(ChatLogprob.init)) }, finishReason: Call.reason(r.finishReason))
        }
        return try server.json(ChatCompletionResponse(id: call.id, created: call.created, model: model.name, choices: choices, usage: usage, aigc: label),
                               label: label)
    }

    // MARK: text completions

    func completions(_ request: Request, _ context: AIGCRequestContext) async throws -> Response {
        let body = try await request.decode(as: CompletionRequest.self, context: context)
        let model = try server.models.resolve(body.model)
        guard body.prompt.count == 1 else { throw APIError.invalidRequest("Send one prompt per request.", param: "prompt") }
        if body.suffix != nil { throw APIError.invalidRequest("'suffix' (insertion) is not supported.", param: "suffix") }
        let n = body.n ?? 1
        guard (1...8).contains(n) else { throw APIError.invalidRequest("'n' must be 1...8.", param: "n") }
        if let l = body.logprobs, !(0...20).contains(l) { throw APIError.invalidRequest("'logprobs' must be 0...20.", param: "logprobs") }
        var generation = try server.generationRequest(body.sampling, maxTokens: body.maxTokens ?? 16, stop: body.stop?.values ?? [], logprobs: body.logprobs)
        switch body.prompt {
        case let .texts(t): generation.prompt = t[0]
        case let .tokens(t): generation.promptTokens = t[0]
        }
        try await server.accounts.checkLimits(context.caller)
        let call = Call(server: server, model: model, endpoint: "/v1/completions", caller: context.caller, id: "cmpl-" + Call.newID())
        let streams = try call.submit(generation, n: n)
        let echo = body.echo == true ? model.loaded.tokenizer.decode(try TextGenerator(model.loaded).promptTokens(generation)) : ""
        if body.stream == true {
            return call.stream(streams, includeUsage: body.streamOptions?.includeUsage == true, conversation: nil, chunk: { choice, delta, logprob, finish in
                CompletionResponse(id: call.id, created: call.created, model: model.name,
                                   choices: [CompletionChoice(text: delta.content ?? "", index: choice,
                                                              logprobs: logprob.map { Self.legacyLogprobs([$0], start: 0) }, finishReason: finish)])
            }, usageChunk: { usage, label in
                var r = CompletionResponse(id: call.id, created: call.created, model: model.name, choices: [])
                r.usage = usage
                r.aigc = label
                return r
            })
        }
        let results = try await call.collect(streams)
        let usage = call.usage(results)
        let label = call.label(text: results.map(\.text).joined(separator: "\n"))
        try await call.finish(usage: usage, conversation: nil, reply: nil, label: label)
        let choices = results.enumerated().map { i, r in
            CompletionChoice(text: echo + r.text, index: i, logprobs: r.logprobs.map { Self.legacyLogprobs($0, start: echo.utf8.count) },
                             finishReason: Call.reason(r.finishReason))
        }
        var response = CompletionResponse(id: call.id, created: call.created, model: model.name, choices: choices)
        response.usage = usage
        response.aigc = label
        return try server.json(response, label: label)
    }

    static func legacyLogprobs(_ l: [TokenLogprob], start: Int) -> CompletionLogprobs {
        var offsets: [Int] = []
        var offset = start
        for t in l { offsets.append(offset); offset += t.text.utf8.count }
        return CompletionLogprobs(tokens: l.map(\.text), tokenLogprobs: l.map(\.logprob),
                                  topLogprobs: l.map { Dictionary($0.top.map { ($0.text, $0.logprob) }, uniquingKeysWith: max) }, textOffset: offsets)
    }

    // MARK: embeddings

    func embeddings(_ request: Request, _ context: AIGCRequestContext) async throws -> Response {
        let body = try await request.decode(as: EmbeddingRequest.self, context: context)
        let model = try server.models.resolve(body.model)
        if let f = body.encodingFormat, f != "float" && f != "base64" {
            throw APIError.invalidRequest("encoding_format must be float or base64.", param: "encoding_format")
        }
        guard (1...256).contains(body.input.count) else { throw APIError.invalidRequest("'input' must hold 1...256 items.", param: "input") }
        try await server.accounts.checkLimits(context.caller)
        let started = Date()
        let inputs: [[Int]]
        switch body.input {
        case let .texts(t): inputs = t.map { model.loaded.tokenizer.encode($0, addSpecial: true, parseSpecial: false) }
        case let .tokens(t): inputs = t
        }
        for (i, tokens) in inputs.enumerated() {
            guard !tokens.isEmpty else { throw APIError.invalidRequest("input \(i) is empty.", param: "input") }
            guard tokens.count < model.loaded.model.contextLength else {
                throw APIError.from(GenerationError.promptTooLong(tokens: tokens.count, context: model.loaded.model.contextLength))
            }
        }
        let vectors = try await model.engine.perform { loaded in try inputs.map { try Embeddings.pooled(loaded, tokens: $0) } }
        let data = vectors.enumerated().map { i, v -> Embedding in
            let vector = body.dimensions.map { Array(v.prefix(max(1, $0))) } ?? v
            if body.encodingFormat == "base64" {
                return Embedding(index: i, embedding: .base64(vector.withUnsafeBytes { Data($0).base64EncodedString() }))
            }
            return Embedding(index: i, embedding: .floats(vector))
        }
        let tokens = inputs.reduce(0) { $0 + $1.count }
        try await server.accounts.recordUsage(caller: context.caller, model: model.name, endpoint: "/v1/embeddings", prompt: tokens,
                                              completion: 0, started: started, status: 200)
        server.metrics.tokens(model: model.name, prompt: tokens, completion: 0)
        return try server.json(EmbeddingResponse(data: data, model: model.name, usage: EmbeddingUsage(promptTokens: tokens, totalTokens: tokens)))
    }
}
