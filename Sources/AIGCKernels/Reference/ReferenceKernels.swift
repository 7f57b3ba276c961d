// Naive twins of the fast kernels: plain loops in Double, the oracle the tests compare against.
#if canImport(Glibc)
import Glibc
#endif

public enum Reference {
    public static func dot(_ x: [Float], _ y: [Float]) -> Float {
        var s = 0.0
        for i in x.indices { s += Double(x[i]) * Double(y[i]) }
        return Float(s)
    }

    public static func rmsNorm(_ x: [Float], weight: [Float], eps: Float) -> [Float] {
        let ms = x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(x.count)
        let inv = 1 / (ms + Double(eps)).squareRoot()
        return x.indices.map { Float(Double(x[$0]) * inv * Double(weight[$0])) }
    }

    public static func layerNorm(_ x: [Float], weight: [Float], bias: [Float], eps: Float) -> [Float] {
        let mean = x.reduce(0.0) { $0 + Double($1) } / Double(x.count)
        let variance = x.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(x.count)
        let inv = 1 / (variance + Double(eps)).squareRoot()
        return x.indices.map { Float((Double(x[$0]) - mean) * inv * Double(weight[$0]) + Double(bias[$0])) }
    }

    /// softmax(scale · q · keysᵀ) · values for one query; keys and values are [n, dim].
    public static func attend(_ q: [Float], keys: [Float], values: [Float], count n: Int, dim: Int, scale: Float) -> [Float] {
        let weights = softmax((0..<n).map { t in dot(q, Array(keys[(t * dim)..<((t + 1) * dim)])) * scale })
        return (0..<dim).map { d in Float((0..<n).reduce(0.0) { $0 + Double(weights[$1]) * Double(values[$1 * dim + d]) }) }
    }

    public static func softmax(_ x: [Float]) -> [Float] {
        let m = x.max() ?? 0
        let e = x.map { Glibc.exp(Double($0 - m)) }
        let s = e.reduce(0, +)
        return e.map { Float($0 / s) }
    }

    public static func swiglu(_ gate: [Float], _ up: [Float]) -> [Float] {
        gate.indices.map { Float(Double(gate[$0]) / (1 + Glibc.exp(-Double(gate[$0]))) * Double(up[$0])) }
    }

    public static func geluTanh(_ x: [Float]) -> [Float] {
        x.map { v in
            let d = Double(v)
            return Float(0.5 * d * (1 + Glibc.tanh(0.7978845608028654 * (d + 0.044715 * d * d * d))))
        }
    }

    /// C[m, n] = A[m, k] · B[n, k]ᵀ.
    public static func matmulTransposedB(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for l in 0..<k { s += Double(a[i * k + l]) * Double(b[j * k + l]) }
                c[i * n + j] = Float(s)
            }
        }
        return c
    }
}
