// Causal multi-head attention over the KV cache, with grouped-query heads (several query heads
// share one key/value head). Each token of a batch attends to positions 0...its own position of its
// own sequence; keys and values of the batch must already be in the cache.
import AIGCKernels

public struct AttentionShape: Sendable {
    public let heads: Int
    public let kvHeads: Int
    public let headDim: Int
    public var scale: Float

    public init(heads: Int, kvHeads: Int, headDim: Int, scale: Float? = nil) {
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.scale = scale ?? 1 / Float(headDim).squareRoot()
    }
}

/// out[i, h*D..<(h+1)*D] = softmax(q_i,h · K_s[0...p_i]ᵀ · scale) · V_s[0...p_i] for each token i
/// (query rows `qStride` floats apart) and head h.
public func causalAttention(queries q: ConstFloatPointer, qStride: Int, tokens n: Int, positions: [Int], sequences: [Int],
                            cache: KVCache, layer: Int, shape: AttentionShape, into out: FloatPointer,
                            workspace: Workspace, pool: ComputePool) {
    if n >= prefillGEMMTokens, let first = positions.first, sequences.allSatisfy({ $0 == sequences[0] }),
       positions.enumerated().allSatisfy({ $0.element == first + $0.offset }) {
        prefillAttention(queries: q, qStride: qStride, tokens: n, start: first, sequence: sequences[0], cache: cache, layer: layer,
                         shape: shape, into: out, workspace: workspace, pool: pool)
        return
    }
    let D = shape.headDim, H = shape.heads
    let group = H / shape.kvHeads
    let kvDim = cache.kvDim, half = cache.precision == .f16, elementBytes = cache.precision.bytes
    let maxPositions = (positions.max() ?? 0) + 1
    workspace.reserveThreadScratch(threads: pool.threads, bytes: maxPositions * 4)
    pool.parallelFor(n * H) { task, thread in
        let i = task / H, h = task % H
        let p = positions[i], s = sequences[i]
        let qi = q + i * qStride + h * D
        let kvh = h / group
        let scores = workspace.scratch(thread: thread).assumingMemoryBound(to: Float.self)
        let head = kvh * D * elementBytes
        attend(into: out + i * H * D + h * D, query: qi, keys: cache.key(layer: layer, sequence: s, position: 0) + head,
               values: cache.value(layer: layer, sequence: s, position: 0) + head, half: half, count: p + 1, stride: kvDim, dim: D,
               scale: shape.scale, scores: scores)
    }
}

/// Tokens of one sequence from which attention runs as matrix products (a prompt chunk).
let prefillGEMMTokens = 16

/// Query rows per prefill attention task: the causal mask hides keys past a block's last query,
/// so each block multiplies only against the keys it can see (about half the work of one square
/// product per head at 512 tokens), and heads x blocks make enough tasks to balance two threads.
let prefillQueryBlock = 64

/// Attention of n consecutive tokens (positions start..<start+n) of one sequence, per head and block
/// of queries as S = Q·Kᵀ over the visible cached positions, causal mask, softmax, O = S·V — two
/// sgemm calls per task that read Q, K and V (as floats) in place through their strides.
func prefillAttention(queries q: ConstFloatPointer, qStride: Int, tokens n: Int, start: Int, sequence s: Int, cache: KVCache,
                      layer: Int, shape: AttentionShape, into out: FloatPointer, workspace: Workspace, pool: ComputePool) {
    let D = shape.headDim, H = shape.heads, group = H / shape.kvHeads
    let kvDim = cache.kvDim, block = prefillQueryBlock
    let blocks = (n + block - 1) / block
    workspace.reserveThreadScratch(threads: pool.threads, bytes: min(n, block) * (start + n) * 4)
    let (k0, v0) = cache.floatRows(layer: layer, sequence: s, count: start + n, workspace: workspace)
    // The last blocks see the most keys: hand them out first so that the short ones fill the end.
    pool.parallelFor(H * blocks) { task, thread in
        let b = blocks - 1 - task / H, h = task % H
        let first = b * block, rows = min(block, n - first), keys = start + first + rows
        let scores = workspace.scratch(thread: thread).assumingMemoryBound(to: Float.self)
        let kvOffset = (h / group) * D
        matmulTransposedB(into: scores, q + first * qStride + h * D, k0 + kvOffset, m: rows, n: keys, k: D, lda: qStride, ldb: kvDim,
                          ldc: keys)
        for i in 0..<rows {
            let row = scores + i * keys, visible = start + first + i + 1
            scale(row, by: shape.scale, count: visible)
            softmax(row, count: visible)
            (row + visible).update(repeating: 0, count: keys - visible)
        }
        matmul(into: out + first * H * D + h * D, scores, v0 + kvOffset, m: rows, n: D, k: keys, lda: keys, ldb: kvDim, ldc: H * D)
    }
}
