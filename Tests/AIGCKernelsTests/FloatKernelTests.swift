// Float kernels against their naive Reference twins, on awkward sizes; the worker pool's guarantees.
import AIGCKernels
import AIGCTestSupport
import CKernels
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct FloatKernelTests {
    static let sizes = [1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 257]

    @Test(arguments: sizes)
    func dotMatchesReference(_ n: Int) {
        var rng = TestRandom(seed: UInt64(n))
        let x = rng.floats(n), y = rng.floats(n)
        let fast = x.withUnsafeBufferPointer { a in y.withUnsafeBufferPointer { b in dot(a.baseAddress!, b.baseAddress!, count: n) } }
        #expect(abs(fast - Reference.dot(x, y)) <= 1e-5 * Float(n))
    }

    @Test(arguments: sizes)
    func normsMatchReference(_ n: Int) {
        var rng = TestRandom(seed: UInt64(100 + n))
        let x = rng.floats(n, scale: 3), w = rng.floats(n), b = rng.floats(n)
        var y = [Float](repeating: 0, count: n)
        rmsNorm(into: &y, x, weight: w, count: n, eps: 1e-5)
        expectClose(y, Reference.rmsNorm(x, weight: w, eps: 1e-5), atol: 1e-5, rtol: 1e-5, "rmsNorm n=\(n)")
        if n > 1 {
            layerNorm(into: &y, x, weight: w, bias: b, count: n, eps: 1e-5)
            expectClose(y, Reference.layerNorm(x, weight: w, bias: b, eps: 1e-5), atol: 1e-5, rtol: 1e-4, "layerNorm n=\(n)")
        }
    }

    @Test(arguments: sizes)
    func softmaxSumsToOneAndIgnoresShift(_ n: Int) {
        var rng = TestRandom(seed: UInt64(200 + n))
        let x = rng.floats(n, scale: 5)
        var a = x, b = x.map { $0 + 123.5 }
        softmax(&a, count: n)
        softmax(&b, count: n)
        #expect(abs(a.reduce(0, +) - 1) < 1e-5)
        expectClose(a, Reference.softmax(x), atol: 1e-6, rtol: 1e-5, "softmax")
        expectClose(b, a, atol: 1e-6, rtol: 1e-4, "shifted softmax")
    }

    @Test(arguments: sizes)
    func expBasedKernelsMatchReferenceOnBothPaths(_ n: Int) {
        var rng = TestRandom(seed: UInt64(300 + n))
        let g = rng.floats(n, scale: 6), u = rng.floats(n), big = rng.floats(n, scale: 40)
        defer { aigc_set_simd_level(aigc_cpu_simd_level()) }
        for level in [AIGC_SIMD_SCALAR, AIGC_SIMD_AVX2] {
            aigc_set_simd_level(Int32(level.rawValue))
            var s = g
            swiglu(&s, u, count: n)
            expectClose(s, Reference.swiglu(g, u), atol: 1e-6, rtol: 2e-6, "swiglu level \(level)")
            var e = g
            geluTanh(&e, count: n)
            expectClose(e, Reference.geluTanh(g), atol: 1e-6, rtol: 2e-6, "gelu level \(level)")
            var p = big
            let logNormaliser = softmax(&p, count: n)
            expectClose(p, Reference.softmax(big), atol: 1e-7, rtol: 2e-6, "softmax level \(level)")
            let m = big.max()!
            #expect(abs(logNormaliser - (m + log(big.reduce(0) { $0 + exp($1 - m) }))) < 1e-4)
        }
    }

    /// Decode attention of one head over cache rows of floats and of half floats, on both SIMD levels:
    /// counts around the eight-key groups, head sizes that are and are not multiples of 8, key and
    /// value rows strided inside wider cache rows. Half rows are checked against the reference on the
    /// same halves widened to floats.
    @Test(arguments: [1, 2, 7, 8, 9, 16, 31, 65, 130])
    func attentionMatchesReferenceOnBothPaths(_ n: Int) {
        defer { aigc_set_simd_level(aigc_cpu_simd_level()) }
        for dim in [8, 20, 64, 72, 128] {
            var rng = TestRandom(seed: UInt64(400 + n * 7 + dim))
            let stride = 3 * dim + 5, offset = dim + 3, scale = 1 / Float(dim).squareRoot()
            let q = rng.floats(dim, scale: 2), keyRows = rng.floats(n * stride, scale: 2), valueRows = rng.floats(n * stride)
            for half in [false, true] {
                let k = half ? keyRows.map { aigc_f16_to_f32(aigc_f32_to_f16($0)) } : keyRows
                let v = half ? valueRows.map { aigc_f16_to_f32(aigc_f32_to_f16($0)) } : valueRows
                let keys = (0..<n).flatMap { k[($0 * stride + offset)..<($0 * stride + offset + dim)] }
                let values = (0..<n).flatMap { v[($0 * stride + offset)..<($0 * stride + offset + dim)] }
                let expected = Reference.attend(q, keys: keys, values: values, count: n, dim: dim, scale: scale)
                let halfKeys = keyRows.map(aigc_f32_to_f16), halfValues = valueRows.map(aigc_f32_to_f16)
                for level in [AIGC_SIMD_SCALAR, AIGC_SIMD_AVX2] {
                    aigc_set_simd_level(Int32(level.rawValue))
                    var out = [Float](repeating: .nan, count: dim), scores = [Float](repeating: 0, count: n)
                    func run(_ keys: UnsafeRawPointer, _ values: UnsafeRawPointer, _ bytes: Int) {
                        attend(into: &out, query: q, keys: keys + offset * bytes, values: values + offset * bytes, half: half, count: n,
                               stride: stride, dim: dim, scale: scale, scores: &scores)
                    }
                    if half { run(halfKeys, halfValues, 2) } else { run(keyRows, valueRows, 4) }
                    expectClose(out, expected, atol: 1e-5, rtol: 1e-4, "attend n=\(n) dim=\(dim) half \(half) level \(level)")
                    #expect(abs(scores.reduce(0, +) - 1) < 1e-5)
                }
            }
        }
    }

    /// Cache rows: rounded to the nearest half like the portable conversion, and saturated at the
    /// largest finite half instead of overflowing to infinity, on both SIMD levels and odd lengths.
    @Test(arguments: [1, 7, 8, 9, 61])
    func cacheRowsRoundAndSaturateOnBothPaths(_ n: Int) {
        defer { aigc_set_simd_level(aigc_cpu_simd_level()) }
        var rng = TestRandom(seed: UInt64(90 + n))
        var x = rng.floats(n, scale: 3)
        x[0] = 1e6
        if n > 2 { x[n - 1] = -70000; x[n / 2] = 65519 }
        let expected = x.map { aigc_f32_to_f16(min(65504, max(-65504, $0))) }
        #expect(expected[0] == 0x7BFF)
        for level in [AIGC_SIMD_SCALAR, AIGC_SIMD_AVX2] {
            aigc_set_simd_level(Int32(level.rawValue))
            var out = [UInt16](repeating: 0, count: n)
            aigc_store_half_saturated(x, &out, Int64(n))
            #expect(out == expected, "level \(level)")
            #expect(out.allSatisfy { aigc_f16_to_f32($0).isFinite })
        }
    }

    @Test func ropeRotationsPreserveNorm() {
        var rng = TestRandom(seed: 9)
        let headDim = 16, heads = 3
        for style in [RopeStyle.interleaved, .neox] {
            var x = rng.floats(heads * headDim)
            let before = x
            var c = [Float](repeating: 0, count: headDim / 2), s = c
            ropeAngles(position: 5, ropeDims: headDim, base: 10000, frequencyFactors: nil, cos: &c, sin: &s)
            rope(&x, heads: heads, headDim: headDim, ropeDims: headDim, cos: c, sin: s, style: style)
            for h in 0..<heads {
                let n0 = before[(h * headDim)..<((h + 1) * headDim)].reduce(0) { $0 + $1 * $1 }
                let n1 = x[(h * headDim)..<((h + 1) * headDim)].reduce(0) { $0 + $1 * $1 }
                #expect(abs(n0 - n1) < 1e-4 * n0)
            }
            // Position 0 is the identity.
            var y = before
            ropeAngles(position: 0, ropeDims: headDim, base: 10000, frequencyFactors: nil, cos: &c, sin: &s)
            rope(&y, heads: heads, headDim: headDim, ropeDims: headDim, cos: c, sin: s, style: style)
            #expect(y == before)
        }
    }

    @Test func sgemmMatchesReference() {
        var rng = TestRandom(seed: 11)
        let m = 5, n = 7, k = 13
        let a = rng.floats(m * k), b = rng.floats(n * k)
        var c = [Float](repeating: 0, count: m * n)
        matmulTransposedB(into: &c, a, b, m: m, n: n, k: k)
        expectClose(c, Reference.matmulTransposedB(a, b, m: m, n: n, k: k), atol: 1e-5, rtol: 1e-4, "sgemm")
    }
}

@Suite struct ComputePoolTests {
    @Test(arguments: [1, 2, 4])
    func everyTaskRunsExactlyOnce(_ threads: Int) {
        let pool = ComputePool(threads: threads)
        for tasks in [1, 2, 3, 17, 1000] {
            let counts = Mutex([Int](repeating: 0, count: tasks))
            let badThread = Atomic<Int>(0)
            pool.parallelFor(tasks) { task, thread in
                if thread < 0 || thread >= pool.threads { badThread.add(1, ordering: .relaxed) }
                counts.withLock { $0[task] += 1 }
            }
            #expect(counts.withLock { $0.allSatisfy { $0 == 1 } }, "\(tasks) tasks on \(threads) threads")
            #expect(badThread.load(ordering: .relaxed) == 0)
        }
    }

    /// A worker that stalls (as one preempted by another process does) makes the pool run jobs on the
    /// caller alone for a while, and every task still runs exactly once. (That a quiet pool stays on
    /// two threads is shown by `benchmarks/contention.sh` and the 2-thread figures, not here: other
    /// tests running beside this one can preempt a worker.)
    @Test func aStallingWorkerSendsThePoolSolo() {
        let pool = ComputePool(threads: 2)
        let onWorkers = Atomic<Int>(0), runs = Atomic<Int>(0)
        // Jobs of 4 tasks of 50 us; a task the worker takes sleeps 2 ms, far beyond the caller's share.
        func spin(microseconds: UInt64) {
            let end = DispatchTime.now().uptimeNanoseconds + microseconds * 1000
            while DispatchTime.now().uptimeNanoseconds < end {}
        }
        for _ in 0..<64 {
            pool.parallelFor(4) { _, thread in
                runs.add(1, ordering: .relaxed)
                if thread != 0 {
                    onWorkers.add(1, ordering: .relaxed)
                    usleep(2000)
                } else {
                    spin(microseconds: 50)
                }
            }
        }
        #expect(runs.load(ordering: .relaxed) == 64 * 4)
        #expect(onWorkers.load(ordering: .relaxed) > 0, "the worker took part before the pool went solo")
        #expect(pool.soloPeriods >= 1, "the caller waited for a stalled worker in every job")
        // The window of 64 stalled jobs starts a solo period of 10 ms: jobs run within it stay on the
        // caller (checked when they ran within 5 ms of the stalled jobs: tests beside this one can
        // delay them past the period's end).
        let before = onWorkers.load(ordering: .relaxed), start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<4 {
            pool.parallelFor(4) { _, thread in
                if thread != 0 { onWorkers.add(1, ordering: .relaxed) } else { spin(microseconds: 50) }
            }
        }
        if DispatchTime.now().uptimeNanoseconds - start < 5_000_000 {
            #expect(onWorkers.load(ordering: .relaxed) == before, "jobs right after a stalled window run on the caller alone")
        }
    }

    @Test func rangesCoverTheWholeCount() {
        let pool = ComputePool(threads: 2)
        for count in [1, 5, 63, 64, 65, 1000] {
            let seen = Mutex([Int](repeating: 0, count: count))
            pool.parallelRanges(count, minimum: 8) { range, _ in seen.withLock { s in for i in range { s[i] += 1 } } }
            #expect(seen.withLock { $0.allSatisfy { $0 == 1 } })
        }
    }

    @Test func concurrentAndNestedCallersAreSafe() async {
        final class Counter: Sendable { let value = Atomic<Int>(0) }
        let pool = ComputePool(threads: 2)
        let total = Counter()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<50 {
                        pool.parallelFor(8) { _, _ in
                            pool.parallelFor(3) { _, _ in total.value.add(1, ordering: .relaxed) }
                        }
                    }
                }
            }
        }
        #expect(total.value.load(ordering: .relaxed) == 4 * 50 * 8 * 3)
    }
}
