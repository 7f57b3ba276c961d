// llama2.c checkpoints (the "legacy" export of karpathy/llama2.c, run.c) and their tokenizer.bin.
//
// Checkpoint: 7 × int32 header { dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len }
// (a negative vocab_size means the classifier is stored separately), then float32 arrays:
//   token_embedding[vocab, dim], rms_att[L, dim], wq[L, dim, dim], wk[L, kv_dim, dim], wv[L, kv_dim, dim],
//   wo[L, dim, dim], rms_ffn[L, dim], w1[L, hidden, dim], w2[L, dim, hidden], w3[L, hidden, dim],
//   rms_final[dim], freq_cis_real[seq_len, head/2], freq_cis_imag[seq_len, head/2], (wcls[vocab, dim])
// Matrices are [out, in] row-major, as PyTorch stores nn.Linear weights.
// Tokenizer: int32 max_token_length, then per token { float32 score, int32 length, bytes }.
import AIGCTensor

public struct Llama2CHeader: Sendable, Equatable {
    public let dim, hiddenDim, layers, heads, kvHeads, vocabSize, sequenceLength: Int
    public let sharedClassifier: Bool
    public var headDim: Int { dim / heads }

    public init(dim: Int, hiddenDim: Int, layers: Int, heads: Int, kvHeads: Int, vocabSize: Int, sequenceLength: Int, sharedClassifier: Bool) {
        self.dim = dim
        self.hiddenDim = hiddenDim
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads
        self.vocabSize = vocabSize
        self.sequenceLength = sequenceLength
        self.sharedClassifier = sharedClassifier
    }
    public var kvDim: Int { kvHeads * headDim }
}

public final class Llama2CCheckpoint: WeightSource, @unchecked Sendable {
    public let path: String
    public let header: Llama2CHeader
    private let tensors: [String: Tensor]

    public convenience init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws {
        let path = file.path
        self.path = path
        var reader = ByteReader(file: path, bytes: file.bytes)
        if file.size >= 4, file.bytes.loadUnaligned(as: UInt32.self) == 0x616b_3432 {
            throw FormatError.unsupportedVersion(file: path, version: file.size >= 8 ? Int(file.bytes.loadUnaligned(fromByteOffset: 4, as: Int32.self)) : -1,
                                                 supported: "the legacy llama2.c format (export.py --version 0)")
        }
        let names = ["dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"]
        var values: [Int] = []
        for name in names { values.append(Int(try reader.read(Int32.self, "header field \(name)"))) }
        let shared = values[5] > 0
        values[5] = abs(values[5])
        for (i, name) in names.enumerated() where values[i] <= 0 || values[i] > 1 << 20 {
            throw FormatError.invalidValue(file: path, field: name, offset: 4 * i, value: String(values[i]), reason: "must be between 1 and 2^20")
        }
        let h = Llama2CHeader(dim: values[0], hiddenDim: values[1], layers: values[2], heads: values[3], kvHeads: values[4],
                              vocabSize: values[5], sequenceLength: values[6], sharedClassifier: shared)
        guard h.dim % h.heads == 0, h.heads % h.kvHeads == 0, h.headDim % 2 == 0 else {
            throw FormatError.invalidValue(file: path, field: "n_heads", offset: 12, value: "dim \(h.dim), heads \(h.heads), kv heads \(h.kvHeads)",
                                           reason: "heads must divide dim into an even head size and kv heads must divide heads")
        }
        header = h
        let L = h.layers, dim = h.dim, kv = h.kvDim, hidden = h.hiddenDim
        let layout: [(String, [Int])] = [
            ("model.embed_tokens.weight", [h.vocabSize, dim]),
            ("rms_att", [L, dim]), ("wq", [L, dim, dim]), ("wk", [L, kv, dim]), ("wv", [L, kv, dim]), ("wo", [L, dim, dim]),
            ("rms_ffn", [L, dim]), ("w1", [L, hidden, dim]), ("w2", [L, dim, hidden]), ("w3", [L, hidden, dim]),
            ("model.norm.weight", [dim]), ("freq_cis_real", [h.sequenceLength, h.headDim / 2]), ("freq_cis_imag", [h.sequenceLength, h.headDim / 2]),
        ] + (shared ? [] : [("lm_head.weight", [h.vocabSize, dim])])
        var expected = 28
        for (_, shape) in layout { expected += 4 * shape.reduce(1, *) }
        guard expected == file.size else {
            throw FormatError.invalidValue(file: path, field: "file size", offset: 0, value: String(file.size),
                                           reason: "the header (\(values.map(String.init).joined(separator: ", "))) needs exactly \(expected) bytes")
        }
        let storage = TensorStorage(base: file.base, byteCount: file.size, owner: file)
        var offset = 28
        var tensors: [String: Tensor] = [:]
        let perLayer: [String: String] = [
            "rms_att": "input_layernorm.weight", "wq": "self_attn.q_proj.weight", "wk": "self_attn.k_proj.weight",
            "wv": "self_attn.v_proj.weight", "wo": "self_attn.o_proj.weight", "rms_ffn": "post_attention_layernorm.weight",
            "w1": "mlp.gate_proj.weight", "w2": "mlp.down_proj.weight", "w3": "mlp.up_proj.weight",
        ]
        for (name, shape) in layout {
            if let hfName = perLayer[name] {
                let inner = Array(shape.dropFirst())
                let bytes = 4 * inner.reduce(1, *)
                for layer in 0..<L {
                    let full = "model.layers.\(layer).\(hfName)"
                    tensors[full] = Tensor(name: full, dtype: .f32, shape: inner, storage: storage, offset: offset + layer * bytes)
                }
            } else if !name.hasPrefix("freq_cis") {
                tensors[name] = Tensor(name: name, dtype: .f32, shape: shape, storage: storage, offset: offset)
            }
            offset += 4 * shape.reduce(1, *)
        }
        self.tensors = tensors
    }

    public var sourceName: String { path }
    public var tensorNames: [String] { tensors.keys.sorted() }
    public func tensorIfPresent(_ name: String) -> Tensor? { tensors[name] }
}

/// The vocabulary of a llama2.c `tokenizer.bin`: byte strings with their merge scores.
public struct Llama2CVocabulary: Sendable {
    public let maxTokenLength: Int
    public let pieces: [[UInt8]]
    public let scores: [Float]

    /// Reads the file; `vocabSize`, when given (from the model header), must match the token count.
    public init(path: String, vocabSize: Int? = nil) throws {
        let file = try MappedFile(path: path)
        var reader = ByteReader(file: path, bytes: file.bytes)
        let maxLength = Int(try reader.read(Int32.self, "max_token_length"))
        guard maxLength > 0 && maxLength <= 1 << 16 else {
            throw FormatError.invalidValue(file: path, field: "max_token_length", offset: 0, value: String(maxLength), reason: "must be 1...65536")
        }
        var pieces: [[UInt8]] = []
        var scores: [Float] = []
        while reader.remaining > 0 && pieces.count < (vocabSize ?? Int.max) {
            let index = pieces.count
            scores.append(try reader.readFloat("score of token \(index)"))
            let at = reader.offset
            let length = Int(try reader.read(Int32.self, "length of token \(index)"))
            guard length >= 0 && length <= maxLength else {
                throw FormatError.invalidValue(file: path, field: "length of token \(index)", offset: at, value: String(length),
                                               reason: "must be 0...max_token_length (\(maxLength))")
            }
            pieces.append(Array(try reader.readBytes(length, "bytes of token \(index)")))
        }
        if let vocabSize, pieces.count != vocabSize {
            throw FormatError.invalidValue(file: path, field: "token count", offset: reader.offset, value: String(pieces.count),
                                           reason: "the model expects \(vocabSize) tokens; is this the tokenizer that belongs to the model?")
        }
        if pieces.isEmpty {
            throw FormatError.truncated(file: path, field: "token 0", offset: 4, need: 8, fileSize: file.size)
        }
        self.maxTokenLength = maxLength
        self.pieces = pieces
        self.scores = scores
    }
}
