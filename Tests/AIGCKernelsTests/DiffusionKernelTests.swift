// The kernels added for latent diffusion: exact GELU and GEGLU (AVX2 polynomial against the libm
// twin and a Double reference), the vectorised LayerNorm against its naive twin, the general gemm
// against a naive product, and addScalar; on sizes that are not multiples of the SIMD width.
import AIGCKernels
import AIGCTestSupport
import CKernels
import Foundation
import Testing

@Suite struct DiffusionKernelTests {
    static let sizes = [1, 7, 8, 33, 1000]

    static func geluReference(_ x: Float) -> Float { Float(0.5 * Double(x) * (1 + erf(Double(x) / 2.0.squareRoot()))) }

    @Test(arguments: sizes)
    func geluAndGegluMatchErfOnBothPaths(_ n: Int) {
        var rng = TestRandom(seed: UInt64(700 + n))
        let x = rng.floats(n, scale: 4) + [-12, -6, -3, -0.5, 0, 0.5, 3, 6, 12].prefix(n), h = rng.floats(x.count)
        defer { aigc_set_simd_level(aigc_cpu_simd_level()) }
        for level in [AIGC_SIMD_SCALAR, AIGC_SIMD_AVX2] {
            aigc_set_simd_level(Int32(level.rawValue))
            var g = x
            geluErf(&g, count: g.count)
            expectClose(g, x.map(Self.geluReference), atol: 3e-7, rtol: 2e-6, "gelu level \(level)")
            var out = [Float](repeating: 0, count: x.count)
            geglu(into: &out, hidden: h, gate: x, count: x.count)
            expectClose(out, zip(h, x).map { $0 * Self.geluReference($1) }, atol: 1e-6, rtol: 2e-6, "geglu level \(level)")
            var inPlace = h
            inPlace.withUnsafeMutableBufferPointer { geglu(into: $0.baseAddress!, hidden: $0.baseAddress!, gate: x, count: x.count) }
            #expect(inPlace == out, "geglu in place level \(level)")
        }
    }

    @Test(arguments: sizes)
    func expShiftedIsSoftmaxBeforeItsDivision(_ n: Int) {
        var rng = TestRandom(seed: UInt64(900 + n))
        let x = rng.floats(n, scale: 30)
        defer { aigc_set_simd_level(aigc_cpu_simd_level()) }
        for level in [AIGC_SIMD_SCALAR, AIGC_SIMD_AVX2] {
            aigc_set_simd_level(Int32(level.rawValue))
            var e = x
            let sum = expShifted(&e, count: n)
            expectClose(e.map { $0 / sum }, Reference.softmax(x), atol: 1e-7, rtol: 2e-6, "level \(level)")
            #expect(abs(sum - e.reduce(0, +)) <= 1e-5 * sum && e.max() == 1)
        }
    }

    @Test(arguments: sizes)
    func layerNormMatchesNaiveTwin(_ n: Int) {
        var rng = TestRandom(seed: UInt64(800 + n))
        let x = rng.floats(n, scale: 3).map { $0 + 5 }, w = rng.floats(n), b = rng.floats(n)
        var y = [Float](repeating: 0, count: n)
        layerNorm(into: &y, x, weight: w, bias: b, count: n, eps: 1e-5)
        expectClose(y, Reference.layerNorm(x, weight: w, bias: b, eps: 1e-5), atol: 2e-5, rtol: 1e-4, "layer norm \(n)")
        var inPlace = x
        inPlace.withUnsafeMutableBufferPointer { layerNorm(into: $0.baseAddress!, $0.baseAddress!, weight: w, bias: b, count: n, eps: 1e-5) }
        #expect(inPlace == y)
    }

    @Test func gemmTransposesAndScales() {
        var rng = TestRandom(seed: 31)
        let m = 5, n = 7, k = 3
        let a = rng.floats(m * k), b = rng.floats(k * n)
        var expected = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { for p in 0..<k { expected[i * n + j] += 0.5 * a[i * k + p] * b[p * n + j] } } }
        // A stored [k, m] and B stored [n, k]: the same product through both transposes.
        let aT = (0..<(k * m)).map { a[($0 % m) * k + $0 / m] }, bT = (0..<(n * k)).map { b[($0 % k) * n + $0 / k] }
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            var c = [Float](repeating: 1, count: m * n)
            gemm(into: &c, ta ? aT : a, transposeA: ta, tb ? bT : b, transposeB: tb, m: m, n: n, k: k,
                 lda: ta ? m : k, ldb: tb ? k : n, ldc: n, alpha: 0.5, accumulate: true)
            expectClose(c, expected.map { $0 + 1 }, atol: 1e-6, rtol: 1e-5, "transposeA \(ta) transposeB \(tb)")
        }
    }

    @Test func addScalarAddsToEveryValue() {
        var x: [Float] = (0..<19).map(Float.init)
        addScalar(2.5, into: &x, count: 17)
        #expect(x == (0..<17).map { Float($0) + 2.5 } + [17, 18])
    }
}
