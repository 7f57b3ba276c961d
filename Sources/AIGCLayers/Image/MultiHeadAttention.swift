// Multi-head attention over image tokens (diffusers' Attention with AttnProcessor: to_q, to_k, to_v,
// softmax(q kᵀ / sqrt(d)) v per head, to_out.0), as self-attention over the pixels of a latent or
// cross-attention to text-encoder states. The scores of one head are never held whole: each task
// takes a chunk of query rows of one (image, head), multiplies it with the head's keys (sgemm),
// takes the softmax of every row and multiplies with the values (sgemm), so a 4096-token
// self-attention needs chunk x 4096 floats per thread instead of 4096 x 4096 per head.
import AIGCKernels
import AIGCTensor
import Foundation

/// Attention of image tokens to themselves or to a context, with its projections.
public struct MultiHeadAttention: Sendable {
    /// Heads the channels are split into.
    public let heads: Int
    /// Channels of the tokens (heads x head size).
    public let channels: Int
    /// Self-attention: q | k | v stacked into one [3C, C] map. Cross-attention: q alone.
    let inputProjection: TokenLinear
    /// Cross-attention: k | v of the context stacked into one [2C, context channels] map.
    let contextProjection: TokenLinear?
    /// to_out.0.
    let outputProjection: TokenLinear

    /// q, k, v and output maps; `key`'s input size tells cross-attention (context channels) only
    /// when `crossAttention` is set, since a context may have as many channels as the tokens.
    public init(query: TokenLinear, key: TokenLinear, value: TokenLinear, output: TokenLinear, heads: Int, crossAttention: Bool) {
        let c = query.outFeatures
        precondition(heads > 0 && c % heads == 0, "\(heads) heads must divide \(c) channels")
        precondition(key.outFeatures == c && value.outFeatures == c && output.inFeatures == c && key.inFeatures == value.inFeatures)
        self.heads = heads
        channels = c
        if crossAttention {
            inputProjection = query
            contextProjection = TokenLinear(stacking: [key, value])
        } else {
            precondition(key.inFeatures == query.inFeatures, "self-attention maps must read the same tokens")
            inputProjection = TokenLinear(stacking: [query, key, value])
            contextProjection = nil
        }
        outputProjection = output
    }

    /// Channels of the context this layer attends to, or nil for self-attention.
    public var contextChannels: Int? { contextProjection?.inFeatures }

    /// residual[b, t] += to_out(attention(x[b, t], context[b])) for `batch` images of `tokens` rows;
    /// `x` is [batch * tokens, input channels], `context` [batch * contextTokens, context channels].
    public func forward(_ x: ConstFloatPointer, batch: Int, tokens: Int, context: ConstFloatPointer? = nil, contextTokens: Int = 0,
                        addingTo residual: FloatPointer, workspace: Workspace, pool: ComputePool) {
        let c = channels, rows = batch * tokens
        let attended = workspace.floats("attention.output", rows * c)
        if let contextProjection {
            guard let context else { preconditionFailure("cross-attention needs a context") }
            let q = workspace.floats("attention.query", rows * c)
            let kv = workspace.floats("attention.context", batch * contextTokens * 2 * c)
            inputProjection.forward(x, rows: rows, into: q, pool: pool)
            contextProjection.forward(context, rows: batch * contextTokens, into: kv, pool: pool)
            MultiHeadAttention.attend(into: attended, outputStride: c, query: q, queryStride: c, key: kv, value: kv + c, keyValueStride: 2 * c,
                                      batch: batch, queryTokens: tokens, keyTokens: contextTokens, heads: heads, headSize: c / heads, pool: pool)
        } else {
            let qkv = workspace.floats("attention.qkv", rows * 3 * c)
            inputProjection.forward(x, rows: rows, into: qkv, pool: pool)
            MultiHeadAttention.attend(into: attended, outputStride: c, query: qkv, queryStride: 3 * c, key: qkv + c, value: qkv + 2 * c,
                                      keyValueStride: 3 * c, batch: batch, queryTokens: tokens, keyTokens: tokens, heads: heads,
                                      headSize: c / heads, pool: pool)
        }
        outputProjection.forward(attended, rows: rows, into: residual, accumulate: true, pool: pool)
    }

    /// Self-attention over the pixels of channel-major images, added to `residual` in the same
    /// layout (the VAE's mid-block attention): the projections read and write the planes directly.
    public func forward(channelMajor x: ImageTensor, addingTo residual: inout ImageTensor, workspace: Workspace, pool: ComputePool) {
        precondition(contextProjection == nil, "channel-major attention is self-attention")
        let c = channels, tokens = x.planeSize, rows = x.batch * tokens
        let qkv = workspace.floats("attention.qkv", rows * 3 * c), attended = workspace.floats("attention.output", rows * c)
        inputProjection.forward(channelMajor: x, into: qkv, pool: pool)
        MultiHeadAttention.attend(into: attended, outputStride: c, query: qkv, queryStride: 3 * c, key: qkv + c, value: qkv + 2 * c,
                                  keyValueStride: 3 * c, batch: x.batch, queryTokens: tokens, keyTokens: tokens, heads: heads,
                                  headSize: c / heads, pool: pool)
        outputProjection.forward(tokens: attended, addingTo: &residual, pool: pool)
    }

    /// Query rows per task: about 4 MiB of scores (between 16 and 256 rows, a multiple of 16). Each
    /// task's two products pack the head's keys and values again, so short chunks pay for that
    /// packing (measured on one Zen 3 core at 4096 tokens, head size 40: 38 GFLOPS at 32 rows, 45 at
    /// 64, 50 at 256); AIGC_ATTENTION_CHUNK overrides it for measurements.
    static let chunkOverride = Int(ProcessInfo.processInfo.environment["AIGC_ATTENTION_CHUNK"] ?? "")
    static func queryChunk(keyTokens: Int) -> Int {
        if let chunkOverride { return max(1, chunkOverride) }
        return min(256, max(16, (1 << 20) / max(1, keyTokens) / 16 * 16))
    }

    /// out[b, t, h] = softmax(q[b, t, h] · k[b, :, h]ᵀ / sqrt(d)) · v[b, :, h] for every head h (the
    /// d = headSize columns h * d ..< (h + 1) * d of each row). Rows of q, k, v and out are the given
    /// strides apart; image b's rows start at b * tokens.
    public static func attend(into out: FloatPointer, outputStride: Int, query q: ConstFloatPointer, queryStride: Int,
                              key k: ConstFloatPointer, value v: ConstFloatPointer, keyValueStride: Int,
                              batch: Int, queryTokens: Int, keyTokens: Int, heads: Int, headSize d: Int, pool: ComputePool) {
        let chunk = min(queryTokens, queryChunk(keyTokens: keyTokens))
        let chunks = (queryTokens + chunk - 1) / chunk
        let scores = FloatPointer.allocate(capacity: pool.threads * chunk * keyTokens)
        let sumScratch = FloatPointer.allocate(capacity: pool.threads * chunk)
        defer { scores.deallocate(); sumScratch.deallocate() }
        let scoreScale = 1 / Float(d).squareRoot()
        pool.parallelFor(batch * heads * chunks) { task, thread in
            let image = task / (heads * chunks), head = task / chunks % heads, first = task % chunks * chunk
            let rows = min(chunk, queryTokens - first)
            let s = scores + thread * chunk * keyTokens
            let keys = k + image * keyTokens * keyValueStride + head * d, values = v + image * keyTokens * keyValueStride + head * d
            // [rows, d] · [keys, d]ᵀ -> [rows, keys], scaled.
            gemm(into: s, q + (image * queryTokens + first) * queryStride + head * d, transposeA: false, keys, transposeB: true,
                 m: rows, n: keyTokens, k: d, lda: queryStride, ldb: keyValueStride, ldc: keyTokens, alpha: scoreScale)
            // Softmax numerators; the division by each row's sum waits for the d output values.
            let sums = sumScratch + thread * chunk
            for r in 0..<rows { sums[r] = 1 / expShifted(s + r * keyTokens, count: keyTokens) }
            // [rows, keys] · [keys, d] -> the head's columns of the output rows.
            let o = out + (image * queryTokens + first) * outputStride + head * d
            gemm(into: o, s, transposeA: false, values, transposeB: false,
                 m: rows, n: d, k: keyTokens, lda: keyTokens, ldb: keyValueStride, ldc: outputStride)
            for r in 0..<rows { scale(o + r * outputStride, by: sums[r], count: d) }
        }
    }
}
