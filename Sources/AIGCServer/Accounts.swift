// Accounts: the server's side of the store — who is calling (API keys), whether they may (quota and
// requests per minute), what they used (one usage row per request), and the conversations kept.
import AIGCFormats
import AIGCGeneration
import AIGCStore
import AIGCTokenizers
import Foundation

/// The authenticated key behind a request.
public struct Caller: Sendable {
    public let keyID: Int64
    public let name: String
    public let quotaTokens: Int64?
    public let rpm: Int?
}

/// A chat exchange to keep: the request's messages and parameters (the reply comes with `saveConversation`).
struct ConversationRecord: Sendable {
    let id: String?
    let messages: [ChatMessage]
    let parameters: GenerationRequest
    let model: String
}

public final class Accounts: Sendable {
    public let store: any Store
    /// Whether requests must carry a valid API key.
    public let authRequired: Bool

    public init(store: any Store, authRequired: Bool) {
        self.store = store
        self.authRequired = authRequired
    }

    /// The caller of a request with this `Authorization` (or `x-api-key`) value.
    func authenticate(_ credential: String?) async throws -> Caller? {
        guard authRequired else { return nil }
        guard var secret = credential?.trimmingCharacters(in: .whitespaces), !secret.isEmpty else {
            throw APIError.unauthenticated("Missing API key: send 'Authorization: Bearer <key>' (create one with `aigc keys create`).")
        }
        if secret.lowercased().hasPrefix("bearer ") { secret = String(secret.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
        guard let key = try await store.authenticate(secret: secret) else {
            throw APIError.unauthenticated("Incorrect or revoked API key.")
        }
        return Caller(keyID: key.id, name: key.name, quotaTokens: key.quotaTokens, rpm: key.rpm)
    }

    /// Refuses a request from a caller over its requests-per-minute or token quota.
    func checkLimits(_ caller: Caller?) async throws {
        guard let caller else { return }
        if let rpm = caller.rpm {
            let recent = try await store.requestCount(keyID: caller.keyID, since: Date().addingTimeInterval(-60))
            if recent >= rpm {
                throw APIError.rateLimited("Rate limit reached for key '\(caller.name)': \(rpm) requests per minute.", retryAfter: 60)
            }
        }
        if let quota = caller.quotaTokens {
            let used = try await store.tokensUsed(keyID: caller.keyID, since: nil)
            if used >= quota {
                throw APIError.quotaExceeded("Key '\(caller.name)' has used its quota of \(quota) tokens (\(used) used).")
            }
        }
    }

    /// One usage row, durable when this returns.
    func recordUsage(caller: Caller?, model: String, endpoint: String, prompt: Int, completion: Int, started: Date, status: Int) async throws {
        let event = UsageEvent(keyID: caller?.keyID, model: model, endpoint: endpoint, promptTokens: prompt, completionTokens: completion,
                               latencyMilliseconds: max(0, Int(Date().timeIntervalSince(started) * 1000)), status: status)
        _ = try await store.recordUsage(event)
    }

    /// Stores a chat exchange with its generation parameters and label (provenance): appended to
    /// `record.id` when given, otherwise as a new conversation.
    func saveConversation(_ record: ConversationRecord, reply: GenerationResult, label: AIGCLabel) async throws {
        let p = record.parameters
        let parameters = try Self.json([
            "temperature": .number(Double(p.sampling.temperature)), "top_p": .number(Double(p.sampling.topP)),
            "top_k": .number(Double(p.sampling.topK)), "min_p": .number(Double(p.sampling.minP)),
            "max_tokens": p.maxTokens.map { .number(Double($0)) } ?? .null, "json_object": .bool(p.jsonObject),
        ])
        let generation = try Self.json([
            "model": .string(record.model), "seed": .string(String(reply.seed)), "finish_reason": .string(reply.finishReason.rawValue),
            "prompt_tokens": .number(Double(reply.promptTokens.count)), "completion_tokens": .number(Double(reply.tokens.count)),
            "parameters": .string(parameters), "aigc": .string(label.json),
        ])
        let id: String
        var new: [ChatMessage]
        if let existing = record.id {
            _ = try await store.conversation(id: existing)
            id = existing
            new = record.messages.last.map { [$0] } ?? []
        } else {
            let system = record.messages.first { $0.role == "system" }?.content
            let title = String((record.messages.last { $0.role == "user" }?.content ?? "Conversation").prefix(60))
            id = try await store.createConversation(NewConversation(title: title, model: record.model, systemPrompt: system, parameters: parameters)).id
            new = record.messages.filter { $0.role != "system" }
        }
        for m in new { _ = try await store.appendMessage(to: id, NewMessage(role: MessageRole(rawValue: m.role) ?? .user, content: m.content)) }
        _ = try await store.appendMessage(to: id, NewMessage(role: .assistant, content: reply.text, generation: generation))
    }

    enum JSONValue { case string(String), number(Double), bool(Bool), null }

    static func json(_ object: [String: JSONValue]) throws -> String {
        let plain = object.mapValues { v -> Any in
            switch v {
            case let .string(s): s
            case let .number(n): n
            case let .bool(b): b
            case .null: NSNull()
            }
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: plain, options: [.sortedKeys]), as: UTF8.self)
    }
}
