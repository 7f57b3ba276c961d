// Kernels over image planes (one channel of one image, height * width floats): per-channel affine
// maps (BatchNorm in eval mode, GroupNorm's scale and shift), plane statistics, nearest-neighbour
// upsampling and pooling. The naive twins are in Reference/ReferenceImage.swift.

@inline(__always) private func load8(_ p: ConstFloatPointer, _ i: Int) -> SIMD8<Float> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) private func store8(_ p: FloatPointer, _ i: Int, _ v: SIMD8<Float>) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// y[c * planeSize + i] = x[c * planeSize + i] * scale[c] + shift[c] for c in 0..<channels
/// (`y` may be `x`).
public func channelAffine(into y: FloatPointer, _ x: ConstFloatPointer, scale: ConstFloatPointer, shift: ConstFloatPointer,
                          channels: Int, planeSize: Int) {
    for c in 0..<channels {
        let a = scale[c], b = shift[c]
        let va = SIMD8<Float>(repeating: a), vb = SIMD8<Float>(repeating: b)
        let from = x + c * planeSize, to = y + c * planeSize
        var i = 0
        while i + 8 <= planeSize {
            store8(to, i, load8(from, i) * va + vb)
            i += 8
        }
        while i < planeSize { to[i] = from[i] * a + b; i += 1 }
    }
}

/// Sum of n floats: float lanes over blocks of 1024 values, blocks added in Double, so the error
/// stays at float rounding of one block even for planes of millions of values.
public func sum(_ x: ConstFloatPointer, count n: Int) -> Double {
    var total = 0.0
    var start = 0
    while start < n {
        let end = min(n, start + 1024)
        var acc = SIMD8<Float>()
        var i = start
        while i + 8 <= end { acc += load8(x, i); i += 8 }
        var s = acc.sum()
        while i < end { s += x[i]; i += 1 }
        total += Double(s)
        start = end
    }
    return total
}

/// Sum of (x[i] - mean)^2 over n floats, blocked like `sum`.
public func sumOfSquaredDeviations(_ x: ConstFloatPointer, mean: Float, count n: Int) -> Double {
    var total = 0.0
    var start = 0
    let vm = SIMD8<Float>(repeating: mean)
    while start < n {
        let end = min(n, start + 1024)
        var acc = SIMD8<Float>()
        var i = start
        while i + 8 <= end {
            let d = load8(x, i) - vm
            acc.addProduct(d, d)
            i += 8
        }
        var s = acc.sum()
        while i < end { let d = x[i] - mean; s += d * d; i += 1 }
        total += Double(s)
        start = end
    }
    return total
}

/// LayerNorm across channels at every pixel of one image ([channels, planeSize]): each position's
/// `channels` values are normalised to mean 0 and variance 1, then y = x̂ * weight[c] + bias[c].
/// `scratch` holds 2 * planeSize floats. Works plane by plane so every loop is contiguous.
public func channelLayerNorm(into y: FloatPointer, _ x: ConstFloatPointer, weight: ConstFloatPointer?, bias: ConstFloatPointer?,
                             channels: Int, planeSize: Int, eps: Float, scratch: FloatPointer) {
    let mean = scratch, inverse = scratch + planeSize
    mean.update(repeating: 0, count: planeSize)
    inverse.update(repeating: 0, count: planeSize)
    for c in 0..<channels { add(into: mean, x + c * planeSize, count: planeSize) }
    let n = Float(channels)
    for i in 0..<planeSize { mean[i] /= n }
    for c in 0..<channels {
        let plane = x + c * planeSize
        for i in 0..<planeSize { let d = plane[i] - mean[i]; inverse[i] += d * d }
    }
    for i in 0..<planeSize { inverse[i] = 1 / (inverse[i] / n + eps).squareRoot() }
    for c in 0..<channels {
        let from = x + c * planeSize, to = y + c * planeSize
        let w = weight?[c] ?? 1, b = bias?[c] ?? 0
        for i in 0..<planeSize { to[i] = (from[i] - mean[i]) * inverse[i] * w + b }
    }
}

/// Nearest-neighbour upsampling by an integer `factor` of `planes` planes of `height` x `width`:
/// y[p, h, w] = x[p, h / factor, w / factor].
public func upsampleNearest(into y: FloatPointer, _ x: ConstFloatPointer, planes: Int, height: Int, width: Int, factor: Int) {
    let outWidth = width * factor
    for p in 0..<planes {
        let from = x + p * height * width, to = y + p * height * width * factor * factor
        for h in 0..<height {
            let first = to + h * factor * outWidth
            let row = from + h * width
            if factor == 2 {
                for w in 0..<width { first[2 * w] = row[w]; first[2 * w + 1] = row[w] }
            } else {
                for w in 0..<width { (first + w * factor).update(repeating: row[w], count: factor) }
            }
            for r in 1..<factor { (first + r * outWidth).update(from: first, count: outWidth) }
        }
    }
}

/// How a pooling window is reduced.
public enum PoolingMode: String, Sendable {
    /// The mean of the window, padding counted as zeros (PyTorch AvgPool2d, count_include_pad=True).
    case average
    /// The largest value of the window, padding ignored (PyTorch MaxPool2d).
    case max
}

/// Pools `planes` planes of `height` x `width` with the window `g` into planes of
/// `g.outputSize(height:width:)`. Average pooling takes no dilation (as in PyTorch).
public func pool2d(into y: FloatPointer, _ x: ConstFloatPointer, planes: Int, height: Int, width: Int,
                   geometry g: ConvGeometry, mode: PoolingMode) {
    let (outHeight, outWidth) = g.outputSize(height: height, width: width)
    precondition(mode == .max || (g.dilationHeight == 1 && g.dilationWidth == 1), "average pooling has no dilation")
    let divisor = 1 / Float(g.kernelArea)
    for p in 0..<planes {
        let from = x + p * height * width, to = y + p * outHeight * outWidth
        for oh in 0..<outHeight {
            for ow in 0..<outWidth {
                var acc: Float = mode == .max ? -.infinity : 0
                for i in 0..<g.kernelHeight {
                    let ih = oh * g.strideHeight - g.paddingHeight + i * g.dilationHeight
                    if ih < 0 || ih >= height { continue }
                    for j in 0..<g.kernelWidth {
                        let iw = ow * g.strideWidth - g.paddingWidth + j * g.dilationWidth
                        if iw < 0 || iw >= width { continue }
                        let v = from[ih * width + iw]
                        if mode == .max { acc = Swift.max(acc, v) } else { acc += v }
                    }
                }
                to[oh * outWidth + ow] = mode == .max ? acc : acc * divisor
            }
        }
    }
}
