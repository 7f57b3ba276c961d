// Norms, upsampling, pooling and activations over image tensors against the naive Reference twins,
// on shapes whose planes and channel counts are not multiples of 8.
import AIGCKernels
import AIGCLayers
import AIGCTensor
import AIGCTestSupport
import CKernels
import Testing

@Suite struct ImageLayerTests {
    static let shapes: [[Int]] = [[1, 1, 1, 1], [2, 3, 5, 7], [1, 6, 9, 9], [3, 12, 4, 11], [2, 64, 17, 17]]
    static let pool = ComputePool(threads: 2)

    @Test(arguments: shapes)
    func batchNormMatchesReference(_ s: [Int]) throws {
        var rng = TestRandom(seed: UInt64(s.reduce(0, +)))
        let x = randomImage(&rng, s[0], s[1], s[2], s[3], scale: 3)
        let mean = rng.floats(s[1]), variance = rng.floats(s[1]).map { abs($0) + 0.05 }, w = rng.floats(s[1]), b = rng.floats(s[1])
        let norm = try BatchNorm2d(weight: Tensor(shape: [s[1]], floats: w), bias: Tensor(shape: [s[1]], floats: b),
                                   runningMean: Tensor(shape: [s[1]], floats: mean), runningVariance: Tensor(shape: [s[1]], floats: variance))
        var y = x
        norm.forward(&y, pool: ImageLayerTests.pool)
        let expected = Reference.batchNorm2d(x.values, batch: s[0], channels: s[1], planeSize: s[2] * s[3], mean: mean, variance: variance,
                                             weight: w, bias: b, eps: 1e-5)
        expectClose(y.values, expected, atol: 1e-5, rtol: 1e-5, "batch norm \(s)")
    }

    @Test(arguments: [([2, 6, 5, 3], 3), ([1, 64, 17, 17], 32), ([3, 5, 7, 1], 5), ([1, 4, 1, 1], 1)])
    func groupNormMatchesReference(_ s: [Int], _ groups: Int) throws {
        var rng = TestRandom(seed: UInt64(groups * 31 + s[1]))
        let x = ImageTensor(batch: s[0], channels: s[1], height: s[2], width: s[3], values: rng.floats(s.reduce(1, *), scale: 2).map { $0 + 3 })
        let w = rng.floats(s[1]), b = rng.floats(s[1])
        let norm = try GroupNorm(groups: groups, weight: Tensor(shape: [s[1]], floats: w), bias: Tensor(shape: [s[1]], floats: b), channels: s[1])
        var y = x
        norm.forward(&y, pool: ImageLayerTests.pool)
        let expected = Reference.groupNorm(x.values, batch: s[0], channels: s[1], planeSize: s[2] * s[3], groups: groups, weight: w, bias: b, eps: 1e-5)
        expectClose(y.values, expected, atol: 2e-5, rtol: 1e-4, "group norm \(s) / \(groups)")
        #expect(throws: TensorError.self) { try GroupNorm(groups: 4, weight: nil, bias: nil, channels: 6) }
    }

    @Test(arguments: shapes)
    func channelLayerNormMatchesReference(_ s: [Int]) throws {
        var rng = TestRandom(seed: UInt64(s.reduce(7, +)))
        let x = randomImage(&rng, s[0], s[1], s[2], s[3], scale: 2)
        let w = rng.floats(s[1]), b = rng.floats(s[1])
        let norm = try ChannelLayerNorm(weight: Tensor(shape: [s[1]], floats: w), bias: Tensor(shape: [s[1]], floats: b), channels: s[1])
        var y = x
        norm.forward(&y, pool: ImageLayerTests.pool)
        let expected = Reference.channelLayerNorm(x.values, batch: s[0], channels: s[1], planeSize: s[2] * s[3], weight: w, bias: b, eps: 1e-6)
        // One channel normalises to exactly the bias (x - mean = 0); eps decides the rest.
        expectClose(y.values, expected, atol: 3e-5, rtol: 1e-4, "channel layer norm \(s)")
    }

    @Test(arguments: [([1, 1, 1, 1], 2), ([2, 3, 5, 7], 2), ([1, 2, 3, 3], 3), ([1, 64, 9, 9], 2)])
    func upsampleMatchesReference(_ s: [Int], _ factor: Int) {
        var rng = TestRandom(seed: UInt64(factor))
        let x = randomImage(&rng, s[0], s[1], s[2], s[3])
        let y = UpsampleNearest(factor: factor).forward(x, pool: ImageLayerTests.pool)
        #expect(y.shape == [s[0], s[1], s[2] * factor, s[3] * factor])
        #expect(y.values == Reference.upsampleNearest(x.values, planes: s[0] * s[1], height: s[2], width: s[3], factor: factor))
    }

    @Test(arguments: [(PoolingMode.average, 2, 2, 0), (.average, 3, 2, 1), (.max, 2, 2, 0), (.max, 3, 2, 1), (.max, 3, 1, 1)])
    func poolingMatchesReference(_ mode: PoolingMode, _ kernel: Int, _ stride: Int, _ padding: Int) {
        var rng = TestRandom(seed: UInt64(kernel * 10 + stride))
        let x = randomImage(&rng, 2, 3, 7, 9)
        let pool = Pool2d(mode, kernel: kernel, stride: stride, padding: padding)
        let y = pool.forward(x, pool: ImageLayerTests.pool)
        let expected = Reference.pool2d(x.values, planes: 6, height: 7, width: 9, geometry: pool.geometry, mode: mode)
        #expect(y.shape == [2, 3] + [pool.geometry.outputSize(height: 7, width: 9).height, pool.geometry.outputSize(height: 7, width: 9).width])
        expectClose(y.values, expected, atol: 1e-6, rtol: 1e-6, "\(mode) pool k\(kernel) s\(stride) p\(padding)")
    }

    static let activations: [(ImageActivation, @Sendable ([Float]) -> [Float])] = [
        (.relu, Reference.relu), (.leakyReLU(slope: 0.2), { Reference.leakyReLU($0, slope: 0.2) }), (.sigmoid, Reference.sigmoid),
        (.tanh, Reference.tanh), (.silu, Reference.silu), (.gelu, Reference.geluErf), (.geluTanh, Reference.geluTanh),
    ]

    @Test(arguments: 0..<7)
    func activationsMatchReferenceOnBothPaths(_ index: Int) {
        let (activation, reference) = ImageLayerTests.activations[index]
        // 70_003 values: more than one task of the pool, and a tail that is not a multiple of 8.
        var rng = TestRandom(seed: UInt64(index))
        let x = ImageTensor(batch: 1, channels: 7, height: 73, width: 137, values: rng.floats(7 * 73 * 137, scale: 6))
        defer { aigc_set_simd_level(aigc_cpu_simd_level()) }
        for level in [AIGC_SIMD_SCALAR, AIGC_SIMD_AVX2] {
            aigc_set_simd_level(Int32(level.rawValue))
            var y = x
            activation.forward(&y, pool: ImageLayerTests.pool)
            expectClose(y.values, reference(x.values), atol: 2e-6, rtol: 2e-6, "\(activation) at SIMD level \(level)")
        }
    }
}
