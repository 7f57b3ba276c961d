// Conv2d: nn.Conv2d (NCHW; stride, padding, dilation, groups, bias, zeros or replicate padding)
// as im2col + cblas_sgemm, the method of PyTorch's CPU slow path (pytorch/pytorch
// aten/src/ATen/native/ConvolutionMM2d.cpp @ d7e1fe69e4010ba92e9c8f690403b2767df43ca4) and of Caffe. Work is split into
// tasks of (image, group, tile of output positions): each task builds the patch matrix of its
// tile in its thread's scratch and multiplies the group's weights with it, so patch building and
// the product both run in parallel and the patches are still in cache when sgemm reads them.
// Small images with large weights (the 8x8 and 16x16 levels of a U-Net) take another split,
// Conv2d+SmallImages.swift.
import AIGCKernels
import AIGCTensor
import CKernels

/// A 2-D convolution over NCHW images.
public struct Conv2d: @unchecked Sendable {
    /// [out, in / groups, kH, kW], F32.
    public let weight: Tensor
    /// [out], F32.
    public let bias: Tensor?
    /// Input channels (weight dimension 1 times groups).
    public let inChannels: Int
    /// Output channels.
    public let outChannels: Int
    /// Channel groups convolved separately (1: dense; inChannels: depthwise).
    public let groups: Int
    /// Kernel, stride, padding and dilation.
    public let geometry: ConvGeometry
    /// What the padding reads: zeros or the edge pixel.
    public let paddingMode: PaddingMode
    /// The weights packed for the direct kernel (Conv2d+Direct.swift) where it serves this shape.
    let directWeights: [Float]?

    /// Square kernels with the same stride, padding and dilation on both axes (the usual case).
    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0, dilation: Int = 1, groups: Int = 1,
                paddingMode: PaddingMode = .zeros) throws {
        guard weight.shape.count == 4 else {
            throw TensorError.shapeMismatch(name: weight.name, expected: [-1, -1, -1, -1], actual: weight.shape, source: "conv2d weight")
        }
        try self.init(weight: weight, bias: bias, geometry: ConvGeometry(kernelHeight: weight.shape[2], kernelWidth: weight.shape[3],
                      strideHeight: stride, strideWidth: stride, paddingHeight: padding, paddingWidth: padding,
                      dilationHeight: dilation, dilationWidth: dilation), groups: groups, paddingMode: paddingMode)
    }

    /// Any window; `geometry`'s kernel size must match the weight's last two dimensions.
    public init(weight: Tensor, bias: Tensor?, geometry: ConvGeometry, groups: Int = 1, paddingMode: PaddingMode = .zeros) throws {
        let s = weight.shape
        guard s.count == 4, s[2] == geometry.kernelHeight, s[3] == geometry.kernelWidth, groups > 0, s[0] % groups == 0 else {
            throw TensorError.shapeMismatch(name: weight.name, expected: [-1, -1, geometry.kernelHeight, geometry.kernelWidth], actual: s,
                                            source: "conv2d weight (\(groups) groups must divide the output channels)")
        }
        if let bias, bias.elementCount != s[0] {
            throw TensorError.shapeMismatch(name: bias.name, expected: [s[0]], actual: bias.shape, source: "conv2d bias")
        }
        guard weight.dtype.isComputable else {
            throw TensorError.unsupportedType(name: weight.name, dtype: weight.dtype, hint: "aigc cannot convolve with")
        }
        self.weight = weight.toFloat32()
        self.bias = bias?.toFloat32()
        outChannels = s[0]
        inChannels = s[1] * groups
        self.groups = groups
        self.geometry = geometry
        self.paddingMode = paddingMode
        directWeights = Conv2d.usesDirectKernel(geometry: geometry, groups: groups, inChannels: inChannels)
            ? Conv2d.packedForDirectKernel(self.weight) : nil
    }

    /// Output positions per task: about 1 MiB of patch matrix, at least 256 columns so that sgemm's
    /// packing of the weights is amortised (128 measured 5-10% slower for K >= 1152 on a Zen 3 core),
    /// and a multiple of 4 tiles (while tiles keep 64 columns)
    /// so that 2 or 4 threads get equal shares of one image. It depends on the shapes only, never
    /// on the thread count, so the same input gives the same bits on any number of threads.
    static func tileColumns(patchRows: Int, positions: Int) -> Int {
        let target = max(256, (1 << 18) / max(1, patchRows))
        let tiles = min(((positions + target - 1) / target + 3) / 4 * 4, max(1, positions / 64))
        let tile = (positions + tiles - 1) / tiles
        return min(positions, (tile + 7) / 8 * 8)
    }

    /// y = conv(x) + bias: [N, in, H, W] -> [N, out, H', W'].
    public func forward(_ x: ImageTensor, pool: ComputePool = .shared) -> ImageTensor {
        let (outHeight, outWidth) = geometry.outputSize(height: x.height, width: x.width)
        precondition(outHeight > 0 && outWidth > 0, "conv2d \(weight.name): a \(x.height)x\(x.width) input is smaller than the window")
        var y = ImageTensor(batch: x.batch, channels: outChannels, height: outHeight, width: outWidth)
        run(x, into: &y, accumulate: false, pool: pool)
        return y
    }

    /// y += conv(x) + bias, for a residual connection: the product accumulates into y, with no
    /// temporary and no separate addition pass. y must have the output's shape.
    public func forward(_ x: ImageTensor, addingTo y: inout ImageTensor, pool: ComputePool = .shared) {
        let (outHeight, outWidth) = geometry.outputSize(height: x.height, width: x.width)
        precondition(y.shape == [x.batch, outChannels, outHeight, outWidth], "conv2d \(weight.name): the sum has shape \(y.shape)")
        run(x, into: &y, accumulate: true, pool: pool)
    }

    func run(_ x: ImageTensor, into y: inout ImageTensor, accumulate: Bool, pool: ComputePool) {
        precondition(x.channels == inChannels, "conv2d \(weight.name) takes \(inChannels) channels, got \(x.channels)")
        if directWeights != nil && aigc_simd_level() >= Int32(AIGC_SIMD_AVX2.rawValue) {
            return runDirect(x, into: &y, accumulate: accumulate, pool: pool)
        }
        runIm2col(x, into: &y, accumulate: accumulate, pool: pool)
    }

    /// The im2col + sgemm path, for every shape (the direct kernel's tests compare against it).
    func runIm2col(_ x: ImageTensor, into y: inout ImageTensor, accumulate: Bool, pool: ComputePool) {
        let (outHeight, outWidth) = (y.height, y.width)
        let g = geometry, mode = paddingMode, groups = groups, inChannels = inChannels, outChannels = outChannels
        let channelsPerGroup = inChannels / groups, outPerGroup = outChannels / groups
        let patchRows = channelsPerGroup * g.kernelArea, positions = outHeight * outWidth
        let pointwise = g.kernelArea == 1 && g.strideHeight == 1 && g.strideWidth == 1 && g.paddingHeight == 0 && g.paddingWidth == 0
        let tile = Conv2d.tileColumns(patchRows: patchRows, positions: positions)
        if groups == 1 && tile < 256 && patchRows * outChannels >= 1 << 16 {
            return runAcrossImages(x, into: &y, accumulate: accumulate, pool: pool)
        }
        let tiles = (positions + tile - 1) / tile
        let scratch: FloatPointer? = pointwise ? nil : .allocate(capacity: pool.threads * patchRows * tile)
        defer { scratch?.deallocate() }
        let w = weight.floatPointer, b = bias?.floatPointer
        let (height, width) = (x.height, x.width)
        x.withPointer { input in
            y.withMutablePointer { output in
                pool.parallelFor(x.batch * groups * tiles) { task, thread in
                    let t = task % tiles, group = (task / tiles) % groups, n = task / (tiles * groups)
                    let columns = (t * tile)..<min(positions, t * tile + tile)
                    let image = input + (n * inChannels + group * channelsPerGroup) * height * width
                    let out = output + (n * outChannels + group * outPerGroup) * positions + columns.lowerBound
                    if let b {
                        for o in 0..<outPerGroup {
                            if accumulate {
                                addScalar(b[group * outPerGroup + o], into: out + o * positions, count: columns.count)
                            } else {
                                (out + o * positions).update(repeating: b[group * outPerGroup + o], count: columns.count)
                            }
                        }
                    }
                    var patches = image + columns.lowerBound, stride = positions
                    if let scratch {
                        let s = scratch + thread * patchRows * tile
                        im2col(into: s, columnStride: columns.count, image, channels: channelsPerGroup, height: height, width: width,
                               geometry: g, padding: mode, positions: columns)
                        patches = UnsafePointer(s)
                        stride = columns.count
                    }
                    // [outPerGroup, patchRows] · [patchRows, columns] into rows `positions` apart.
                    matmul(into: out, w + group * outPerGroup * patchRows, patches, m: outPerGroup, n: columns.count, k: patchRows,
                           ldb: stride, ldc: positions, accumulate: accumulate || b != nil)
                }
            }
        }
    }
}
