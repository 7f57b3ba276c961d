// Nearest-neighbour upsampling by an integer factor (torch.nn.Upsample(scale_factor=f,
// mode="nearest"), as the latent-diffusion Upsample blocks use before their conv).
import AIGCKernels

/// Repeats every pixel factor x factor times.
public struct UpsampleNearest: Sendable {
    /// Scale of both axes.
    public let factor: Int

    /// Upsampling by `factor` (>= 1).
    public init(factor: Int = 2) {
        precondition(factor >= 1, "upsampling factor must be >= 1")
        self.factor = factor
    }

    /// [N, C, H, W] -> [N, C, H * factor, W * factor].
    public func forward(_ x: ImageTensor, pool: ComputePool = .shared) -> ImageTensor {
        var y = ImageTensor(batch: x.batch, channels: x.channels, height: x.height * factor, width: x.width * factor)
        let (height, width, factor) = (x.height, x.width, factor)
        let planeSize = x.planeSize
        x.withPointer { input in
            y.withMutablePointer { output in
                pool.parallelRanges(x.batch * x.channels, minimum: max(1, 65536 / (planeSize * factor * factor))) { planes, _ in
                    upsampleNearest(into: output + planes.lowerBound * planeSize * factor * factor, input + planes.lowerBound * planeSize,
                                    planes: planes.count, height: height, width: width, factor: factor)
                }
            }
        }
        return y
    }
}
