// The contract between the generation loop and every text architecture: one forward step over a
// batch of tokens (from one or many sequences) that appends to the KV cache and returns logits.
import AIGCLayers
import AIGCTensor

/// Tokens to run through the model in one step. Token i is at `positions[i]` of sequence slot
/// `sequences[i]`; logits come back for the tokens whose `wantsLogits` is true, in order.
public struct TokenBatch: Sendable {
    public var tokens: [Int]
    public var positions: [Int]
    public var sequences: [Int]
    public var wantsLogits: [Bool]

    public init(tokens: [Int], positions: [Int], sequences: [Int], wantsLogits: [Bool]) {
        precondition(tokens.count == positions.count && tokens.count == sequences.count && tokens.count == wantsLogits.count)
        self.tokens = tokens
        self.positions = positions
        self.sequences = sequences
        self.wantsLogits = wantsLogits
    }

    /// `tokens` appended to one sequence from `start`, logits for the last token only (a prompt).
    public static func prompt(_ tokens: [Int], startingAt start: Int = 0, sequence: Int = 0, allLogits: Bool = false) -> TokenBatch {
        TokenBatch(tokens: tokens, positions: Array(start..<(start + tokens.count)),
                   sequences: Array(repeating: sequence, count: tokens.count),
                   wantsLogits: tokens.indices.map { allLogits || $0 == tokens.count - 1 })
    }

    public var count: Int { tokens.count }
}

/// Rows of logits (or hidden states), row-major.
public struct Logits: Sendable {
    public var values: [Float]
    public let rows: Int
    public let columns: Int

    public init(values: [Float], rows: Int, columns: Int) {
        self.values = values
        self.rows = rows
        self.columns = columns
    }

    public func row(_ r: Int) -> ArraySlice<Float> { values[(r * columns)..<((r + 1) * columns)] }
}

/// Errors of the model layer: bad input to a forward step, or a checkpoint whose tensors fit no slot.
public enum ModelError: Error, CustomStringConvertible, Sendable, Equatable {
    case contextOverflow(position: Int, contextLength: Int)
    case tokenOutOfRange(token: Int, vocabularySize: Int)
    case invalidConfiguration(String)
    /// A checkpoint tensor that fits no slot of the architecture (e.g. an unknown name in a single-file SD checkpoint).
    case unrecognizedTensor(name: String, source: String, reason: String)

    public var description: String {
        switch self {
        case let .contextOverflow(position, context):
            return "position \(position) is beyond the model's context of \(context) tokens"
        case let .tokenOutOfRange(token, vocab):
            return "token id \(token) is outside the vocabulary (0..<\(vocab))"
        case let .invalidConfiguration(m):
            return "invalid model configuration: \(m)"
        case let .unrecognizedTensor(name, source, reason):
            return "\(source): tensor '\(name)' \(reason)"
        }
    }
}

/// A decoder-only text model.
public protocol TextModel: AnyObject, Sendable {
    /// The architecture name ("llama", "gpt2", ...).
    var architecture: String { get }
    var vocabularySize: Int { get }
    /// The longest sequence the model supports (positions 0..<contextLength).
    var contextLength: Int { get }
    /// Width of the hidden state (embedding size).
    var hiddenSize: Int { get }
    /// Parameter count (for listings).
    var parameterCount: Int { get }
    /// Bytes of weights one decode step reads (every matrix once), for bandwidth bounds.
    var streamedWeightBytes: Int { get }

    /// The element type of the caches `makeCache` makes (half floats unless set otherwise).
    var cachePrecision: KVCachePrecision { get set }
    func makeCache(sequences: Int, contextLength: Int?) -> KVCache
    /// Runs `batch`, appending its keys and values to `cache`; returns logits for the tokens that want them.
    func forward(_ batch: TokenBatch, cache: KVCache) throws -> Logits
    /// Final hidden states (after the last norm) for the tokens that want logits (embeddings).
    func hiddenStates(_ batch: TokenBatch, cache: KVCache) throws -> Logits
}

extension TextModel {
    /// Checks token ids and positions before touching the cache.
    public func validate(_ batch: TokenBatch, cache: KVCache) throws {
        for t in batch.tokens where t < 0 || t >= vocabularySize {
            throw ModelError.tokenOutOfRange(token: t, vocabularySize: vocabularySize)
        }
        for p in batch.positions where p < 0 || p >= min(contextLength, cache.contextLength) {
            throw ModelError.contextOverflow(position: p, contextLength: min(contextLength, cache.contextLength))
        }
        cache.ensureSequences((batch.sequences.max() ?? 0) + 1)
    }

    /// Reserves cache room for every token of the batch and records the new lengths.
    public func reserve(_ batch: TokenBatch, cache: KVCache) {
        var needed: [Int: Int] = [:]
        for (p, s) in zip(batch.positions, batch.sequences) { needed[s] = max(needed[s] ?? 0, p + 1) }
        for (s, n) in needed {
            cache.reserve(sequence: s, positions: n)
            cache.setLength(max(cache.lengths[s], n), sequence: s)
        }
    }
}
