// Pooling (torch.nn.AvgPool2d with count_include_pad=True, torch.nn.MaxPool2d): downsampling
// without weights. A strided Conv2d is the other downsampler (latent-diffusion Downsample blocks).
import AIGCKernels

/// Average or max pooling.
public struct Pool2d: Sendable {
    /// Average or max.
    public let mode: PoolingMode
    /// Window, stride and padding.
    public let geometry: ConvGeometry

    /// A square window; the stride defaults to the kernel size (as in PyTorch).
    public init(_ mode: PoolingMode, kernel: Int, stride: Int? = nil, padding: Int = 0) {
        precondition(padding * 2 <= kernel, "pool padding must be at most half the kernel (as in PyTorch)")
        self.mode = mode
        geometry = ConvGeometry(kernel: kernel, stride: stride ?? kernel, padding: padding)
    }

    /// [N, C, H, W] -> [N, C, H', W'] with H' = (H + 2p - k) / s + 1.
    public func forward(_ x: ImageTensor, pool: ComputePool = .shared) -> ImageTensor {
        let (outHeight, outWidth) = geometry.outputSize(height: x.height, width: x.width)
        precondition(outHeight > 0 && outWidth > 0, "a \(x.height)x\(x.width) input is smaller than the pooling window")
        var y = ImageTensor(batch: x.batch, channels: x.channels, height: outHeight, width: outWidth)
        let (height, width, g, mode) = (x.height, x.width, geometry, mode)
        let inPlane = x.planeSize, outPlane = outHeight * outWidth
        x.withPointer { input in
            y.withMutablePointer { output in
                pool.parallelRanges(x.batch * x.channels, minimum: max(1, 65536 / inPlane)) { planes, _ in
                    pool2d(into: output + planes.lowerBound * outPlane, input + planes.lowerBound * inPlane, planes: planes.count,
                           height: height, width: width, geometry: g, mode: mode)
                }
            }
        }
        return y
    }
}
