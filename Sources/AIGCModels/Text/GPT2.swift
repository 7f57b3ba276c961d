// GPT-2: learned absolute positions, pre-LayerNorm blocks, fused QKV projection (c_attn), GELU (tanh
// form) MLP, output tied to the token embedding. Ports Hugging Face transformers
// models/gpt2/modeling_gpt2.py (v4.46) and llm.c's train_gpt2.c forward pass.
import AIGCKernels
import AIGCLayers
import AIGCTensor

public struct GPT2Configuration: Codable, Sendable, Equatable {
    public var hiddenSize: Int
    public var layers: Int
    public var heads: Int
    public var vocabularySize: Int
    public var contextLength: Int
    public var intermediateSize: Int
    public var layerNormEps: Float

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "n_embd", layers = "n_layer", heads = "n_head", vocabularySize = "vocab_size"
        case contextLength = "n_positions", intermediateSize = "n_inner", layerNormEps = "layer_norm_epsilon"
    }

    public init(hiddenSize: Int, layers: Int, heads: Int, vocabularySize: Int, contextLength: Int,
                intermediateSize: Int? = nil, layerNormEps: Float = 1e-5) {
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.heads = heads
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.intermediateSize = intermediateSize ?? 4 * hiddenSize
        self.layerNormEps = layerNormEps
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let hidden = try c.decode(Int.self, forKey: .hiddenSize)
        self.init(hiddenSize: hidden, layers: try c.decode(Int.self, forKey: .layers), heads: try c.decode(Int.self, forKey: .heads),
                  vocabularySize: try c.decode(Int.self, forKey: .vocabularySize),
                  contextLength: try c.decodeIfPresent(Int.self, forKey: .contextLength) ?? 1024,
                  intermediateSize: try c.decodeIfPresent(Int.self, forKey: .intermediateSize),
                  layerNormEps: try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? 1e-5)
    }

    public init(gguf m: ConfigurationSource, vocabularySize: Int) throws {
        let hidden = try m.requireInt("gpt2.embedding_length")
        self.init(hiddenSize: hidden, layers: try m.requireInt("gpt2.block_count"), heads: try m.requireInt("gpt2.attention.head_count"),
                  vocabularySize: vocabularySize, contextLength: m.int("gpt2.context_length") ?? 1024,
                  intermediateSize: m.int("gpt2.feed_forward_length"),
                  layerNormEps: Float(m.double("gpt2.attention.layer_norm_epsilon") ?? 1e-5))
    }

    public func validate() throws {
        guard hiddenSize > 0, layers > 0, heads > 0, hiddenSize % heads == 0, vocabularySize > 0, contextLength > 0, intermediateSize > 0 else {
            throw ModelError.invalidConfiguration("GPT-2 sizes must be positive and heads (\(heads)) must divide the width (\(hiddenSize))")
        }
    }
}

public final class GPT2Model: TextModel, @unchecked Sendable {
    public let config: GPT2Configuration
    public let architecture = "gpt2"
    let tokenEmbedding: Embedding
    let positionEmbedding: Embedding
    let blocks: [Block]
    let finalNorm: LayerNorm
    let output: Linear
    let workspace = Workspace()
    let pool: ComputePool

    struct Block {
        let norm1: LayerNorm
        let qkv: Linear
        let projection: Linear
        let norm2: LayerNorm
        let fc: Linear
        let fcProjection: Linear
    }

    /// `conv1DLayout`: the projection weights are stored [in, out] as Hugging Face's Conv1D keeps them
    /// (GGUF converters transpose them to [out, in]).
    public init(configuration config: GPT2Configuration, weights: any WeightSource, conv1DLayout: Bool, pool: ComputePool = .shared) throws {
        try config.validate()
        self.config = config
        self.pool = pool
        let C = config.hiddenSize, F = config.intermediateSize
        let wte = try weights.tensor("wte.weight", shape: [config.vocabularySize, C])
        tokenEmbedding = Embedding(table: wte)
        positionEmbedding = Embedding(table: try weights.tensor("wpe.weight", shape: [config.contextLength, C]))
        func shape(_ out: Int, _ inp: Int) -> [Int] { conv1DLayout ? [inp, out] : [out, inp] }
        blocks = try (0..<config.layers).map { i in
            let w = weights.scoped("h.\(i)")
            func norm(_ name: String) throws -> LayerNorm {
                LayerNorm(weight: try w.tensor(name + ".weight", shape: [C]), bias: try w.tensor(name + ".bias", shape: [C]), eps: config.layerNormEps)
            }
            func linear(_ name: String, _ out: Int, _ inp: Int) throws -> Linear {
                try Linear(weight: w.tensor(name + ".weight", shape: shape(out, inp)), bias: w.tensor(name + ".bias", shape: [out]),
                           inputMajor: conv1DLayout)
            }
            return Block(norm1: try norm("ln_1"), qkv: try linear("attn.c_attn", 3 * C, C), projection: try linear("attn.c_proj", C, C),
                         norm2: try norm("ln_2"), fc: try linear("mlp.c_fc", F, C), fcProjection: try linear("mlp.c_proj", C, F))
        }
        finalNorm = LayerNorm(weight: try weights.tensor("ln_f.weight", shape: [C]), bias: try weights.tensor("ln_f.bias", shape: [C]),
                              eps: config.layerNormEps)
        output = try Linear(weight: weights.tensorIfPresent("lm_head.weight") ?? wte)
    }

    public var vocabularySize: Int { config.vocabularySize }
    public var contextLength: Int { config.contextLength }
    public var hiddenSize: Int { config.hiddenSize }
    public var parameterCount: Int {
        let C = config.hiddenSize, F = config.intermediateSize
        return (config.vocabularySize + config.contextLength) * C + config.layers * (4 * C + 3 * C * C + 3 * C + C * C + C + 2 * C * F + F + C) + 2 * C
    }

    public var streamedWeightBytes: Int {
        blocks.reduce(output.weight.byteCount) { total, b in
            total + [b.qkv, b.projection, b.fc, b.fcProjection].reduce(0) { $0 + $1.weight.byteCount + ($1.bias?.byteCount ?? 0) }
        }
    }

    public var cachePrecision = KVCachePrecision.f16

    public func makeCache(sequences: Int = 1, contextLength: Int? = nil) -> KVCache {
        KVCache(layers: config.layers, kvDim: config.hiddenSize, contextLength: min(contextLength ?? config.contextLength, config.contextLength),
                sequences: sequences, precision: cachePrecision)
    }

    public func forward(_ batch: TokenBatch, cache: KVCache) throws -> Logits {
        let (hidden, m) = try run(batch, cache: cache)
        let logits = workspace.floats("logits", m * config.vocabularySize)
        output.forward(hidden, rows: m, into: logits, workspace: workspace, pool: pool)
        return Logits(values: Array(UnsafeBufferPointer(start: logits, count: m * config.vocabularySize)), rows: m, columns: config.vocabularySize)
    }

    public func hiddenStates(_ batch: TokenBatch, cache: KVCache) throws -> Logits {
        let (hidden, m) = try run(batch, cache: cache)
        return Logits(values: Array(UnsafeBufferPointer(start: hidden, count: m * config.hiddenSize)), rows: m, columns: config.hiddenSize)
    }

    private func run(_ batch: TokenBatch, cache: KVCache) throws -> (ConstFloatPointer, Int) {
        try validate(batch, cache: cache)
        reserve(batch, cache: cache)
        let n = batch.count, C = config.hiddenSize, F = config.intermediateSize
        let ws = workspace
        let x = ws.floats("x", n * C), h = ws.floats("h", n * C), qkv = ws.floats("qkv", n * 3 * C)
        let attended = ws.floats("attended", n * C), hidden = ws.floats("mlp", n * F)
        for i in 0..<n {
            tokenEmbedding.lookup(batch.tokens[i], into: x + i * C)
            positionEmbedding.lookup(batch.positions[i], into: h)
            add(into: x + i * C, h, count: C)
        }
        let shape = AttentionShape(heads: config.heads, kvHeads: config.heads, headDim: C / config.heads)
        for (l, b) in blocks.enumerated() {
            if n == 1 { cache.prefetch(layer: l, sequence: batch.sequences[0], positions: batch.positions[0]) }
            b.norm1.forward(x, rows: n, into: h)
            b.qkv.forward(h, rows: n, into: qkv, workspace: ws, pool: pool)
            for i in 0..<n {
                let s = batch.sequences[i], p = batch.positions[i]
                cache.store(layer: l, sequence: s, position: p, key: qkv + i * 3 * C + C, value: qkv + i * 3 * C + 2 * C)
            }
            causalAttention(queries: qkv, qStride: 3 * C, tokens: n, positions: batch.positions, sequences: batch.sequences,
                            cache: cache, layer: l, shape: shape, into: attended, workspace: ws, pool: pool)
            b.projection.forward(attended, rows: n, into: h, workspace: ws, pool: pool)
            add(into: x, h, count: n * C)
            b.norm2.forward(x, rows: n, into: h)
            b.fc.forward(h, rows: n, into: hidden, workspace: ws, pool: pool)
            geluTanh(hidden, count: n * F)
            b.fcProjection.forward(hidden, rows: n, into: h, workspace: ws, pool: pool)
            add(into: x, h, count: n * C)
        }
        let wanted = batch.wantsLogits.indices.filter { batch.wantsLogits[$0] }
        let final = ws.floats("final", max(1, wanted.count) * C)
        for (r, i) in wanted.enumerated() { finalNorm.forward(x + i * C, rows: 1, into: final + r * C) }
        return (UnsafePointer(final), wanted.count)
    }
}
