// The Llama family — Llama 2/3, Mistral, SmolLM2, Qwen2/2.5 (q/k/v biases), TinyLlama, llama2.c:
// RMSNorm, rotary positions (interleaved or NeoX pairing), grouped-query attention, SwiGLU, tied or
// untied output. Ports Hugging Face transformers models/llama/modeling_llama.py (v4.46) and
// llama.cpp's llm_build_llama, one step over a batch of tokens.
import AIGCKernels
import AIGCLayers
import AIGCTensor
import Foundation

/// Context extension by rescaling rotary frequencies (Hugging Face `rope_scaling`).
public struct RopeScaling: Codable, Sendable, Equatable {
    /// "linear", "llama3" (supported), or another method aigc refuses to run wrongly ("yarn", "dynamic", ...).
    public var type: String
    public var factor: Float
    public var lowFrequencyFactor: Float?
    public var highFrequencyFactor: Float?
    public var originalContextLength: Int?

    enum CodingKeys: String, CodingKey {
        case type, ropeType = "rope_type", factor, lowFrequencyFactor = "low_freq_factor", highFrequencyFactor = "high_freq_factor"
        case originalContextLength = "original_max_position_embeddings"
    }

    public init(type: String, factor: Float, lowFrequencyFactor: Float? = nil, highFrequencyFactor: Float? = nil, originalContextLength: Int? = nil) {
        self.type = type
        self.factor = factor
        self.lowFrequencyFactor = lowFrequencyFactor
        self.highFrequencyFactor = highFrequencyFactor
        self.originalContextLength = originalContextLength
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decodeIfPresent(String.self, forKey: .ropeType) ?? c.decodeIfPresent(String.self, forKey: .type) ?? "default"
        factor = try c.decodeIfPresent(Float.self, forKey: .factor) ?? 1
        lowFrequencyFactor = try c.decodeIfPresent(Float.self, forKey: .lowFrequencyFactor)
        highFrequencyFactor = try c.decodeIfPresent(Float.self, forKey: .highFrequencyFactor)
        originalContextLength = try c.decodeIfPresent(Int.self, forKey: .originalContextLength)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .ropeType)
        try c.encode(factor, forKey: .factor)
        try c.encodeIfPresent(lowFrequencyFactor, forKey: .lowFrequencyFactor)
        try c.encodeIfPresent(highFrequencyFactor, forKey: .highFrequencyFactor)
        try c.encodeIfPresent(originalContextLength, forKey: .originalContextLength)
    }
}

public struct LlamaConfiguration: Codable, Sendable, Equatable {
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var vocabularySize: Int
    public var contextLength: Int
    public var rmsNormEps: Float
    public var ropeTheta: Float
    /// Dimensions of each head that rotate (partial rotary when below headDim).
    public var ropeDims: Int
    public var ropeInterleaved: Bool
    public var tieWordEmbeddings: Bool
    public var ropeScaling: RopeScaling?

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size", intermediateSize = "intermediate_size", layers = "num_hidden_layers"
        case heads = "num_attention_heads", kvHeads = "num_key_value_heads", headDim = "head_dim"
        case vocabularySize = "vocab_size", contextLength = "max_position_embeddings", rmsNormEps = "rms_norm_eps"
        case ropeTheta = "rope_theta", ropeDims = "rope_dims", ropeInterleaved = "rope_interleaved"
        case tieWordEmbeddings = "tie_word_embeddings", ropeScaling = "rope_scaling"
    }

    public init(hiddenSize: Int, intermediateSize: Int, layers: Int, heads: Int, kvHeads: Int, headDim: Int? = nil,
                vocabularySize: Int, contextLength: Int, rmsNormEps: Float = 1e-5, ropeTheta: Float = 10000,
                ropeDims: Int? = nil, ropeInterleaved: Bool, tieWordEmbeddings: Bool, ropeScaling: RopeScaling? = nil) {
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim ?? hiddenSize / heads
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.rmsNormEps = rmsNormEps
        self.ropeTheta = ropeTheta
        self.ropeDims = ropeDims ?? self.headDim
        self.ropeInterleaved = ropeInterleaved
        self.tieWordEmbeddings = tieWordEmbeddings
        self.ropeScaling = ropeScaling
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let hidden = try c.decode(Int.self, forKey: .hiddenSize)
        let heads = try c.decode(Int.self, forKey: .heads)
        let headDim = try c.decodeIfPresent(Int.self, forKey: .headDim) ?? hidden / max(1, heads)
        self.init(hiddenSize: hidden, intermediateSize: try c.decode(Int.self, forKey: .intermediateSize),
                  layers: try c.decode(Int.self, forKey: .layers), heads: heads,
                  kvHeads: try c.decodeIfPresent(Int.self, forKey: .kvHeads) ?? heads, headDim: headDim,
                  vocabularySize: try c.decode(Int.self, forKey: .vocabularySize),
                  contextLength: try c.decodeIfPresent(Int.self, forKey: .contextLength) ?? 2048,
                  rmsNormEps: try c.decodeIfPresent(Float.self, forKey: .rmsNormEps) ?? 1e-6,
                  ropeTheta: try c.decodeIfPresent(Float.self, forKey: .ropeTheta) ?? 10000,
                  ropeDims: try c.decodeIfPresent(Int.self, forKey: .ropeDims),
                  // Hugging Face checkpoints rotate half-and-half (NeoX pairing).
                  ropeInterleaved: try c.decodeIfPresent(Bool.self, forKey: .ropeInterleaved) ?? false,
                  tieWordEmbeddings: try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false,
                  ropeScaling: try c.decodeIfPresent(RopeScaling.self, forKey: .ropeScaling))
    }

    /// From GGUF metadata of architecture `arch` ("llama", "qwen2", ...). GGUF `llama` files hold
    /// q/k weights permuted for interleaved rotation; `qwen2` keeps the NeoX pairing.
    public init(gguf m: ConfigurationSource, architecture arch: String, vocabularySize: Int, tiedEmbeddings: Bool) throws {
        let hidden = try m.requireInt("\(arch).embedding_length")
        let heads = try m.requireInt("\(arch).attention.head_count")
        let headDim = m.int("\(arch).attention.key_length") ?? hidden / heads
        self.init(hiddenSize: hidden, intermediateSize: try m.requireInt("\(arch).feed_forward_length"),
                  layers: try m.requireInt("\(arch).block_count"), heads: heads,
                  kvHeads: m.int("\(arch).attention.head_count_kv") ?? heads, headDim: headDim,
                  vocabularySize: vocabularySize, contextLength: m.int("\(arch).context_length") ?? 2048,
                  rmsNormEps: Float(m.double("\(arch).attention.layer_norm_rms_epsilon") ?? 1e-5),
                  ropeTheta: Float(m.double("\(arch).rope.freq_base") ?? 10000),
                  ropeDims: m.int("\(arch).rope.dimension_count"),
                  ropeInterleaved: !LlamaConfiguration.neoxArchitectures.contains(arch), tieWordEmbeddings: tiedEmbeddings,
                  ropeScaling: m.string("\(arch).rope.scaling.type").flatMap { type in
                      type == "none" ? nil : RopeScaling(type: type, factor: Float(m.double("\(arch).rope.scaling.factor") ?? 1))
                  })
    }

    /// Per-frequency divisors of the rotary angles for `ropeScaling` (nil: none).
    public func ropeFrequencyFactors() throws -> [Float]? {
        guard let s = ropeScaling, s.type != "default" else { return nil }
        let half = ropeDims / 2
        switch s.type {
        case "linear":
            return [Float](repeating: s.factor, count: half)
        case "llama3":
            let low = Double(s.lowFrequencyFactor ?? 1), high = Double(s.highFrequencyFactor ?? 4)
            let original = Double(s.originalContextLength ?? 8192), factor = Double(s.factor)
            return (0..<half).map { i in
                let frequency = pow(Double(ropeTheta), -2 * Double(i) / Double(ropeDims))
                let wavelength = 2 * Double.pi / frequency
                if wavelength < original / high { return 1 }
                if wavelength > original / low { return Float(factor) }
                let smooth = (original / wavelength - low) / (high - low)
                return Float(frequency / ((1 - smooth) * frequency / factor + smooth * frequency))
            }
        default:
            throw ModelError.invalidConfiguration("rope scaling '\(s.type)' is not supported (supported: linear, llama3)")
        }
    }

    /// GGUF architectures of this family that use NeoX rotary pairing.
    public static let neoxArchitectures: Set<String> = ["qwen2", "qwen3"]

    public func validate() throws {
        let checks: [(Bool, String)] = [
            (hiddenSize > 0 && intermediateSize > 0 && layers > 0 && vocabularySize > 0 && contextLength > 0, "sizes must be positive"),
            (heads > 0 && kvHeads > 0 && heads % kvHeads == 0, "heads (\(heads)) must be a multiple of kv heads (\(kvHeads))"),
            (headDim > 0 && ropeDims > 0 && ropeDims % 2 == 0 && ropeDims <= headDim,
             "rope dims (\(ropeDims)) must be even, positive and at most the head size (\(headDim))"),
            (rmsNormEps.isFinite && rmsNormEps >= 0 && ropeTheta.isFinite && ropeTheta > 0, "norm epsilon and rope base must be finite and positive"),
        ]
        for (ok, message) in checks where !ok { throw ModelError.invalidConfiguration(message) }
    }
}

public final class LlamaModel: TextModel, @unchecked Sendable {
    public let config: LlamaConfiguration
    public var architecture: String
    let embedding: Embedding
    let blocks: [Block]
    let norm: RMSNorm
    let output: Linear
    /// Per-frequency divisors of the rotary angle (Llama 3.1 "rope_freqs"), or nil.
    let ropeFactors: Tensor?
    let workspace = Workspace()
    let pool: ComputePool

    struct Block {
        let attentionNorm: RMSNorm
        let q, k, v, o: Linear
        let ffnNorm: RMSNorm
        let gate, up, down: Linear
    }

    public init(configuration config: LlamaConfiguration, weights: any WeightSource, architecture: String = "llama",
                pool: ComputePool = .shared) throws {
        try config.validate()
        self.config = config
        self.architecture = architecture
        self.pool = pool
        let C = config.hiddenSize, qDim = config.heads * config.headDim, kvDim = config.kvHeads * config.headDim
        let F = config.intermediateSize
        let table = try weights.tensor("model.embed_tokens.weight", shape: [config.vocabularySize, C])
        embedding = Embedding(table: table)
        blocks = try (0..<config.layers).map { i in
            let w = weights.scoped("model.layers.\(i)")
            func linear(_ name: String, _ shape: [Int]) throws -> Linear {
                try Linear(weight: w.tensor(name + ".weight", shape: shape), bias: w.tensorIfPresent(name + ".bias"))
            }
            return Block(attentionNorm: RMSNorm(weight: try w.tensor("input_layernorm.weight", shape: [C]), eps: config.rmsNormEps),
                         q: try linear("self_attn.q_proj", [qDim, C]), k: try linear("self_attn.k_proj", [kvDim, C]),
                         v: try linear("self_attn.v_proj", [kvDim, C]), o: try linear("self_attn.o_proj", [C, qDim]),
                         ffnNorm: RMSNorm(weight: try w.tensor("post_attention_layernorm.weight", shape: [C]), eps: config.rmsNormEps),
                         gate: try linear("mlp.gate_proj", [F, C]), up: try linear("mlp.up_proj", [F, C]),
                         down: try linear("mlp.down_proj", [C, F]))
        }
        norm = RMSNorm(weight: try weights.tensor("model.norm.weight", shape: [C]), eps: config.rmsNormEps)
        let head = config.tieWordEmbeddings ? nil : weights.tensorIfPresent("lm_head.weight")
        output = try Linear(weight: head ?? table)
        if let head, head.shape != [config.vocabularySize, C] {
            throw TensorError.shapeMismatch(name: "lm_head.weight", expected: [config.vocabularySize, C], actual: head.shape, source: weights.sourceName)
        }
        if let stored = weights.tensorIfPresent("rope_freqs.weight") {
            ropeFactors = stored.toFloat32()
        } else {
            ropeFactors = try config.ropeFrequencyFactors().map { Tensor(name: "rope_freqs", shape: [$0.count], floats: $0) }
        }
    }

    public var vocabularySize: Int { config.vocabularySize }
    public var contextLength: Int { config.contextLength }
    public var hiddenSize: Int { config.hiddenSize }
    public var parameterCount: Int {
        let c = config, C = c.hiddenSize, qDim = c.heads * c.headDim, kvDim = c.kvHeads * c.headDim
        let perLayer = 2 * C + C * qDim * 2 + 2 * C * kvDim + 3 * C * c.intermediateSize
        return c.vocabularySize * C * (c.tieWordEmbeddings || output.weight.name == embedding.table.name ? 1 : 2) + c.layers * perLayer + C
    }

    public var streamedWeightBytes: Int {
        blocks.reduce(output.weight.byteCount) { total, b in
            total + [b.q, b.k, b.v, b.o, b.gate, b.up, b.down].reduce(0) { $0 + $1.weight.byteCount }
                + b.attentionNorm.weight.byteCount + b.ffnNorm.weight.byteCount
        }
    }

    public var cachePrecision = KVCachePrecision.f16

    public func makeCache(sequences: Int = 1, contextLength: Int? = nil) -> KVCache {
        KVCache(layers: config.layers, kvDim: config.kvHeads * config.headDim,
                contextLength: min(contextLength ?? config.contextLength, config.contextLength), sequences: sequences,
                precision: cachePrecision)
    }

    public func forward(_ batch: TokenBatch, cache: KVCache) throws -> Logits {
        let (hidden, m) = try run(batch, cache: cache)
        let logits = workspace.floats("logits", m * config.vocabularySize)
        Profiler.measure("lm head") { output.forward(hidden, rows: m, into: logits, workspace: workspace, pool: pool) }
        return Logits(values: Array(UnsafeBufferPointer(start: logits, count: m * config.vocabularySize)), rows: m, columns: config.vocabularySize)
    }

    public func hiddenStates(_ batch: TokenBatch, cache: KVCache) throws -> Logits {
        let (hidden, m) = try run(batch, cache: cache)
        return Logits(values: Array(UnsafeBufferPointer(start: hidden, count: m * config.hiddenSize)), rows: m, columns: config.hiddenSize)
    }

    /// The transformer over the batch; returns the final-normed hidden rows of the tokens that want logits.
    private func run(_ batch: TokenBatch, cache: KVCache) throws -> (ConstFloatPointer, Int) {
        try validate(batch, cache: cache)
        reserve(batch, cache: cache)
        let c = config, n = batch.count, C = c.hiddenSize, D = c.headDim
        let qDim = c.heads * D, kvDim = c.kvHeads * D, F = c.intermediateSize, half = c.ropeDims / 2
        let ws = workspace
        let x = ws.floats("x", n * C), h = ws.floats("h", n * C)
        let q = ws.floats("q", n * qDim), k = ws.floats("k", n * kvDim), v = ws.floats("v", n * kvDim)
        let attended = ws.floats("attended", n * qDim)
        let gate = ws.floats("gate", n * F), up = ws.floats("up", n * F)
        let cosines = ws.floats("rope.cos", n * half), sines = ws.floats("rope.sin", n * half)
        for i in 0..<n {
            embedding.lookup(batch.tokens[i], into: x + i * C)
            ropeAngles(position: batch.positions[i], ropeDims: c.ropeDims, base: c.ropeTheta, frequencyFactors: ropeFactors?.floatPointer,
                       cos: cosines + i * half, sin: sines + i * half)
        }
        let shape = AttentionShape(heads: c.heads, kvHeads: c.kvHeads, headDim: D)
        let style: RopeStyle = c.ropeInterleaved ? .interleaved : .neox
        for (l, b) in blocks.enumerated() {
            Profiler.measure("norm") { b.attentionNorm.forward(x, rows: n, into: h) }
            if n == 1 { Profiler.measure("kv prefetch") { cache.prefetch(layer: l, sequence: batch.sequences[0], positions: batch.positions[0]) } }
            Profiler.measure("qkv") {
                Linear.forward([(b.q, q, qDim), (b.k, k, kvDim), (b.v, v, kvDim)], input: h, rows: n, workspace: ws, pool: pool)
            }
            Profiler.measure("rope+cache") {
                // Each token's rotation and cache rows are its own: prompts spread them over the threads
                // (ranges of at least 16 tokens, so a decode step stays on this thread).
                let sequences = batch.sequences, positions = batch.positions
                pool.parallelRanges(n, minimum: 16) { tokens, _ in
                    for i in tokens {
                        rope(q + i * qDim, heads: c.heads, headDim: D, ropeDims: c.ropeDims, cos: cosines + i * half, sin: sines + i * half, style: style)
                        rope(k + i * kvDim, heads: c.kvHeads, headDim: D, ropeDims: c.ropeDims, cos: cosines + i * half, sin: sines + i * half, style: style)
                        let s = sequences[i], p = positions[i]
                        cache.store(layer: l, sequence: s, position: p, key: k + i * kvDim, value: v + i * kvDim)
                    }
                }
            }
            Profiler.measure("attention") {
                causalAttention(queries: q, qStride: qDim, tokens: n, positions: batch.positions, sequences: batch.sequences,
                                cache: cache, layer: l, shape: shape, into: attended, workspace: ws, pool: pool)
            }
            Profiler.measure("output proj") {
                b.o.forward(attended, rows: n, into: h, workspace: ws, pool: pool)
                add(into: x, h, count: n * C)
            }
            Profiler.measure("norm") { b.ffnNorm.forward(x, rows: n, into: h) }
            Profiler.measure("gate+up") {
                Linear.forwardGated(gate: b.gate, up: b.up, input: h, rows: n, into: gate, upScratch: up, workspace: ws, pool: pool)
            }
            Profiler.measure("down") {
                b.down.forward(gate, rows: n, into: h, workspace: ws, pool: pool)
                add(into: x, h, count: n * C)
            }
        }
        let wanted = batch.wantsLogits.indices.filter { batch.wantsLogits[$0] }
        let final = ws.floats("final", max(1, wanted.count) * C)
        for (r, i) in wanted.enumerated() { norm.forward(x + i * C, rows: 1, into: final + r * C) }
        return (UnsafePointer(final), wanted.count)
    }
}
