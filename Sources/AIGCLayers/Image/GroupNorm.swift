// GroupNorm (torch.nn.GroupNorm): each image's channels are split into groups; every group is
// normalised by its own mean and (biased) variance, then scaled and shifted per channel. Used by
// the U-Nets and VAEs of latent diffusion (32 groups, eps 1e-5 or 1e-6).
import AIGCKernels
import AIGCTensor

/// Group normalisation over NCHW images.
public struct GroupNorm: @unchecked Sendable {
    /// Groups the channels are split into.
    public let groups: Int
    /// Channels of the input.
    public let channels: Int
    /// Added to the variance.
    public let eps: Float
    /// [channels] or nil (affine=False).
    public let weight: Tensor?
    /// [channels] shift, or nil.
    public let bias: Tensor?

    /// Checks the parameter shapes and that `groups` divides `channels`.
    public init(groups: Int, weight: Tensor?, bias: Tensor?, channels: Int, eps: Float = 1e-5) throws {
        for t in [weight, bias].compactMap({ $0 }) where t.elementCount != channels {
            throw TensorError.shapeMismatch(name: t.name, expected: [channels], actual: t.shape, source: "group norm")
        }
        guard groups > 0, channels % groups == 0 else {
            throw TensorError.shapeMismatch(name: weight?.name ?? "group norm", expected: [groups], actual: [channels],
                                            source: "group norm: \(groups) groups must divide \(channels) channels")
        }
        self.groups = groups
        self.channels = channels
        self.eps = eps
        self.weight = weight?.toFloat32()
        self.bias = bias?.toFloat32()
    }

    /// Normalises `x` in place, then applies `activation` (GroupNorm + SiLU of the diffusion blocks)
    /// to each group while it is still in cache. Tasks are (image, group) pairs.
    public func forward(_ x: inout ImageTensor, activation: ImageActivation? = nil, pool: ComputePool = .shared) {
        precondition(x.channels == channels, "group norm of \(channels) channels got \(x.channels)")
        let perGroup = channels / groups, planeSize = x.planeSize, groups = groups, eps = eps
        let size = perGroup * planeSize, batch = x.batch
        let w = weight?.floatPointer, b = bias?.floatPointer
        x.withMutablePointer { values in
            pool.parallelRanges(batch * groups, minimum: max(1, 65536 / size)) { range, _ in
                var scale = [Float](repeating: 0, count: perGroup), shift = scale
                for task in range {
                    let g = task % groups
                    let p = values + task * size
                    let mean = Float(sum(p, count: size) / Double(size))
                    let variance = Float(sumOfSquaredDeviations(p, mean: mean, count: size) / Double(size))
                    let inverse = 1 / (variance + eps).squareRoot()
                    for c in 0..<perGroup {
                        let weightC = w?[g * perGroup + c] ?? 1, biasC = b?[g * perGroup + c] ?? 0
                        scale[c] = inverse * weightC
                        shift[c] = biasC - mean * inverse * weightC
                    }
                    channelAffine(into: p, p, scale: scale, shift: shift, channels: perGroup, planeSize: planeSize)
                    activation?.apply(p, count: size)
                }
            }
        }
    }
}
