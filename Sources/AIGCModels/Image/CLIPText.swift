// CLIP text encoder: token + learned position embeddings, pre-LayerNorm transformer blocks with
// causal self-attention and a quick-GELU (or GELU) MLP, a final LayerNorm; Stable Diffusion reads
// its hidden states as the UNet's cross-attention context. Ports Hugging Face transformers
// models/clip/modeling_clip.py (CLIPTextModel, v4.46); weights by its names ("text_model.…").
// SD 1.x: 12 layers, width 768, 12 heads, MLP 3072, quick_gelu, 77 positions.
import AIGCKernels
import AIGCLayers
import AIGCTensor
#if canImport(Glibc)
import Glibc
#endif

/// A CLIP text encoder's sizes (Hugging Face `CLIPTextConfig`, the `text_encoder/config.json` of a diffusers folder).
public struct CLIPTextConfiguration: Codable, Sendable, Equatable {
    /// The MLP's nonlinearity.
    public enum Activation: String, Codable, Sendable {
        /// x · sigmoid(1.702 x) (OpenAI CLIP, SD 1.x).
        case quickGELU = "quick_gelu"
        /// The exact, erf-based GELU (OpenCLIP ViT-H, SD 2.x).
        case gelu
    }

    public var hiddenSize: Int
    public var intermediateSize: Int
    public var heads: Int
    public var layers: Int
    public var maxPositions: Int
    public var vocabularySize: Int
    public var activation: Activation
    public var layerNormEps: Float

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size", intermediateSize = "intermediate_size", heads = "num_attention_heads"
        case layers = "num_hidden_layers", maxPositions = "max_position_embeddings", vocabularySize = "vocab_size"
        case activation = "hidden_act", layerNormEps = "layer_norm_eps"
    }

    /// A configuration; the defaults are SD 1.x's text encoder (openai/clip-vit-large-patch14).
    public init(hiddenSize: Int = 768, intermediateSize: Int = 3072, heads: Int = 12, layers: Int = 12, maxPositions: Int = 77,
                vocabularySize: Int = 49408, activation: Activation = .quickGELU, layerNormEps: Float = 1e-5) {
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.heads = heads
        self.layers = layers
        self.maxPositions = maxPositions
        self.vocabularySize = vocabularySize
        self.activation = activation
        self.layerNormEps = layerNormEps
    }

    /// Missing keys take Hugging Face's CLIPTextConfig defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = CLIPTextConfiguration(hiddenSize: 512, intermediateSize: 2048, heads: 8)
        self.init(hiddenSize: try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? defaults.hiddenSize,
                  intermediateSize: try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? defaults.intermediateSize,
                  heads: try c.decodeIfPresent(Int.self, forKey: .heads) ?? defaults.heads,
                  layers: try c.decodeIfPresent(Int.self, forKey: .layers) ?? defaults.layers,
                  maxPositions: try c.decodeIfPresent(Int.self, forKey: .maxPositions) ?? defaults.maxPositions,
                  vocabularySize: try c.decodeIfPresent(Int.self, forKey: .vocabularySize) ?? defaults.vocabularySize,
                  activation: try c.decodeIfPresent(Activation.self, forKey: .activation) ?? defaults.activation,
                  layerNormEps: try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? defaults.layerNormEps)
    }

    public func validate() throws {
        guard hiddenSize > 0, heads > 0, hiddenSize % heads == 0, layers > 0, intermediateSize > 0, maxPositions > 0, vocabularySize > 0 else {
            throw ModelError.invalidConfiguration("CLIP text sizes must be positive and num_attention_heads (\(heads)) must divide hidden_size (\(hiddenSize))")
        }
    }
}

/// A CLIP text encoder. One forward at a time per instance (it reuses one workspace).
public final class CLIPTextModel: @unchecked Sendable {
    public let config: CLIPTextConfiguration
    let tokenEmbedding: Embedding
    let positionEmbedding: Embedding
    let blocks: [Block]
    let finalNorm: LayerNorm
    let workspace = Workspace()
    let pool: ComputePool

    struct Block {
        let norm1: LayerNorm
        let query: Linear
        let key: Linear
        let value: Linear
        let output: Linear
        let norm2: LayerNorm
        let fc1: Linear
        let fc2: Linear
    }

    /// Loads the encoder from `weights` named as Hugging Face's CLIPTextModel state dict, with or
    /// without the leading "text_model.", checking every shape.
    public init(configuration config: CLIPTextConfiguration, weights: any WeightSource, pool: ComputePool = .shared) throws {
        try config.validate()
        self.config = config
        self.pool = pool
        let w: any WeightSource = weights.contains("text_model.embeddings.token_embedding.weight") ? weights.scoped("text_model") : weights
        let C = config.hiddenSize, F = config.intermediateSize
        tokenEmbedding = Embedding(table: try w.tensor("embeddings.token_embedding.weight", shape: [config.vocabularySize, C]))
        positionEmbedding = Embedding(table: try w.tensor("embeddings.position_embedding.weight", shape: [config.maxPositions, C]))
        func norm(_ w: any WeightSource, _ name: String) throws -> LayerNorm {
            LayerNorm(weight: try w.tensor(name + ".weight", shape: [C]), bias: try w.tensor(name + ".bias", shape: [C]), eps: config.layerNormEps)
        }
        func linear(_ w: any WeightSource, _ name: String, _ out: Int, _ inp: Int) throws -> Linear {
            try Linear(weight: w.tensor(name + ".weight", shape: [out, inp]), bias: w.tensor(name + ".bias", shape: [out]))
        }
        blocks = try (0..<config.layers).map { i in
            let b = w.scoped("encoder.layers.\(i)")
            return Block(norm1: try norm(b, "layer_norm1"), query: try linear(b, "self_attn.q_proj", C, C), key: try linear(b, "self_attn.k_proj", C, C),
                         value: try linear(b, "self_attn.v_proj", C, C), output: try linear(b, "self_attn.out_proj", C, C),
                         norm2: try norm(b, "layer_norm2"), fc1: try linear(b, "mlp.fc1", F, C), fc2: try linear(b, "mlp.fc2", C, F))
        }
        finalNorm = try norm(w, "final_layer_norm")
    }

    /// Hidden states [B, T, C] (row-major) of `tokens` (B sequences of T ids each, T <= maxPositions).
    /// `skipLayers` = 0 gives `last_hidden_state`; k > 0 gives diffusers' clip_skip = k: the output
    /// of layer L - k, through the final LayerNorm (`final_layer_norm(hidden_states[-(k + 1)])`).
    public func encode(_ tokens: [[Int]], skipLayers: Int = 0) throws -> [Float] {
        guard let T = tokens.first?.count, T > 0, T <= config.maxPositions, tokens.allSatisfy({ $0.count == T }) else {
            throw ModelError.invalidConfiguration("CLIP text input must be sequences of one length in 1...\(config.maxPositions), "
                                                  + "got lengths \(tokens.map(\.count))")
        }
        guard (0..<config.layers).contains(skipLayers) else {
            throw ModelError.invalidConfiguration("clip skip \(skipLayers) must be 0..<\(config.layers) (the encoder's layers)")
        }
        if let bad = tokens.joined().first(where: { $0 < 0 || $0 >= config.vocabularySize }) {
            throw ModelError.tokenOutOfRange(token: bad, vocabularySize: config.vocabularySize)
        }
        let B = tokens.count, C = config.hiddenSize, n = B * T, F = config.intermediateSize
        let ws = workspace
        let x = ws.floats("x", n * C), h = ws.floats("h", n * C), attended = ws.floats("attended", n * C)
        let q = ws.floats("q", n * C), k = ws.floats("k", n * C), v = ws.floats("v", n * C), hidden = ws.floats("mlp", n * F)
        for (s, sequence) in tokens.enumerated() {
            for (p, token) in sequence.enumerated() {
                let row = x + (s * T + p) * C
                tokenEmbedding.lookup(token, into: row)
                positionEmbedding.lookup(p, into: h)
                add(into: row, h, count: C)
            }
        }
        for b in blocks.prefix(config.layers - skipLayers) {
            b.norm1.forward(x, rows: n, into: h)
            Linear.forward([(b.query, q, C), (b.key, k, C), (b.value, v, C)], input: h, rows: n, workspace: ws, pool: pool)
            causalSelfAttention(q, k, v, sequences: B, length: T, into: attended)
            b.output.forward(attended, rows: n, into: h, workspace: ws, pool: pool)
            add(into: x, h, count: n * C)
            b.norm2.forward(x, rows: n, into: h)
            b.fc1.forward(h, rows: n, into: hidden, workspace: ws, pool: pool)
            activate(hidden, count: n * F)
            b.fc2.forward(hidden, rows: n, into: h, workspace: ws, pool: pool)
            add(into: x, h, count: n * C)
        }
        var out = [Float](repeating: 0, count: n * C)
        out.withUnsafeMutableBufferPointer { finalNorm.forward(x, rows: n, into: $0.baseAddress!) }
        return out
    }

    /// Per sequence and head: S = Q·Kᵀ / sqrt(D) with future positions masked, softmax, O = S·V —
    /// two sgemm calls reading the heads in place through their strides.
    func causalSelfAttention(_ q: FloatPointer, _ k: FloatPointer, _ v: FloatPointer, sequences B: Int, length T: Int, into out: FloatPointer) {
        let H = config.heads, C = config.hiddenSize, D = C / H
        let scaleFactor = 1 / Float(D).squareRoot()
        workspace.reserveThreadScratch(threads: pool.threads, bytes: T * T * 4)
        let ws = workspace
        pool.parallelFor(B * H) { task, thread in
            let s = task / H, head = task % H
            let base = s * T * C + head * D
            let scores = ws.scratch(thread: thread).assumingMemoryBound(to: Float.self)
            matmulTransposedB(into: scores, q + base, k + base, m: T, n: T, k: D, lda: C, ldb: C, ldc: T)
            for i in 0..<T {
                let row = scores + i * T
                scale(row, by: scaleFactor, count: i + 1)
                softmax(row, count: i + 1)
                (row + i + 1).update(repeating: 0, count: T - i - 1)
            }
            matmul(into: out + base, scores, v + base, m: T, n: D, k: T, lda: T, ldb: C, ldc: C)
        }
    }

    func activate(_ x: FloatPointer, count n: Int) {
        switch config.activation {
        case .gelu: geluErf(x, count: n)
        case .quickGELU: for i in 0..<n { x[i] = x[i] / (1 + expf(-1.702 * x[i])) }
        }
    }
}
