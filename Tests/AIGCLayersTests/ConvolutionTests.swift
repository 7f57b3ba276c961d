// Conv2d and ConvTranspose2d against their naive Reference twins on awkward shapes (odd sizes,
// stride 2, dilation, groups > 1, channels that are not multiples of 8, tiles that do not divide
// the image), and the same bits on one thread and two.
import AIGCKernels
import AIGCLayers
import AIGCTensor
import AIGCTestSupport
import Testing

struct ConvCase: CustomTestStringConvertible, Sendable {
    var batch = 1, channels = 3, height = 7, width = 9, out = 5, kernel = 3, stride = 1, padding = 0, dilation = 1, groups = 1
    var outputPadding = 0
    var bias = true
    var mode = PaddingMode.zeros
    var testDescription: String {
        "N\(batch) C\(channels) \(height)x\(width) -> \(out) k\(kernel) s\(stride) p\(padding) d\(dilation) g\(groups) op\(outputPadding) \(mode)\(bias ? "" : " no bias")"
    }
}

func randomImage(_ rng: inout TestRandom, _ n: Int, _ c: Int, _ h: Int, _ w: Int, scale: Float = 1) -> ImageTensor {
    ImageTensor(batch: n, channels: c, height: h, width: w, values: rng.floats(n * c * h * w, scale: scale))
}

@Suite struct ConvolutionTests {
    static let pools = [ComputePool(threads: 1), ComputePool(threads: 2)]

    static let convolutions: [ConvCase] = [
        ConvCase(),
        ConvCase(batch: 2, channels: 3, height: 7, width: 9, out: 5, kernel: 3, padding: 1),
        ConvCase(channels: 5, height: 9, width: 11, out: 6, kernel: 3, stride: 2, padding: 1),
        ConvCase(batch: 2, channels: 6, height: 10, width: 9, out: 4, kernel: 5, padding: 2, dilation: 2, groups: 2),
        ConvCase(channels: 6, height: 5, width: 5, out: 6, kernel: 3, padding: 1, groups: 6, bias: false),
        ConvCase(batch: 2, channels: 4, height: 6, width: 7, out: 3, kernel: 3, padding: 1, mode: .replicate),
        ConvCase(channels: 2, height: 9, width: 8, out: 3, kernel: 7, stride: 2, padding: 3, mode: .replicate),
        ConvCase(batch: 3, channels: 9, height: 5, width: 3, out: 7, kernel: 1),
        ConvCase(channels: 1, height: 1, width: 1, out: 2, kernel: 1, bias: false),
        ConvCase(channels: 3, height: 4, width: 13, out: 2, kernel: 3, stride: 3, padding: 2, dilation: 3),
        // Several position tiles per image (4 tiles of 232 positions for 630 patch rows).
        ConvCase(channels: 70, height: 29, width: 31, out: 9, kernel: 3, padding: 1),
    ]

    @Test(arguments: convolutions)
    func conv2dMatchesReference(_ c: ConvCase) throws {
        var rng = TestRandom(seed: UInt64(c.channels * 1000 + c.height * 10 + c.kernel))
        let x = randomImage(&rng, c.batch, c.channels, c.height, c.width)
        let w = rng.floats(c.out * c.channels / c.groups * c.kernel * c.kernel, scale: 0.3), b = rng.floats(c.out)
        let conv = try Conv2d(weight: Tensor(name: "w", shape: [c.out, c.channels / c.groups, c.kernel, c.kernel], floats: w),
                              bias: c.bias ? Tensor(name: "b", shape: [c.out], floats: b) : nil, stride: c.stride, padding: c.padding,
                              dilation: c.dilation, groups: c.groups, paddingMode: c.mode)
        let expected = Reference.conv2d(x.values, batch: c.batch, channels: c.channels, height: c.height, width: c.width, weight: w,
                                        bias: c.bias ? b : nil, outChannels: c.out, geometry: conv.geometry, groups: c.groups, padding: c.mode)
        let outputs = ConvolutionTests.pools.map { conv.forward(x, pool: $0) }
        let (oh, ow) = conv.geometry.outputSize(height: c.height, width: c.width)
        #expect(outputs[0].shape == [c.batch, c.out, oh, ow])
        expectClose(outputs[0].values, expected, atol: 1e-5, rtol: 1e-4, "\(c)")
        #expect(outputs[0].values == outputs[1].values, "one and two threads must give the same bits")
    }

    static let transposed: [ConvCase] = [
        ConvCase(batch: 2, channels: 10, height: 1, width: 1, out: 6, kernel: 4, bias: false),
        ConvCase(batch: 2, channels: 5, height: 4, width: 4, out: 3, kernel: 3, stride: 2, padding: 1),
        ConvCase(channels: 4, height: 7, width: 5, out: 3, kernel: 4, stride: 2, padding: 1, bias: false),
        ConvCase(channels: 4, height: 3, width: 5, out: 6, kernel: 3, stride: 2, padding: 1, groups: 2, outputPadding: 1),
        ConvCase(channels: 3, height: 4, width: 3, out: 2, kernel: 3, stride: 3, padding: 2, dilation: 2, outputPadding: 1),
        ConvCase(batch: 3, channels: 9, height: 5, width: 6, out: 7, kernel: 1),
        // Several channel blocks per group (one channel per block for 4x4 kernels over 128 x 128 positions).
        ConvCase(channels: 3, height: 128, width: 128, out: 5, kernel: 4, stride: 2, padding: 1),
    ]

    @Test(arguments: transposed)
    func convTranspose2dMatchesReference(_ c: ConvCase) throws {
        var rng = TestRandom(seed: UInt64(c.channels * 1000 + c.height * 10 + c.kernel + 7))
        let x = randomImage(&rng, c.batch, c.channels, c.height, c.width)
        let w = rng.floats(c.channels * c.out / c.groups * c.kernel * c.kernel, scale: 0.3), b = rng.floats(c.out)
        let conv = try ConvTranspose2d(weight: Tensor(name: "w", shape: [c.channels, c.out / c.groups, c.kernel, c.kernel], floats: w),
                                       bias: c.bias ? Tensor(name: "b", shape: [c.out], floats: b) : nil, stride: c.stride, padding: c.padding,
                                       outputPadding: c.outputPadding, dilation: c.dilation, groups: c.groups)
        let expected = Reference.convTranspose2d(x.values, batch: c.batch, channels: c.channels, height: c.height, width: c.width, weight: w,
                                                 bias: c.bias ? b : nil, outChannels: c.out, geometry: conv.geometry,
                                                 outputPadding: (c.outputPadding, c.outputPadding), groups: c.groups)
        let outputs = ConvolutionTests.pools.map { conv.forward(x, pool: $0) }
        let (oh, ow) = conv.geometry.transposedOutputSize(height: c.height, width: c.width, outputPaddingHeight: c.outputPadding,
                                                          outputPaddingWidth: c.outputPadding)
        #expect(outputs[0].shape == [c.batch, c.out, oh, ow])
        expectClose(outputs[0].values, expected, atol: 1e-5, rtol: 1e-4, "\(c)")
        #expect(outputs[0].values == outputs[1].values, "one and two threads must give the same bits")
    }

    @Test func strideTwoConvolutionDownsamplesOddSizes() throws {
        // A strided conv is the latent-diffusion downsampler: 9x7 -> 5x4 with k3 s2 p1.
        let conv = try Conv2d(weight: Tensor(shape: [1, 1, 3, 3], floats: [Float](repeating: 1, count: 9)), bias: nil, stride: 2, padding: 1)
        let y = conv.forward(ImageTensor(batch: 1, channels: 1, height: 9, width: 7, values: [Float](repeating: 1, count: 63)))
        #expect(y.shape == [1, 1, 5, 4])
        #expect(y.values[0] == 4 && y.values[5] == 9, "corner sees 2x2 ones, interior 3x3")
    }

    @Test func badWeightsAreRefusedAtLoad() {
        #expect(throws: TensorError.self) { try Conv2d(weight: Tensor(shape: [3, 3], floats: [Float](repeating: 0, count: 9)), bias: nil) }
        #expect(throws: TensorError.self) {
            try Conv2d(weight: Tensor(shape: [4, 2, 3, 3], floats: [Float](repeating: 0, count: 72)), bias: Tensor(shape: [3], floats: [0, 0, 0]))
        }
        #expect(throws: TensorError.self) {
            try Conv2d(weight: Tensor(shape: [5, 2, 3, 3], floats: [Float](repeating: 0, count: 90)), bias: nil, groups: 2)
        }
        #expect(throws: TensorError.self) {
            try ConvTranspose2d(weight: Tensor(shape: [4, 2, 3, 3], floats: [Float](repeating: 0, count: 72)), bias: Tensor(shape: [3], floats: [0, 0, 0]))
        }
    }
}
