// Call: one generation request as the API serves it — its n choices on the model's engine, merged into
// one event stream, written as Server-Sent Events or collected; usage and the conversation are stored
// before the final bytes go out.
import AIGCFormats
import AIGCGeneration
import AIGCSampling
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

struct Call: Sendable {
    let server: ServerContext
    let model: ServedModel
    let endpoint: String
    let caller: Caller?
    let id: String
    let created = Int(Date().timeIntervalSince1970)
    let started = Date()

    static func newID() -> String { UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24).description }

    static func reason(_ r: FinishReason) -> String { r == .length ? "length" : "stop" }

    /// Starts n choices (seeds seed, seed+1, ... so choices differ but stay reproducible).
    func submit(_ request: GenerationRequest, n: Int) throws -> [AsyncThrowingStream<BatchEngine.Event, Error>] {
        let seed = request.sampling.seed ?? SeededRandom.randomSeed()
        return try (0..<n).map { i in
            var r = request
            r.sampling.seed = seed &+ UInt64(i)
            return try model.engine.submit(r)
        }
    }

    /// Events of all choices, tagged with the choice index. Ending the iteration (a client that went
    /// away) cancels every choice.
    func merge(_ streams: [AsyncThrowingStream<BatchEngine.Event, Error>]) -> AsyncThrowingStream<(Int, BatchEngine.Event), Error> {
        let (merged, continuation) = AsyncThrowingStream<(Int, BatchEngine.Event), Error>.makeStream()
        let forwarder = Task {
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (i, s) in streams.enumerated() {
                        group.addTask { for try await e in s { continuation.yield((i, e)) } }
                    }
                    try await group.waitForAll()
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in forwarder.cancel() }
        return merged
    }

    func collect(_ streams: [AsyncThrowingStream<BatchEngine.Event, Error>]) async throws -> [GenerationResult] {
        var results = [GenerationResult?](repeating: nil, count: streams.count)
        do {
            for try await (i, event) in merge(streams) { if case let .done(r) = event { results[i] = r } }
        } catch {
            try? await finishFailed(APIError.from(error))
            throw error
        }
        return results.map { $0! }
    }

    func usage(_ results: [GenerationResult]) -> Usage {
        Usage(prompt: results.first?.promptTokens.count ?? 0, completion: results.reduce(0) { $0 + $1.tokens.count })
    }

    /// The implicit label of a text response: ProduceID is the response id, ReservedCode1 a SHA-256 of the text.
    func label(text: String) -> AIGCLabel {
        let digest = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
        return AIGCLabel(contentProducer: server.producer, produceID: id, reservedCode1: "sha256:" + digest)
    }

    /// Records usage and the conversation (the part of a response that must be durable first).
    func finish(usage: Usage, conversation: ConversationRecord?, reply: GenerationResult?, label: AIGCLabel, status: Int = 200) async throws {
        try await server.accounts.recordUsage(caller: caller, model: model.name, endpoint: endpoint, prompt: usage.promptTokens,
                                              completion: usage.completionTokens, started: started, status: status)
        server.metrics.tokens(model: model.name, prompt: usage.promptTokens, completion: usage.completionTokens)
        if let conversation, let reply { try await server.accounts.saveConversation(conversation, reply: reply, label: label) }
    }

    func finishFailed(_ error: APIError) async throws {
        try await server.accounts.recordUsage(caller: caller, model: model.name, endpoint: endpoint, prompt: 0, completion: 0,
                                              started: started, status: Int(error.status.code))
    }

    /// A Server-Sent Events response: a role chunk per choice, then text deltas, a finish chunk per
    /// choice, the usage chunk if asked, and `data: [DONE]`.
    func stream<Chunk: Encodable & Sendable>(_ streams: [AsyncThrowingStream<BatchEngine.Event, Error>], includeUsage: Bool,
                                              conversation: ConversationRecord?,
                                              chunk: @escaping @Sendable (Int, ChatDelta, TokenLogprob?, String?) -> Chunk,
                                              usageChunk: @escaping @Sendable (Usage, AIGCLabel) -> Chunk) -> Response {
        let call = self
        let body = ResponseBody { writer in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes]
            func send(_ value: some Encodable) async throws {
                try await writer.write(EventStream.event(value, encoder: encoder))
            }
            for i in streams.indices { try await send(chunk(i, ChatDelta(role: "assistant", content: ""), nil, nil)) }
            var results = [GenerationResult?](repeating: nil, count: streams.count)
            var firstToken = true
            do {
                for try await (i, event) in call.merge(streams) {
                    switch event {
                    case let .token(text, logprob):
                        if firstToken {
                            firstToken = false
                            call.server.metrics.firstToken(model: call.model.name, seconds: Date().timeIntervalSince(call.started))
                        }
                        try await send(chunk(i, ChatDelta(role: nil, content: text), logprob, nil))
                    case let .done(result):
                        results[i] = result
                        try await send(chunk(i, ChatDelta(role: nil, content: nil), nil, Call.reason(result.finishReason)))
                    }
                }
            } catch {
                let apiError = APIError.from(error)
                try? await call.finishFailed(apiError)
                try await send(ErrorBody(error: .init(message: apiError.message, type: apiError.type, param: apiError.param, code: apiError.code)))
                try await writer.write(EventStream.done)
                try await writer.finish(nil)
                return
            }
            let finished = results.compactMap { $0 }
            let usage = call.usage(finished)
            let label = call.label(text: finished.map(\.text).joined(separator: "\n"))
            try await call.finish(usage: usage, conversation: conversation, reply: finished.first, label: label)
            if includeUsage { try await send(usageChunk(usage, label)) }
            try await writer.write(EventStream.done)
            try await writer.finish(nil)
        }
        return EventStream.response(body, label: AIGCLabel(contentProducer: server.producer, produceID: id))
    }
}
