// TokenLinear: nn.Linear over the many token rows of an image transformer (thousands per image),
// and the 1x1-convolution form that reads channel-major images or writes them back. Unlike Linear,
// which splits the weight rows across tasks (right for a few activation rows), this splits the
// product into tiles of tokens x outputs sized so each sgemm call amortises the packing of its
// operands: tokens are split while there are plenty, outputs when there are few tokens and a large
// weight (the 8x8 level of a U-Net), so the weight is then read once per call rather than per task.
import AIGCKernels
import AIGCTensor

/// y = x · Wᵀ + b on rows of tokens, with W [out, in] held as F32.
public struct TokenLinear: @unchecked Sendable {
    /// [out, in], F32.
    public let weight: Tensor
    /// [out], F32, or nil.
    public let bias: Tensor?
    /// Input features (columns of W).
    public let inFeatures: Int
    /// Output features (rows of W).
    public let outFeatures: Int

    /// `weight` is [out, in] or a 1x1 convolution's [out, in, 1, 1]; converted to F32 once.
    public init(weight: Tensor, bias: Tensor?) throws {
        let s = weight.shape
        guard s.count == 2 || (s.count == 4 && s[2] == 1 && s[3] == 1) else {
            throw TensorError.shapeMismatch(name: weight.name, expected: [-1, -1], actual: s, source: "linear or 1x1 convolution weight")
        }
        if let bias, bias.elementCount != s[0] {
            throw TensorError.shapeMismatch(name: bias.name, expected: [s[0]], actual: bias.shape, source: "linear bias")
        }
        guard weight.dtype.isComputable else {
            throw TensorError.unsupportedType(name: weight.name, dtype: weight.dtype, hint: "aigc cannot multiply with")
        }
        self.weight = weight.toFloat32().reshaped([s[0], s[1]])
        self.bias = bias?.toFloat32()
        outFeatures = s[0]
        inFeatures = s[1]
    }

    /// Several maps of the same input stacked into one (q, k and v read the tokens once).
    public init(stacking maps: [TokenLinear]) {
        precondition(!maps.isEmpty && maps.allSatisfy { $0.inFeatures == maps[0].inFeatures && ($0.bias == nil) == (maps[0].bias == nil) })
        let values = maps.flatMap { $0.weight.floats() }
        let out = maps.reduce(0) { $0 + $1.outFeatures }
        weight = Tensor(name: maps.map(\.weight.name).joined(separator: "+"), shape: [out, maps[0].inFeatures], floats: values)
        bias = maps[0].bias == nil ? nil : Tensor(name: "stacked bias", shape: [out], floats: maps.flatMap { $0.bias!.floats() })
        inFeatures = maps[0].inFeatures
        outFeatures = out
    }

    /// Tiles of (rows, outputs): runs of about 512 rows, as many as a multiple of the thread count,
    /// while that gives every thread two tasks; with fewer rows, all of them per tile and the outputs
    /// split in multiples of 16, so a large weight is packed once per tile of outputs, not per thread.
    public static func tiles(rows: Int, outputs: Int, threads: Int) -> (rowTile: Int, outputTile: Int) {
        let rowTiles = max(1, (rows + 511) / 512)
        if rowTiles >= 2 * threads || threads == 1 {
            let balanced = (rowTiles + threads - 1) / threads * threads
            return ((rows + balanced - 1) / balanced, outputs)
        }
        let outputTiles = min(max(1, outputs / 64), (2 * threads + rowTiles - 1) / rowTiles)
        return ((rows + rowTiles - 1) / rowTiles, ((outputs + outputTiles - 1) / outputTiles + 15) / 16 * 16)
    }

    /// y[rows, out] (row stride `ldy`) = x[rows, in] (row stride `ldx`) · Wᵀ + b, or added to y
    /// when `accumulate` (a residual connection).
    public func forward(_ x: ConstFloatPointer, rows: Int, ldx: Int? = nil, into y: FloatPointer, ldy: Int? = nil,
                        accumulate: Bool = false, pool: ComputePool) {
        let ldx = ldx ?? inFeatures, ldy = ldy ?? outFeatures
        let (rowTile, outputTile) = TokenLinear.tiles(rows: rows, outputs: outFeatures, threads: pool.threads)
        let rowTiles = (rows + rowTile - 1) / rowTile, outputTiles = (outFeatures + outputTile - 1) / outputTile
        let w = weight.floatPointer, b = bias?.floatPointer, k = inFeatures, n = outFeatures
        pool.parallelFor(rowTiles * outputTiles) { task, _ in
            let r0 = (task / outputTiles) * rowTile, o0 = (task % outputTiles) * outputTile
            let m = min(rowTile, rows - r0), count = min(outputTile, n - o0)
            let out = y + r0 * ldy + o0
            gemm(into: out, x + r0 * ldx, transposeA: false, w + o0 * k, transposeB: true, m: m, n: count, k: k,
                 lda: ldx, ldb: k, ldc: ldy, accumulate: accumulate)
            if let b { for r in 0..<m { add(into: out + r * ldy, b + o0, count: count) } }
        }
    }

    /// Tokens from channel-major images: y[b * T + t, out] = Σ_c x[b, c, t] · W[out, c] + b[out]
    /// (the 1x1 convolution or linear `proj_in` of an image transformer, without a transpose pass).
    public func forward(channelMajor x: ImageTensor, into y: FloatPointer, pool: ComputePool) {
        precondition(x.channels == inFeatures, "\(weight.name) takes \(inFeatures) channels, got \(x.channels)")
        let tokens = x.planeSize, images = x.batch, k = inFeatures, n = outFeatures
        let (rowTile, outputTile) = TokenLinear.tiles(rows: tokens * images, outputs: n, threads: pool.threads)
        let rowTiles = (tokens + rowTile - 1) / rowTile, outputTiles = (n + outputTile - 1) / outputTile
        let w = weight.floatPointer, b = bias?.floatPointer
        x.withPointer { input in
            pool.parallelFor(images * rowTiles * outputTiles) { task, _ in
                let image = task / (rowTiles * outputTiles), r0 = (task / outputTiles % rowTiles) * rowTile, o0 = (task % outputTiles) * outputTile
                let m = min(rowTile, tokens - r0), count = min(outputTile, n - o0)
                let out = y + (image * tokens + r0) * n + o0
                gemm(into: out, input + image * k * tokens + r0, transposeA: true, w + o0 * k, transposeB: true, m: m, n: count, k: k,
                     lda: tokens, ldb: k, ldc: n)
                if let b { for r in 0..<m { add(into: out + r * n, b + o0, count: count) } }
            }
        }
    }

    /// Channel-major images from tokens, added to `y` (the `proj_out` of an image transformer and
    /// its residual): y[b, out, t] += Σ_c x[b * T + t, c] · W[out, c] + b[out].
    public func forward(tokens x: ConstFloatPointer, addingTo y: inout ImageTensor, pool: ComputePool) {
        precondition(y.channels == outFeatures, "\(weight.name) makes \(outFeatures) channels, the image has \(y.channels)")
        let tokens = y.planeSize, images = y.batch, k = inFeatures, n = outFeatures
        // Tiles of tokens are output columns here: the same shapes as above with rows and outputs swapped.
        let (tokenTile, outputTile) = TokenLinear.tiles(rows: tokens * images, outputs: n, threads: pool.threads)
        let tokenTiles = (tokens + tokenTile - 1) / tokenTile, outputTiles = (n + outputTile - 1) / outputTile
        let w = weight.floatPointer, b = bias?.floatPointer
        y.withMutablePointer { output in
            pool.parallelFor(images * tokenTiles * outputTiles) { task, _ in
                let image = task / (tokenTiles * outputTiles), t0 = (task / outputTiles % tokenTiles) * tokenTile, o0 = (task % outputTiles) * outputTile
                let columns = min(tokenTile, tokens - t0), count = min(outputTile, n - o0)
                let out = output + (image * n + o0) * tokens + t0
                if let b { for o in 0..<count { addScalar(b[o0 + o], into: out + o * tokens, count: columns) } }
                gemm(into: out, w + o0 * k, transposeA: false, x + (image * tokens + t0) * k, transposeB: true, m: count, n: columns, k: k,
                     lda: k, ldb: k, ldc: tokens, accumulate: true)
            }
        }
    }
}
