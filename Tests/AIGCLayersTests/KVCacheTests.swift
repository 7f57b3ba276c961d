// KVCache in both precisions: what it stores reads back (exactly for floats, as the nearest half for
// half floats, saturated rather than infinite), rows survive growth and beam copies, and half rows
// take half the memory.
import AIGCKernels
import AIGCLayers
import AIGCTestSupport
import CKernels
import Testing

@Suite struct KVCacheTests {
    let kvDim = 12, layers = 3

    /// Rows for positions 0..<count of `layer`: distinct per layer and position.
    func rows(layer: Int, count: Int, seed: UInt64) -> [Float] {
        var rng = TestRandom(seed: seed + UInt64(layer) * 101)
        return rng.floats(count * kvDim, scale: 4)
    }

    func fill(_ cache: KVCache, sequence: Int, count: Int) {
        cache.reserve(sequence: sequence, positions: count)
        for l in 0..<layers {
            let k = rows(layer: l, count: count, seed: 1), v = rows(layer: l, count: count, seed: 2)
            for p in 0..<count {
                k.withUnsafeBufferPointer { kb in
                    v.withUnsafeBufferPointer { vb in
                        cache.store(layer: l, sequence: sequence, position: p, key: kb.baseAddress! + p * kvDim, value: vb.baseAddress! + p * kvDim)
                    }
                }
            }
        }
        cache.setLength(count, sequence: sequence)
    }

    func expectRows(_ cache: KVCache, sequence: Int, count: Int, _ what: String) {
        let workspace = Workspace()
        defer { withExtendedLifetime(workspace) {} }
        for l in 0..<layers {
            let (k, v) = cache.floatRows(layer: l, sequence: sequence, count: count, workspace: workspace)
            let expectedK = rows(layer: l, count: count, seed: 1), expectedV = rows(layer: l, count: count, seed: 2)
            let round: (Float) -> Float = cache.precision == .f16 ? { aigc_f16_to_f32(aigc_f32_to_f16($0)) } : { $0 }
            #expect(Array(UnsafeBufferPointer(start: k, count: count * kvDim)) == expectedK.map(round), "\(what) keys, layer \(l)")
            #expect(Array(UnsafeBufferPointer(start: v, count: count * kvDim)) == expectedV.map(round), "\(what) values, layer \(l)")
        }
    }

    @Test(arguments: KVCachePrecision.allCases)
    func rowsSurviveGrowthAndBeamCopies(_ precision: KVCachePrecision) {
        let cache = KVCache(layers: layers, kvDim: kvDim, contextLength: 2048, sequences: 2, precision: precision)
        fill(cache, sequence: 0, count: 5)
        expectRows(cache, sequence: 0, count: 5, "stored")
        // Growing past the first allocation (256 positions) moves every layer's rows.
        fill(cache, sequence: 0, count: 300)
        expectRows(cache, sequence: 0, count: 300, "grown")
        cache.copy(from: 0, to: 1)
        expectRows(cache, sequence: 1, count: 300, "copied")
        #expect(cache.lengths == [300, 300])
    }

    @Test func halfRowsTakeHalfTheMemory() {
        let half = KVCache(layers: layers, kvDim: kvDim, contextLength: 512, sequences: 1, precision: .f16)
        let full = KVCache(layers: layers, kvDim: kvDim, contextLength: 512, sequences: 1, precision: .f32)
        for cache in [half, full] { cache.reserve(sequence: 0, positions: 10) }
        #expect(half.rowBytes == kvDim * 2 && full.rowBytes == kvDim * 4)
        #expect(half.allocatedBytes * 2 == full.allocatedBytes)
        #expect(full.allocatedBytes == 256 * layers * kvDim * 4 * 2)
    }

    @Test func halfRowsSaturateInsteadOfOverflowing() {
        let cache = KVCache(layers: 1, kvDim: 4, contextLength: 16, sequences: 1, precision: .f16)
        cache.reserve(sequence: 0, positions: 1)
        let k: [Float] = [1e9, -1e9, 65504, 1], v: [Float] = [0.5, -70000, .greatestFiniteMagnitude, -2]
        cache.store(layer: 0, sequence: 0, position: 0, key: k, value: v)
        let workspace = Workspace()
        withExtendedLifetime(workspace) {
            let (kr, vr) = cache.floatRows(layer: 0, sequence: 0, count: 1, workspace: workspace)
            #expect(Array(UnsafeBufferPointer(start: kr, count: 4)) == [65504, -65504, 65504, 1])
            #expect(Array(UnsafeBufferPointer(start: vr, count: 4)) == [0.5, -65504, 65504, -2])
        }
    }
}
