// In-place elementwise activations (transformer feed-forwards and image networks). The exp-based
// ones run in C (CKernels/activations.c: AVX2 with a libm scalar twin picked at run time); the
// piecewise-linear ones are plain loops the compiler vectorises. Naive twins: Reference/.
import CKernels

/// x = x * sigmoid(x) (SiLU).
public func silu(_ x: FloatPointer, count n: Int) {
    aigc_silu_f32(x, Int64(n))
}

/// x = 1 / (1 + exp(-x)).
public func sigmoid(_ x: FloatPointer, count n: Int) {
    aigc_sigmoid_f32(x, Int64(n))
}

/// x = tanh(x).
public func hyperbolicTangent(_ x: FloatPointer, count n: Int) {
    aigc_tanh_f32(x, Int64(n))
}

/// x = max(x, 0).
public func relu(_ x: FloatPointer, count n: Int) {
    for i in 0..<n { x[i] = x[i] > 0 ? x[i] : 0 }
}

/// x = x >= 0 ? x : slope * x (PyTorch LeakyReLU(negative_slope)).
public func leakyReLU(_ x: FloatPointer, count n: Int, slope: Float) {
    for i in 0..<n { x[i] = x[i] >= 0 ? x[i] : x[i] * slope }
}

/// out[i] = hidden[i] * gelu(gate[i]), erf form (GEGLU); `out` may be `hidden`.
public func geglu(into out: FloatPointer, hidden: ConstFloatPointer, gate: ConstFloatPointer, count n: Int) {
    aigc_geglu_f32(out, hidden, gate, Int64(n))
}
