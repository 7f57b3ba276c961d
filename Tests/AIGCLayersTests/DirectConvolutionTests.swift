// The direct convolution kernel (CKernels/conv_direct.c, Conv2d+Direct.swift) against the
// im2col + sgemm path and against its own portable C loop: odd channel counts (channel blocks
// with a tail), widths that leave partial tiles, 5x5 and 1x3 windows, replicate padding, no
// padding, batches, accumulation onto a residual, and the same bits on one thread and two.
import AIGCKernels
@testable import AIGCLayers
import AIGCTensor
import AIGCTestSupport
import CKernels
import Testing

struct DirectCase: CustomTestStringConvertible, Sendable {
    var batch = 1, channels = 3, height = 7, width = 9, out = 5, kernelHeight = 3, kernelWidth = 3, padHeight = 1, padWidth = 1
    var mode = PaddingMode.zeros
    var testDescription: String {
        "N\(batch) C\(channels) \(height)x\(width) -> \(out) k\(kernelHeight)x\(kernelWidth) p\(padHeight),\(padWidth) \(mode)"
    }
}

@Suite struct DirectConvolutionTests {
    static let cases: [DirectCase] = [
        DirectCase(),
        DirectCase(batch: 2, channels: 64, height: 13, width: 19, out: 13),
        DirectCase(channels: 64, height: 24, width: 24, out: 64),
        DirectCase(batch: 3, channels: 7, height: 11, width: 5, out: 6, kernelHeight: 5, kernelWidth: 5, padHeight: 2, padWidth: 2, mode: .replicate),
        DirectCase(channels: 4, height: 1, width: 1, out: 7),
        DirectCase(channels: 5, height: 6, width: 17, out: 2, kernelHeight: 1, kernelWidth: 3, padHeight: 0, padWidth: 1),
        DirectCase(channels: 2, height: 9, width: 10, out: 8, padHeight: 0, padWidth: 0),
        DirectCase(batch: 2, channels: 3, height: 40, width: 33, out: 12, mode: .replicate),
    ]

    static func convolution(_ c: DirectCase, _ rng: inout TestRandom) throws -> Conv2d {
        let taps = c.kernelHeight * c.kernelWidth
        let geometry = ConvGeometry(kernelHeight: c.kernelHeight, kernelWidth: c.kernelWidth, paddingHeight: c.padHeight, paddingWidth: c.padWidth)
        return try Conv2d(weight: Tensor(name: "w", shape: [c.out, c.channels, c.kernelHeight, c.kernelWidth], floats: rng.floats(c.out * c.channels * taps, scale: 0.3)),
                          bias: Tensor(name: "b", shape: [c.out], floats: rng.floats(c.out)), geometry: geometry, paddingMode: c.mode)
    }

    @Test(arguments: cases)
    func directKernelMatchesIm2colAndItsPortableLoop(_ c: DirectCase) throws {
        var rng = TestRandom(seed: UInt64(c.channels * 100 + c.height + c.kernelWidth))
        let conv = try DirectConvolutionTests.convolution(c, &rng)
        #expect(conv.directWeights != nil, "\(c) should take the direct kernel")
        let x = randomImage(&rng, c.batch, c.channels, c.height, c.width)
        let (oh, ow) = conv.geometry.outputSize(height: c.height, width: c.width)
        func output(_ body: (inout ImageTensor) -> Void) -> ImageTensor {
            var y = ImageTensor(batch: c.batch, channels: c.out, height: oh, width: ow)
            body(&y)
            return y
        }
        let serial = ComputePool(threads: 1), pair = ComputePool(threads: 2)
        let im2col = output { conv.runIm2col(x, into: &$0, accumulate: false, pool: serial) }
        let portable = output { conv.runDirect(x, into: &$0, accumulate: false, pool: serial, portable: true) }
        expectClose(portable.values, im2col.values, atol: 1e-4, rtol: 1e-4, "portable direct loop, \(c)")
        if aigc_cpu_simd_level() >= Int32(AIGC_SIMD_AVX2.rawValue) {
            let fast = output { conv.runDirect(x, into: &$0, accumulate: false, pool: serial) }
            let fastPair = output { conv.runDirect(x, into: &$0, accumulate: false, pool: pair) }
            expectClose(fast.values, portable.values, atol: 1e-5, rtol: 1e-5, "AVX2 direct kernel, \(c)")
            #expect(fast.values == fastPair.values, "one and two threads must give the same bits")
        }
    }

    @Test func directKernelAccumulatesOntoAResidual() throws {
        var rng = TestRandom(seed: 5)
        let c = DirectCase(batch: 2, channels: 16, height: 10, width: 12, out: 9)
        let conv = try DirectConvolutionTests.convolution(c, &rng)
        let x = randomImage(&rng, 2, 16, 10, 12), residual = randomImage(&rng, 2, 9, 10, 12)
        var sum = residual
        conv.forward(x, addingTo: &sum, pool: ComputePool(threads: 2))
        let plain = conv.forward(x, pool: ComputePool(threads: 2))
        var expected = plain.values
        for i in expected.indices { expected[i] += residual.values[i] }
        expectClose(sum.values, expected, atol: 1e-5, rtol: 1e-5)
    }

    @Test func wideAndStridedConvolutionsKeepIm2col() throws {
        let deep = try Conv2d(weight: Tensor(shape: [8, 128, 3, 3], floats: [Float](repeating: 0.01, count: 8 * 128 * 9)), bias: nil, padding: 1)
        let strided = try Conv2d(weight: Tensor(shape: [8, 4, 3, 3], floats: [Float](repeating: 0.01, count: 8 * 4 * 9)), bias: nil, stride: 2, padding: 1)
        let pointwise = try Conv2d(weight: Tensor(shape: [8, 4, 1, 1], floats: [Float](repeating: 0.01, count: 32)), bias: nil)
        #expect(deep.directWeights == nil && strided.directWeights == nil && pointwise.directWeights == nil)
    }
}
