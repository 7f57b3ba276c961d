// OpenAI chat completion request and response bodies (https://platform.openai.com/docs/api-reference/chat),
// decoded leniently where the API allows several shapes (string or parts content, string or array stop).
import AIGCFormats
import AIGCGeneration
import Foundation

/// A string, or a list of strings (`stop`, `input`, `prompt`).
public enum StringOrArray: Codable, Sendable, Equatable {
    case one(String)
    case many([String])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { self = .one(s); return }
        self = .many(try c.decode([String].self))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case let .one(s): try c.encode(s)
        case let .many(a): try c.encode(a)
        }
    }

    public var values: [String] {
        switch self {
        case let .one(s): [s]
        case let .many(a): a
        }
    }
}

public struct ChatRequestMessage: Codable, Sendable {
    public var role: String
    public var content: String
    public var name: String?

    enum CodingKeys: String, CodingKey { case role, content, name }
    struct Part: Codable { let type: String; let text: String? }

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        role = try c.decode(String.self, forKey: .role)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        if let text = try? c.decodeIfPresent(String.self, forKey: .content) {
            content = text
        } else if let parts = try? c.decode([Part].self, forKey: .content) {
            guard parts.allSatisfy({ $0.type == "text" }) else {
                throw DecodingError.dataCorruptedError(forKey: .content, in: c, debugDescription: "only text content parts are supported")
            }
            content = parts.compactMap(\.text).joined()
        } else {
            content = ""
        }
    }
}

public struct ResponseFormat: Codable, Sendable {
    public var type: String
}

public struct StreamOptions: Codable, Sendable {
    public var includeUsage: Bool?
    enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
}

/// Sampling fields shared by chat and text completions (plus aigc's extras: top_k, min_p, repeat_penalty).
public struct SamplingFields: Codable, Sendable {
    public var temperature: Float?
    public var topP: Float?
    public var topK: Int?
    public var minP: Float?
    public var repeatPenalty: Float?
    public var presencePenalty: Float?
    public var frequencyPenalty: Float?
    public var seed: UInt64?
    public var logitBias: [String: Float]?

    enum CodingKeys: String, CodingKey {
        case temperature, topP = "top_p", topK = "top_k", minP = "min_p", repeatPenalty = "repeat_penalty"
        case presencePenalty = "presence_penalty", frequencyPenalty = "frequency_penalty", seed, logitBias = "logit_bias"
    }
}

public struct ChatCompletionRequest: Codable, Sendable {
    public var model: String
    public var messages: [ChatRequestMessage]
    public var stream: Bool?
    public var streamOptions: StreamOptions?
    public var maxTokens: Int?
    public var maxCompletionTokens: Int?
    public var n: Int?
    public var stop: StringOrArray?
    public var logprobs: Bool?
    public var topLogprobs: Int?
    public var responseFormat: ResponseFormat?
    public var user: String?
    /// aigc extension: append this exchange to a stored conversation.
    public var conversationID: String?
    public var sampling: SamplingFields

    enum CodingKeys: String, CodingKey {
        case model, messages, stream, streamOptions = "stream_options", maxTokens = "max_tokens", maxCompletionTokens = "max_completion_tokens"
        case n, stop, logprobs, topLogprobs = "top_logprobs", responseFormat = "response_format", user, conversationID = "conversation_id"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        messages = try c.decode([ChatRequestMessage].self, forKey: .messages)
        stream = try c.decodeIfPresent(Bool.self, forKey: .stream)
        streamOptions = try c.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens)
        maxCompletionTokens = try c.decodeIfPresent(Int.self, forKey: .maxCompletionTokens)
        n = try c.decodeIfPresent(Int.self, forKey: .n)
        stop = try c.decodeIfPresent(StringOrArray.self, forKey: .stop)
        logprobs = try c.decodeIfPresent(Bool.self, forKey: .logprobs)
        topLogprobs = try c.decodeIfPresent(Int.self, forKey: .topLogprobs)
        responseFormat = try c.decodeIfPresent(ResponseFormat.self, forKey: .responseFormat)
        user = try c.decodeIfPresent(String.self, forKey: .user)
        conversationID = try c.decodeIfPresent(String.self, forKey: .conversationID)
        sampling = try SamplingFields(from: decoder)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(messages, forKey: .messages)
        try c.encodeIfPresent(stream, forKey: .stream)
        try c.encodeIfPresent(maxTokens, forKey: .maxTokens)
        try c.encodeIfPresent(n, forKey: .n)
        try c.encodeIfPresent(stop, forKey: .stop)
        try sampling.encode(to: encoder)
    }
}

public struct TopLogprob: Codable, Sendable {
    public let token: String
    public let logprob: Float
    public let bytes: [UInt8]
}

public struct ChatLogprob: Codable, Sendable {
    public let token: String
    public let logprob: Float
    public let bytes: [UInt8]
    public let topLogprobs: [TopLogprob]
    enum CodingKeys: String, CodingKey { case token, logprob, bytes, topLogprobs = "top_logprobs" }

    init(_ l: TokenLogprob) {
        token = l.text
        logprob = l.logprob
        bytes = Array(l.text.utf8)
        topLogprobs = l.top.map { TopLogprob(token: $0.text, logprob: $0.logprob, bytes: Array($0.text.utf8)) }
    }
}

public struct ChatChoiceLogprobs: Codable, Sendable {
    public let content: [ChatLogprob]
}

public struct Usage: Codable, Sendable {
    public let promptTokens: Int
    public let completionTokens: Int
    public let totalTokens: Int
    enum CodingKeys: String, CodingKey { case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", totalTokens = "total_tokens" }
    public init(prompt: Int, completion: Int) {
        promptTokens = prompt
        completionTokens = completion
        totalTokens = prompt + completion
    }
}

public struct AssistantMessage: Codable, Sendable {
    public let role: String
    public let content: String
}

public struct ChatChoice: Codable, Sendable {
    public let index: Int
    public let message: AssistantMessage
    public let logprobs: ChatChoiceLogprobs?
    public let finishReason: String
    enum CodingKeys: String, CodingKey { case index, message, logprobs, finishReason = "finish_reason" }
}

public struct ChatCompletionResponse: Codable, Sendable {
    public let id: String
    public var object = "chat.completion"
    public let created: Int
    public let model: String
    public let choices: [ChatChoice]
    public let usage: Usage
    /// The implicit AI-generated label (GB 45438-2025) of this response.
    public let aigc: AIGCLabel
    public var systemFingerprint = "aigc-" + AigcServerVersion.string
    enum CodingKeys: String, CodingKey { case id, object, created, model, choices, usage, aigc, systemFingerprint = "system_fingerprint" }
}

public struct ChatDelta: Codable, Sendable {
    public var role: String?
    public var content: String?
}

public struct ChatChunkChoice: Codable, Sendable {
    public let index: Int
    public let delta: ChatDelta
    public let logprobs: ChatChoiceLogprobs?
    public let finishReason: String?
    enum CodingKeys: String, CodingKey { case index, delta, logprobs, finishReason = "finish_reason" }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index)
        try c.encode(delta, forKey: .delta)
        try c.encode(logprobs, forKey: .logprobs)
        try c.encode(finishReason, forKey: .finishReason)
    }
}

public struct ChatCompletionChunk: Codable, Sendable {
    public let id: String
    public var object = "chat.completion.chunk"
    public let created: Int
    public let model: String
    public let choices: [ChatChunkChoice]
    public var usage: Usage?
    public var aigc: AIGCLabel?
    public var systemFingerprint = "aigc-" + AigcServerVersion.string
    enum CodingKeys: String, CodingKey { case id, object, created, model, choices, usage, aigc, systemFingerprint = "system_fingerprint" }
}

public enum AigcServerVersion {
    public static let string = "0.1.0"
}
