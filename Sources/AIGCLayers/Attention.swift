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
    let D = shape.headDim, H = shape.heads
    let group = H / shape.kvHeads
    let kvDim = cache.kvDim
    let maxPositions = (positions.max() ?? 0) + 1
    workspace.reserveThreadScratch(threads: pool.threads, bytes: maxPositions * 4)
    pool.parallelFor(n * H) { task, thread in
        let i = task / H, h = task % H
        let p = positions[i], s = sequences[i]
        let qi = q + i * qStride + h * D
        let kvh = h / group
        let scores = workspace.scratch(thread: thread).assumingMemoryBound(to: Float.self)
        let k0 = UnsafePointer(cache.key(layer: layer, sequence: s, position: 0)) + kvh * D
        for t in 0...p { scores[t] = dot(qi, k0 + t * kvDim, count: D) * shape.scale }
        softmax(scores, count: p + 1)
        let o = out + i * H * D + h * D
        o.update(repeating: 0, count: D)
        let v0 = UnsafePointer(cache.value(layer: layer, sequence: s, position: 0)) + kvh * D
        for t in 0...p { axpy(into: o, scores[t], v0 + t * kvDim, count: D) }
    }
}
