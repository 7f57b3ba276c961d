// The values that go into and come out of text generation.
import AIGCSampling

public struct GenerationRequest: Sendable {
    public var prompt: String
    /// Token ids to use instead of tokenizing `prompt`.
    public var promptTokens: [Int]?
    public var sampling = SamplingParameters()
    /// Most tokens to generate (nil: until the end of the context).
    public var maxTokens: Int? = 256
    public var stop: [String] = []
    /// Top alternatives to report with each token's log-probability (nil: no log-probabilities).
    public var logprobs: Int?
    /// Add BOS/EOS as the vocabulary asks.
    public var addSpecial = true
    /// Turn control-token text in the prompt ("<|im_start|>") into the tokens.
    public var parseSpecial = true
    public var ignoreEOS = false
    /// Beam search when > 1.
    public var beams = 1
    public var lengthPenalty: Float = 1
    public var earlyStopping = false
    public var noRepeatNgramSize = 0
    /// Best-of-N sampling when > 1.
    public var bestOf = 1
    /// Prompt-lookup speculative decoding: draft up to this many tokens from the context (0: off).
    public var lookup = 0
    /// Constrain the output to one JSON object (OpenAI's response_format: json_object).
    public var jsonObject = false

    public init(prompt: String) { self.prompt = prompt }
}

public struct TokenAlternative: Codable, Sendable, Equatable {
    public let token: Int
    public let text: String
    public let logprob: Float
}

/// Log-probability of a chosen token under the model, with the most likely alternatives.
public struct TokenLogprob: Codable, Sendable, Equatable {
    public let token: Int
    public let text: String
    public let logprob: Float
    public let top: [TokenAlternative]
}

public struct GenerationTimings: Codable, Sendable {
    public var loadMs: Double
    public var promptMs: Double
    public var promptTokensPerSecond: Double
    public var generationMs: Double
    public var generationTokensPerSecond: Double

    enum CodingKeys: String, CodingKey {
        case loadMs = "load_ms", promptMs = "prompt_ms", promptTokensPerSecond = "prompt_tokens_per_second"
        case generationMs = "generation_ms", generationTokensPerSecond = "generation_tokens_per_second"
    }
}

public enum FinishReason: String, Codable, Sendable {
    /// End of sequence, end of turn, or a stop string.
    case stop
    /// The token limit or the end of the context.
    case length
    /// The caller stopped it (client went away).
    case cancelled
}

public struct GenerationResult: Codable, Sendable {
    public var text: String
    public var tokens: [Int]
    public var promptTokens: [Int]
    public var logprobs: [TokenLogprob]?
    public var finishReason: FinishReason
    public var seed: UInt64
    public var timings: GenerationTimings
    /// Mean log-probability of the generated tokens (best-of-N and beam scores).
    public var score: Double?
    /// Prompt tokens whose keys and values came from a prompt cache instead of being evaluated.
    public var cachedPromptTokens = 0

    enum CodingKeys: String, CodingKey {
        case text, tokens, promptTokens = "prompt_tokens", logprobs, finishReason = "finish_reason", seed, timings, score
        case cachedPromptTokens = "cached_prompt_tokens"
    }
}

public enum GenerationError: Error, CustomStringConvertible, Sendable, Equatable {
    case promptTooLong(tokens: Int, context: Int)
    case emptyPrompt
    case invalidParameter(String)

    public var description: String {
        switch self {
        case let .promptTooLong(tokens, context):
            return "the prompt is \(tokens) tokens but the context holds \(context) (with room for at least one new token); shorten the prompt — aigc never truncates it"
        case .emptyPrompt:
            return "the prompt is empty and the model adds no start token; give some text"
        case let .invalidParameter(m):
            return "invalid parameter: \(m)"
        }
    }
}
