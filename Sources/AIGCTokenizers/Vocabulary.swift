// Vocabulary: the token table every tokenizer is built from, handed in as plain arrays by the
// generation layer (tokenizers never read model files themselves).

/// Token kinds, numbered as GGUF's `tokenizer.ggml.token_type` (llama.cpp's llama_token_type).
public enum TokenType: Int, Sendable {
    case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
}

/// The tokenizer family.
public enum TokenizerModel: Sendable, Equatable {
    /// Byte-level BPE (GPT-2, Llama 3, Qwen2, SmolLM) with its pre-tokenizer.
    case byteLevelBPE(PreTokenizerKind)
    /// SentencePiece-style BPE over characters with byte fallback (Llama 2, Mistral, Phi-3, llama2.c).
    case sentencePiece
}

/// Errors raised while building a tokenizer from a vocabulary.
public enum TokenizerError: Error, CustomStringConvertible, Sendable {
    case invalidVocabulary(String)
    case unsupported(String)

    public var description: String {
        switch self {
        case let .invalidVocabulary(m): return "invalid tokenizer vocabulary: \(m)"
        case let .unsupported(m): return "unsupported tokenizer: \(m)"
        }
    }
}

public struct Vocabulary: Sendable {
    public var model: TokenizerModel
    /// Token texts as the file stores them (byte-level BPE: bytes mapped to printable characters;
    /// SentencePiece: "▁" for spaces, "<0x0A>" for byte tokens).
    public var tokens: [String]
    public var types: [TokenType]
    /// SentencePiece merge priorities (higher merges first).
    public var scores: [Float]
    /// BPE merges "left right", highest priority first.
    public var merges: [String]
    public var bos: Int?
    public var eos: Int?
    /// End-of-turn tokens that also stop generation (e.g. `<|im_end|>`, `<|eot_id|>`).
    public var extraEOS: [Int]
    public var unknown: Int?
    public var padding: Int?
    public var addBOS: Bool
    public var addEOS: Bool
    /// SentencePiece: prepend a space to the text (the "▁" that starts the first word).
    public var addSpacePrefix: Bool

    public init(model: TokenizerModel, tokens: [String], types: [TokenType]? = nil, scores: [Float] = [], merges: [String] = [],
                bos: Int? = nil, eos: Int? = nil, extraEOS: [Int] = [], unknown: Int? = nil, padding: Int? = nil,
                addBOS: Bool? = nil, addEOS: Bool = false, addSpacePrefix: Bool? = nil) {
        self.model = model
        self.tokens = tokens
        self.types = types ?? Array(repeating: .normal, count: tokens.count)
        self.scores = scores
        self.merges = merges
        self.bos = bos
        self.eos = eos
        self.extraEOS = extraEOS
        self.unknown = unknown
        self.padding = padding
        self.addBOS = addBOS ?? (model == .sentencePiece)
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix ?? (model == .sentencePiece)
    }

    public var count: Int { tokens.count }

    /// Checks array lengths and special ids against the token count.
    public func validate() throws {
        guard !tokens.isEmpty else { throw TokenizerError.invalidVocabulary("no tokens") }
        guard types.count == tokens.count else {
            throw TokenizerError.invalidVocabulary("\(types.count) token types for \(tokens.count) tokens")
        }
        if model == .sentencePiece && !scores.isEmpty && scores.count != tokens.count {
            throw TokenizerError.invalidVocabulary("\(scores.count) scores for \(tokens.count) tokens")
        }
        for (name, id) in [("bos", bos), ("eos", eos), ("unknown", unknown), ("padding", padding)] {
            if let id, id < 0 || id >= tokens.count {
                throw TokenizerError.invalidVocabulary("\(name) token id \(id) is outside 0..<\(tokens.count)")
            }
        }
        for id in extraEOS where id < 0 || id >= tokens.count {
            throw TokenizerError.invalidVocabulary("end-of-turn token id \(id) is outside 0..<\(tokens.count)")
        }
    }
}
