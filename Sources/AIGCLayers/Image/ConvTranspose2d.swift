// ConvTranspose2d: nn.ConvTranspose2d (weight [in, out / groups, kH, kW]; stride, padding,
// output_padding, dilation, groups, bias) as sgemm + col2im, the exact method of PyTorch's CPU path
// (pytorch/pytorch aten/src/ATen/native/NaiveConvolutionTranspose2d.cpp @ 7f35e082d741f4b8a4dfa816a464abbe4ec635fd):
// columns = Wᵀ · x, then every column is scatter-added into the output window it belongs to.
// Tasks are (image, group, block of output channels); a block's columns scatter only into its own
// channels, so tasks never write the same value.
import AIGCKernels
import AIGCTensor

/// A 2-D transposed convolution (fractionally strided; the adjoint of Conv2d).
public struct ConvTranspose2d: @unchecked Sendable {
    /// [in, out / groups, kH, kW], F32.
    public let weight: Tensor
    /// [out], F32.
    public let bias: Tensor?
    /// Input channels (weight dimension 0).
    public let inChannels: Int
    /// Output channels (weight dimension 1 times groups).
    public let outChannels: Int
    /// Channel groups convolved separately.
    public let groups: Int
    /// Kernel, stride, padding (cropped from the output) and dilation.
    public let geometry: ConvGeometry
    /// Extra rows and columns added at the bottom and right of the output (PyTorch `output_padding`).
    public let outputPadding: (height: Int, width: Int)

    /// Square kernels; checks the weight and bias shapes.
    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0, outputPadding: Int = 0, dilation: Int = 1,
                groups: Int = 1) throws {
        let s = weight.shape
        guard s.count == 4, groups > 0, s[0] % groups == 0 else {
            throw TensorError.shapeMismatch(name: weight.name, expected: [-1, -1, -1, -1], actual: s,
                                            source: "conv-transpose2d weight [in, out / groups, kH, kW] (\(groups) groups must divide the input channels)")
        }
        precondition(outputPadding >= 0 && outputPadding < max(stride, dilation), "output padding must be below the stride or the dilation")
        if let bias, bias.elementCount != s[1] * groups {
            throw TensorError.shapeMismatch(name: bias.name, expected: [s[1] * groups], actual: bias.shape, source: "conv-transpose2d bias")
        }
        guard weight.dtype.isComputable else {
            throw TensorError.unsupportedType(name: weight.name, dtype: weight.dtype, hint: "aigc cannot convolve with")
        }
        self.weight = weight.toFloat32()
        self.bias = bias?.toFloat32()
        inChannels = s[0]
        outChannels = s[1] * groups
        self.groups = groups
        geometry = ConvGeometry(kernelHeight: s[2], kernelWidth: s[3], strideHeight: stride, strideWidth: stride,
                                paddingHeight: padding, paddingWidth: padding, dilationHeight: dilation, dilationWidth: dilation)
        self.outputPadding = (outputPadding, outputPadding)
    }

    /// Output channels per task: about 1 MiB of columns; a function of the shapes only, so results
    /// do not depend on the thread count.
    static func channelBlock(kernelArea: Int, inputPositions: Int, outPerGroup: Int) -> Int {
        max(1, min(outPerGroup, (1 << 18) / max(1, kernelArea * inputPositions)))
    }

    /// [N, in, H, W] -> [N, out, (H-1)s - 2p + d(kH-1) + outputPadding + 1, (likewise for W)].
    public func forward(_ x: ImageTensor, pool: ComputePool = .shared) -> ImageTensor {
        precondition(x.channels == inChannels, "conv-transpose2d \(weight.name) takes \(inChannels) channels, got \(x.channels)")
        let g = geometry
        let (outHeight, outWidth) = g.transposedOutputSize(height: x.height, width: x.width, outputPaddingHeight: outputPadding.height,
                                                           outputPaddingWidth: outputPadding.width)
        precondition(outHeight > 0 && outWidth > 0, "conv-transpose2d \(weight.name): the padding leaves no output")
        var y = ImageTensor(batch: x.batch, channels: outChannels, height: outHeight, width: outWidth)
        let groups = groups, inChannels = inChannels, outChannels = outChannels
        let inPerGroup = inChannels / groups, outPerGroup = outChannels / groups
        let area = g.kernelArea, positions = x.planeSize, outPlane = outHeight * outWidth
        let block = ConvTranspose2d.channelBlock(kernelArea: area, inputPositions: positions, outPerGroup: outPerGroup)
        let blocks = (outPerGroup + block - 1) / block
        let scratch = FloatPointer.allocate(capacity: pool.threads * block * area * positions)
        defer { scratch.deallocate() }
        let w = weight.floatPointer, b = bias?.floatPointer
        let (height, width) = (x.height, x.width)
        x.withPointer { input in
            y.withMutablePointer { output in
                pool.parallelFor(x.batch * groups * blocks) { task, thread in
                    let k = task % blocks, group = (task / blocks) % groups, n = task / (blocks * groups)
                    let first = k * block, count = min(outPerGroup, first + block) - first
                    let columns = scratch + thread * block * area * positions
                    // columns[count * area, positions] = W[group rows, first channel...]ᵀ · x[n, group].
                    matmulTransposedA(into: columns, w + group * inPerGroup * outPerGroup * area + first * area,
                                      input + (n * inChannels + group * inPerGroup) * positions,
                                      m: count * area, n: positions, k: inPerGroup, lda: outPerGroup * area)
                    let channel = group * outPerGroup + first
                    let out = output + (n * outChannels + channel) * outPlane
                    if let b { for c in 0..<count { (out + c * outPlane).update(repeating: b[channel + c], count: outPlane) } }
                    col2imAdd(into: out, columns, columnStride: positions, channels: count, inHeight: height, inWidth: width,
                              outHeight: outHeight, outWidth: outWidth, geometry: g)
                }
            }
        }
        return y
    }
}
