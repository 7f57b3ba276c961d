// The resolution changes of latent-diffusion U-Nets and VAEs (diffusers downsampling.py and
// upsampling.py @ 58eb52c080): Downsample2D is a 3x3 convolution of stride 2, padded by one on every
// side (U-Net) or, with padding 0, after one extra row and column of zeros at the bottom and right
// (the VAE encoder); Upsample2D repeats every pixel 2x2 (nearest) and applies a 3x3 convolution.
import AIGCKernels

/// Halves height and width with a strided convolution.
public struct Downsample2D: Sendable {
    /// The stride-2 convolution (padding 1, or 0 with `padsBottomRight`).
    let conv: Conv2d
    /// Pad one zero row and column at the bottom and right first (diffusers' padding=0 form).
    let padsBottomRight: Bool

    /// `conv` must have stride 2; `padsBottomRight` goes with a padding of 0.
    public init(conv: Conv2d, padsBottomRight: Bool) {
        precondition(conv.geometry.strideHeight == 2 && conv.geometry.strideWidth == 2, "Downsample2D convolves with stride 2")
        self.conv = conv
        self.padsBottomRight = padsBottomRight
    }

    /// [N, C, H, W] -> [N, C', H/2, W/2] (rounded as the convolution rounds).
    public func forward(_ x: ImageTensor, pool: ComputePool = .shared) -> ImageTensor {
        Profiler.measure("conv") { conv.forward(padsBottomRight ? Downsample2D.padBottomRight(x) : x, pool: pool) }
    }

    /// x with one more row and column of zeros at the bottom and the right.
    static func padBottomRight(_ x: ImageTensor) -> ImageTensor {
        var y = ImageTensor(batch: x.batch, channels: x.channels, height: x.height + 1, width: x.width + 1)
        let (height, width) = (x.height, x.width)
        x.withPointer { input in
            y.withMutablePointer { output in
                for plane in 0..<(x.batch * x.channels) {
                    for row in 0..<height {
                        (output + (plane * (height + 1) + row) * (width + 1)).update(from: input + (plane * height + row) * width, count: width)
                    }
                }
            }
        }
        return y
    }
}

/// Doubles height and width: nearest-neighbour repetition, then a 3x3 convolution.
public struct Upsample2D: Sendable {
    let conv: Conv2d

    /// `conv` is the 3x3, padding 1 convolution applied after the repetition.
    public init(conv: Conv2d) { self.conv = conv }

    /// [N, C, H, W] -> [N, C', 2H, 2W].
    public func forward(_ x: ImageTensor, pool: ComputePool = .shared) -> ImageTensor {
        let upsampled = Profiler.measure("upsample") { UpsampleNearest(factor: 2).forward(x, pool: pool) }
        return Profiler.measure("conv") { conv.forward(upsampled, pool: pool) }
    }
}
