// LayerNorm over the channel axis of NCHW images: at every pixel the C channel values are
// normalised (ConvNeXt's `LayerNorm(data_format="channels_first")`, facebookresearch/ConvNeXt
// models/convnext.py @ 06f7b05f922e21914916406141f50f82b4a15852), equivalent to permuting to NHWC,
// nn.LayerNorm(C) and permuting back.
import AIGCKernels
import AIGCTensor

/// LayerNorm across the channels of every pixel.
public struct ChannelLayerNorm: @unchecked Sendable {
    /// Channels normalised together.
    public let channels: Int
    /// Added to the variance.
    public let eps: Float
    /// [channels] scale, or nil.
    public let weight: Tensor?
    /// [channels] shift, or nil.
    public let bias: Tensor?

    /// Checks that weight and bias hold `channels` values.
    public init(weight: Tensor?, bias: Tensor?, channels: Int, eps: Float = 1e-6) throws {
        for t in [weight, bias].compactMap({ $0 }) where t.elementCount != channels {
            throw TensorError.shapeMismatch(name: t.name, expected: [channels], actual: t.shape, source: "channel layer norm")
        }
        self.channels = channels
        self.eps = eps
        self.weight = weight?.toFloat32()
        self.bias = bias?.toFloat32()
    }

    /// Normalises `x` in place, one image per task.
    public func forward(_ x: inout ImageTensor, pool: ComputePool = .shared) {
        precondition(x.channels == channels, "channel layer norm of \(channels) channels got \(x.channels)")
        let planeSize = x.planeSize, channels = channels, eps = eps, batch = x.batch
        let w = weight?.floatPointer, b = bias?.floatPointer
        x.withMutablePointer { values in
            pool.parallelFor(batch) { n, _ in
                let scratch = FloatPointer.allocate(capacity: 2 * planeSize)
                defer { scratch.deallocate() }
                let p = values + n * channels * planeSize
                channelLayerNorm(into: p, p, weight: w, bias: b, channels: channels, planeSize: planeSize, eps: eps, scratch: scratch)
            }
        }
    }
}
