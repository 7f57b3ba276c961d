// OpenAI text completion, embeddings, models and error bodies.
import AIGCFormats
import Foundation

/// `prompt` / `input`: a string, strings, token ids, or lists of token ids.
public enum PromptInput: Codable, Sendable {
    case texts([String])
    case tokens([[Int]])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { self = .texts([s]); return }
        if let a = try? c.decode([String].self) { self = .texts(a); return }
        if let t = try? c.decode([Int].self) { self = .tokens([t]); return }
        self = .tokens(try c.decode([[Int]].self))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case let .texts(t): try c.encode(t)
        case let .tokens(t): try c.encode(t)
        }
    }

    public var count: Int {
        switch self {
        case let .texts(t): t.count
        case let .tokens(t): t.count
        }
    }
}

public struct CompletionRequest: Codable, Sendable {
    public var model: String
    public var prompt: PromptInput
    public var maxTokens: Int?
    public var n: Int?
    public var stream: Bool?
    public var streamOptions: StreamOptions?
    public var logprobs: Int?
    public var echo: Bool?
    public var stop: StringOrArray?
    public var suffix: String?
    public var sampling: SamplingFields

    enum CodingKeys: String, CodingKey {
        case model, prompt, maxTokens = "max_tokens", n, stream, streamOptions = "stream_options", logprobs, echo, stop, suffix
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        prompt = try c.decode(PromptInput.self, forKey: .prompt)
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens)
        n = try c.decodeIfPresent(Int.self, forKey: .n)
        stream = try c.decodeIfPresent(Bool.self, forKey: .stream)
        streamOptions = try c.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)
        logprobs = try c.decodeIfPresent(Int.self, forKey: .logprobs)
        echo = try c.decodeIfPresent(Bool.self, forKey: .echo)
        stop = try c.decodeIfPresent(StringOrArray.self, forKey: .stop)
        suffix = try c.decodeIfPresent(String.self, forKey: .suffix)
        sampling = try SamplingFields(from: decoder)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(prompt, forKey: .prompt)
        try c.encodeIfPresent(maxTokens, forKey: .maxTokens)
        try sampling.encode(to: encoder)
    }
}

/// Text-completion log-probabilities (the legacy format).
public struct CompletionLogprobs: Codable, Sendable {
    public let tokens: [String]
    public let tokenLogprobs: [Float]
    public let topLogprobs: [[String: Float]]
    public let textOffset: [Int]
    enum CodingKeys: String, CodingKey { case tokens, tokenLogprobs = "token_logprobs", topLogprobs = "top_logprobs", textOffset = "text_offset" }
}

public struct CompletionChoice: Codable, Sendable {
    public let text: String
    public let index: Int
    public let logprobs: CompletionLogprobs?
    public let finishReason: String?
    enum CodingKeys: String, CodingKey { case text, index, logprobs, finishReason = "finish_reason" }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(text, forKey: .text)
        try c.encode(index, forKey: .index)
        try c.encode(logprobs, forKey: .logprobs)
        try c.encode(finishReason, forKey: .finishReason)
    }
}

public struct CompletionResponse: Codable, Sendable {
    public let id: String
    public var object = "text_completion"
    public let created: Int
    public let model: String
    public let choices: [CompletionChoice]
    public var usage: Usage?
    public var aigc: AIGCLabel?
    public var systemFingerprint = "aigc-" + AigcServerVersion.string
    enum CodingKeys: String, CodingKey { case id, object, created, model, choices, usage, aigc, systemFingerprint = "system_fingerprint" }
}

public struct EmbeddingRequest: Codable, Sendable {
    public var model: String
    public var input: PromptInput
    public var encodingFormat: String?
    public var dimensions: Int?
    enum CodingKeys: String, CodingKey { case model, input, encodingFormat = "encoding_format", dimensions }
}

public enum EmbeddingVector: Codable, Sendable {
    case floats([Float])
    case base64(String)
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case let .floats(f): try c.encode(f)
        case let .base64(s): try c.encode(s)
        }
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let f = try? c.decode([Float].self) { self = .floats(f) } else { self = .base64(try c.decode(String.self)) }
    }
}

public struct Embedding: Codable, Sendable {
    public var object = "embedding"
    public let index: Int
    public let embedding: EmbeddingVector
}

public struct EmbeddingUsage: Codable, Sendable {
    public let promptTokens: Int
    public let totalTokens: Int
    enum CodingKeys: String, CodingKey { case promptTokens = "prompt_tokens", totalTokens = "total_tokens" }
}

public struct EmbeddingResponse: Codable, Sendable {
    public var object = "list"
    public let data: [Embedding]
    public let model: String
    public let usage: EmbeddingUsage
}

public struct ModelObject: Codable, Sendable {
    public let id: String
    public var object = "model"
    public let created: Int
    public var ownedBy = "aigc"
    enum CodingKeys: String, CodingKey { case id, object, created, ownedBy = "owned_by" }
}

public struct ModelList: Codable, Sendable {
    public var object = "list"
    public let data: [ModelObject]
}

/// OpenAI's error body: {"error": {"message", "type", "param", "code"}}.
public struct ErrorBody: Codable, Sendable {
    public struct Detail: Codable, Sendable {
        public let message: String
        public let type: String
        public let param: String?
        public let code: String?
    }
    public let error: Detail
}
