// The image transformer of latent-diffusion U-Nets: diffusers' Transformer2DModel over continuous
// input (GroupNorm, proj_in, BasicTransformerBlocks, proj_out, residual) and BasicTransformerBlock
// (LayerNorm + self-attention, LayerNorm + cross-attention to the text, LayerNorm + GEGLU
// feed-forward, each added back). Written from diffusers transformers/transformer_2d.py and
// attention.py @ 58eb52c080. proj_in / proj_out read and write the channel-major image directly,
// so the 1x1-convolution form (SD 1.x) and the linear form (SD 2.x) are the same products here.
import AIGCKernels
import AIGCTensor

/// Conditioning tokens for cross-attention (text-encoder states), [batch, tokens, channels] row-major.
public struct ConditioningTokens: Sendable, Equatable {
    /// Sequences (one per image of the batch).
    public let batch: Int
    /// Tokens per sequence (77 for CLIP).
    public let tokens: Int
    /// Channels per token (768 for SD 1.x).
    public let channels: Int
    /// batch * tokens * channels values.
    public let values: [Float]

    /// `values` in [batch, tokens, channels] order.
    public init(batch: Int, tokens: Int, channels: Int, values: [Float]) {
        precondition(values.count == batch * tokens * channels, "[\(batch), \(tokens), \(channels)] needs \(batch * tokens * channels) values")
        self.batch = batch
        self.tokens = tokens
        self.channels = channels
        self.values = values
    }
}

/// One BasicTransformerBlock (norm_type "layer_norm", GEGLU feed-forward).
public struct BasicTransformerBlock: Sendable {
    let norm1: LayerNorm, selfAttention: MultiHeadAttention
    let norm2: LayerNorm, crossAttention: MultiHeadAttention
    let norm3: LayerNorm
    /// ff.net.0.proj: [2 * inner, C], hidden | gate.
    let feedForwardIn: TokenLinear
    /// ff.net.2: [C, inner].
    let feedForwardOut: TokenLinear

    /// The block's layers; the feed-forward's first map gives hidden and gate halves.
    public init(norm1: LayerNorm, selfAttention: MultiHeadAttention, norm2: LayerNorm, crossAttention: MultiHeadAttention,
                norm3: LayerNorm, feedForwardIn: TokenLinear, feedForwardOut: TokenLinear) {
        precondition(feedForwardIn.outFeatures == 2 * feedForwardOut.inFeatures, "GEGLU's projection must give hidden and gate halves")
        self.norm1 = norm1
        self.selfAttention = selfAttention
        self.norm2 = norm2
        self.crossAttention = crossAttention
        self.norm3 = norm3
        self.feedForwardIn = feedForwardIn
        self.feedForwardOut = feedForwardOut
    }

    /// Updates `x` ([batch * tokens, C]) in place.
    public func forward(_ x: FloatPointer, batch: Int, tokens: Int, context: ConditioningTokens, workspace: Workspace, pool: ComputePool) {
        let c = selfAttention.channels, rows = batch * tokens
        let normalized = workspace.floats("transformer.normalized", rows * c)
        Profiler.measure("layernorm") { normalizeRows(norm1, x, into: normalized, rows: rows, pool: pool) }
        Profiler.measure("self-attention") {
            selfAttention.forward(normalized, batch: batch, tokens: tokens, addingTo: x, workspace: workspace, pool: pool)
        }
        Profiler.measure("layernorm") { normalizeRows(norm2, x, into: normalized, rows: rows, pool: pool) }
        Profiler.measure("cross-attention") {
            context.values.withUnsafeBufferPointer { text in
                crossAttention.forward(normalized, batch: batch, tokens: tokens, context: text.baseAddress!, contextTokens: context.tokens,
                                       addingTo: x, workspace: workspace, pool: pool)
            }
        }
        Profiler.measure("layernorm") { normalizeRows(norm3, x, into: normalized, rows: rows, pool: pool) }
        Profiler.measure("feedforward") { feedForward(normalized, rows: rows, addingTo: x, workspace: workspace, pool: pool) }
    }

    /// x += ff.net.2(hidden * gelu(gate)) in runs of rows, so the [rows, 8C] projection stays a few MiB.
    func feedForward(_ normalized: ConstFloatPointer, rows: Int, addingTo x: FloatPointer, workspace: Workspace, pool: ComputePool) {
        let c = feedForwardOut.outFeatures, inner = feedForwardOut.inFeatures
        let run = min(rows, max(256, (1 << 21) / (2 * inner)))
        let projected = workspace.floats("transformer.feedforward", run * 2 * inner)
        var start = 0
        while start < rows {
            let count = min(run, rows - start)
            feedForwardIn.forward(normalized + start * c, rows: count, into: projected, pool: pool)
            pool.parallelRanges(count, minimum: max(1, 16384 / inner)) { range, _ in
                for r in range {
                    let row = projected + r * 2 * inner
                    // Packed into the first `inner` floats of the row (rows stay 2 * inner apart).
                    geglu(into: row, hidden: row, gate: row + inner, count: inner)
                }
            }
            feedForwardOut.forward(projected, rows: count, ldx: 2 * inner, into: x + start * c, accumulate: true, pool: pool)
            start += count
        }
    }
}

/// LayerNorm of every row, rows split over the pool.
func normalizeRows(_ norm: LayerNorm, _ x: ConstFloatPointer, into y: FloatPointer, rows: Int, pool: ComputePool) {
    let n = norm.weight.elementCount
    pool.parallelRanges(rows, minimum: max(1, 32768 / n)) { range, _ in
        norm.forward(x + range.lowerBound * n, rows: range.count, into: y + range.lowerBound * n)
    }
}

/// Transformer2DModel over continuous (image) input.
public struct Transformer2D: Sendable {
    let norm: GroupNorm
    let projectIn: TokenLinear
    let blocks: [BasicTransformerBlock]
    let projectOut: TokenLinear

    /// GroupNorm (eps 1e-6 in diffusers), proj_in, the blocks and proj_out.
    public init(norm: GroupNorm, projectIn: TokenLinear, blocks: [BasicTransformerBlock], projectOut: TokenLinear) {
        precondition(projectIn.inFeatures == norm.channels && projectOut.outFeatures == norm.channels)
        self.norm = norm
        self.projectIn = projectIn
        self.blocks = blocks
        self.projectOut = projectOut
    }

    /// x = x + proj_out(blocks(proj_in(norm(x)))), in place; `context` has one sequence per image.
    public func forward(_ x: inout ImageTensor, context: ConditioningTokens, workspace: Workspace, pool: ComputePool) {
        precondition(context.batch == x.batch, "\(x.batch) images need as many context sequences, got \(context.batch)")
        let tokens = x.planeSize, rows = x.batch * tokens, inner = projectIn.outFeatures
        var normalized = x
        Profiler.measure("groupnorm") { norm.forward(&normalized, pool: pool) }
        let hidden = workspace.floats("transformer.tokens", rows * inner)
        Profiler.measure("proj") { projectIn.forward(channelMajor: normalized, into: hidden, pool: pool) }
        for block in blocks { block.forward(hidden, batch: x.batch, tokens: tokens, context: context, workspace: workspace, pool: pool) }
        Profiler.measure("proj") { projectOut.forward(tokens: hidden, addingTo: &x, pool: pool) }
    }
}
