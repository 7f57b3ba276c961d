// Row-wise float kernels used by every architecture: norms, activations, softmax, rotary embeddings.
// Each takes raw pointers and explicit sizes; the naive twins in Reference/ are the test oracle.
import CKernels
#if canImport(Glibc)
import Glibc
#endif

public typealias FloatPointer = UnsafeMutablePointer<Float>
public typealias ConstFloatPointer = UnsafePointer<Float>

@inline(__always) private func load8(_ p: ConstFloatPointer, _ i: Int) -> SIMD8<Float> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) private func store8(_ p: FloatPointer, _ i: Int, _ v: SIMD8<Float>) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Sum of x[i] * y[i].
@inline(__always) public func dot(_ x: ConstFloatPointer, _ y: ConstFloatPointer, count n: Int) -> Float {
    var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
    var i = 0
    while i + 16 <= n {
        acc0.addProduct(load8(x, i), load8(y, i))
        acc1.addProduct(load8(x, i + 8), load8(y, i + 8))
        i += 16
    }
    var sum = (acc0 + acc1).sum()
    while i < n { sum += x[i] * y[i]; i += 1 }
    return sum
}

/// One head of attention over `count` cached positions: softmax(scale · q · keysᵀ) · values, with key
/// and value rows `stride` elements apart, floats or (`half`) half floats; `scores` receives the
/// attention weights (count floats).
public func attend(into out: FloatPointer, query q: ConstFloatPointer, keys: UnsafeRawPointer, values: UnsafeRawPointer, half: Bool,
                   count n: Int, stride: Int, dim: Int, scale: Float, scores: FloatPointer) {
    if half {
        aigc_attend_f16(q, keys.assumingMemoryBound(to: UInt16.self), values.assumingMemoryBound(to: UInt16.self), Int64(stride), Int64(n),
                        Int64(dim), scale, scores, out)
    } else {
        aigc_attend_f32(q, keys.assumingMemoryBound(to: Float.self), values.assumingMemoryBound(to: Float.self), Int64(stride), Int64(n),
                        Int64(dim), scale, scores, out)
    }
}

/// Prefetches `bytes` from `pointer` into this core's caches (aigc_prefetch_bytes).
public func prefetchMemory(_ pointer: UnsafeRawPointer, bytes: Int) {
    aigc_prefetch_bytes(pointer, Int64(bytes))
}

/// y[i] += x[i].
public func add(into y: FloatPointer, _ x: ConstFloatPointer, count n: Int) {
    var i = 0
    while i + 8 <= n { store8(y, i, load8(UnsafePointer(y), i) + load8(x, i)); i += 8 }
    while i < n { y[i] += x[i]; i += 1 }
}

/// y[i] += a.
public func addScalar(_ a: Float, into y: FloatPointer, count n: Int) {
    let va = SIMD8<Float>(repeating: a)
    var i = 0
    while i + 8 <= n { store8(y, i, load8(UnsafePointer(y), i) + va); i += 8 }
    while i < n { y[i] += a; i += 1 }
}

/// y[i] *= a.
public func scale(_ y: FloatPointer, by a: Float, count n: Int) {
    for i in 0..<n { y[i] *= a }
}

/// y = x / sqrt(mean(x^2) + eps) * weight.
public func rmsNorm(into y: FloatPointer, _ x: ConstFloatPointer, weight: ConstFloatPointer, count n: Int, eps: Float) {
    let meanSquare = dot(x, x, count: n) / Float(n)
    let inv = 1 / (meanSquare + eps).squareRoot()
    for i in 0..<n { y[i] = x[i] * inv * weight[i] }
}

/// y = (x - mean) / sqrt(var + eps) * weight + bias. Eight float lanes per pass (the image
/// transformers normalise millions of token values per step); `y` may be `x`.
public func layerNorm(into y: FloatPointer, _ x: ConstFloatPointer, weight: ConstFloatPointer?, bias: ConstFloatPointer?,
                      count n: Int, eps: Float) {
    var acc = SIMD8<Float>()
    var i = 0
    while i + 8 <= n { acc += load8(x, i); i += 8 }
    var total = acc.sum()
    while i < n { total += x[i]; i += 1 }
    let mean = total / Float(n)
    let vm = SIMD8<Float>(repeating: mean)
    acc = SIMD8<Float>()
    i = 0
    while i + 8 <= n { let d = load8(x, i) - vm; acc.addProduct(d, d); i += 8 }
    var variance = acc.sum()
    while i < n { let d = x[i] - mean; variance += d * d; i += 1 }
    variance /= Float(n)
    let inv = 1 / (variance + eps).squareRoot()
    let vi = SIMD8<Float>(repeating: inv), one = SIMD8<Float>(repeating: 1), zero = SIMD8<Float>()
    i = 0
    while i + 8 <= n {
        let w = weight.map { load8($0, i) } ?? one, b = bias.map { load8($0, i) } ?? zero
        store8(y, i, ((load8(x, i) - vm) * vi) * w + b)
        i += 8
    }
    while i < n {
        var v = (x[i] - mean) * inv
        if let weight { v *= weight[i] }
        if let bias { v += bias[i] }
        y[i] = v
        i += 1
    }
}

/// In-place softmax over n values; returns the log of the normaliser (for log-probabilities).
@discardableResult
public func softmax(_ x: FloatPointer, count n: Int) -> Float {
    aigc_softmax_f32(x, Int64(n))
}

/// x[i] = exp(x[i] - max(x)), returning the sum: softmax without the division, which the caller
/// applies where it is cheaper (to attention's output rows).
@discardableResult
public func expShifted(_ x: FloatPointer, count n: Int) -> Float {
    aigc_exp_shifted_f32(x, Int64(n))
}

/// gate[i] = silu(gate[i]) * up[i] (the SwiGLU feed-forward gate).
public func swiglu(_ gate: FloatPointer, _ up: ConstFloatPointer, count n: Int) {
    aigc_swiglu_f32(gate, up, Int64(n))
}

/// x = gelu(x), tanh approximation (GPT-2's "gelu_new").
public func geluTanh(_ x: FloatPointer, count n: Int) {
    aigc_gelu_tanh_f32(x, Int64(n))
}

/// x = gelu(x), exact (erf) form.
public func geluErf(_ x: FloatPointer, count n: Int) {
    aigc_gelu_erf_f32(x, Int64(n))
}

/// How the rotary embedding pairs the dimensions of a head.
public enum RopeStyle: Sendable {
    /// Pairs (2i, 2i+1): Meta's original Llama and GGUF `llama` files.
    case interleaved
    /// Pairs (i, i + d/2): GPT-NeoX, Hugging Face Llama, Qwen2 GGUF.
    case neox
}

/// Rotates `heads` vectors of `headDim` floats (consecutive in `x`) by the angles whose cosines and
/// sines are given for the first `ropeDims` dimensions (ropeDims/2 values each).
public func rope(_ x: FloatPointer, heads: Int, headDim: Int, ropeDims: Int, cos: ConstFloatPointer, sin: ConstFloatPointer,
                 style: RopeStyle) {
    let half = ropeDims / 2
    for h in 0..<heads {
        let v = x + h * headDim
        switch style {
        case .interleaved:
            for i in 0..<half {
                let a = v[2 * i], b = v[2 * i + 1]
                v[2 * i] = a * cos[i] - b * sin[i]
                v[2 * i + 1] = a * sin[i] + b * cos[i]
            }
        case .neox:
            for i in 0..<half {
                let a = v[i], b = v[i + half]
                v[i] = a * cos[i] - b * sin[i]
                v[i + half] = a * sin[i] + b * cos[i]
            }
        }
    }
}

/// Cosines and sines of the rotary angles at `position`: theta_i = position * base^(-2i/ropeDims) / factor_i.
public func ropeAngles(position: Int, ropeDims: Int, base: Float, frequencyFactors: ConstFloatPointer?,
                       cos: FloatPointer, sin: FloatPointer) {
    for i in 0..<(ropeDims / 2) {
        var theta = Double(position) * pow(Double(base), -2.0 * Double(i) / Double(ropeDims))
        if let frequencyFactors { theta /= Double(frequencyFactors[i]) }
        cos[i] = Float(Glibc.cos(theta))
        sin[i] = Float(Glibc.sin(theta))
    }
}
