// BatchNorm2d in eval mode (torch.nn.BatchNorm2d after model.eval()): the running statistics are
// folded at load into one scale and shift per channel, y = x * scale[c] + shift[c] with
// scale = weight / sqrt(running_var + eps) and shift = bias - running_mean * scale.
import AIGCKernels
import AIGCTensor

/// Eval-mode batch normalisation folded into a per-channel affine map.
public struct BatchNorm2d: Sendable {
    /// Channels normalised.
    public let channels: Int
    /// weight / sqrt(running_var + eps), per channel.
    public let scale: [Float]
    /// bias - running_mean * scale, per channel.
    public let shift: [Float]

    /// `weight` and `bias` are nil for `affine=False`.
    public init(weight: Tensor?, bias: Tensor?, runningMean: Tensor, runningVariance: Tensor, eps: Float = 1e-5) throws {
        let c = runningMean.elementCount
        for t in [weight, bias, runningVariance].compactMap({ $0 }) where t.elementCount != c {
            throw TensorError.shapeMismatch(name: t.name, expected: [c], actual: t.shape, source: "batch norm (running mean has \(c) channels)")
        }
        let mean = runningMean.toFloat32().floats(), variance = runningVariance.toFloat32().floats()
        let w = weight?.toFloat32().floats() ?? [Float](repeating: 1, count: c)
        let b = bias?.toFloat32().floats() ?? [Float](repeating: 0, count: c)
        channels = c
        // Folded in Double so the only float rounding is that of the final scale and shift.
        scale = (0..<c).map { Float(Double(w[$0]) / (Double(variance[$0]) + Double(eps)).squareRoot()) }
        shift = (0..<c).map { Float(Double(b[$0]) - Double(mean[$0]) * Double(w[$0]) / (Double(variance[$0]) + Double(eps)).squareRoot()) }
    }

    /// Loads `<prefix>.weight`, `.bias`, `.running_mean`, `.running_var` (PyTorch's state-dict names).
    public init(_ weights: any WeightSource, channels: Int, eps: Float = 1e-5) throws {
        try self.init(weight: weights.tensor("weight", shape: [channels]), bias: weights.tensor("bias", shape: [channels]),
                      runningMean: weights.tensor("running_mean", shape: [channels]),
                      runningVariance: weights.tensor("running_var", shape: [channels]), eps: eps)
    }

    /// Normalises `x` in place.
    public func forward(_ x: inout ImageTensor, pool: ComputePool = .shared) {
        precondition(x.channels == channels, "batch norm of \(channels) channels got \(x.channels)")
        let planeSize = x.planeSize, channels = channels, batch = x.batch
        x.withMutablePointer { values in
            scale.withUnsafeBufferPointer { scale in
                shift.withUnsafeBufferPointer { shift in
                    // Whole images per task; a task of at least 64 Ki values pays for the hand-off.
                    pool.parallelRanges(batch, minimum: max(1, 65536 / (channels * planeSize))) { images, _ in
                        for n in images {
                            let p = values + n * channels * planeSize
                            channelAffine(into: p, p, scale: scale.baseAddress!, shift: shift.baseAddress!, channels: channels, planeSize: planeSize)
                        }
                    }
                }
            }
        }
    }
}
