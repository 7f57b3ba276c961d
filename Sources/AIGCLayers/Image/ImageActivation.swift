// Elementwise activations applied to whole image tensors, split over the pool in large chunks.
import AIGCKernels

/// The activations of image networks (torch.nn names in the comments).
public enum ImageActivation: Sendable, Equatable {
    /// nn.ReLU
    case relu
    /// nn.LeakyReLU(negative_slope)
    case leakyReLU(slope: Float)
    /// nn.Sigmoid
    case sigmoid
    /// nn.Tanh
    case tanh
    /// nn.SiLU
    case silu
    /// nn.GELU() (erf form)
    case gelu
    /// nn.GELU(approximate="tanh")
    case geluTanh

    /// Applies the activation to every value of `x` in place.
    public func forward(_ x: inout ImageTensor, pool: ComputePool = .shared) {
        let activation = self, count = x.count
        x.withMutablePointer { values in
            // 64 Ki values per task at least: below that one thread is faster than a hand-off.
            pool.parallelRanges(count, minimum: 65536) { range, _ in
                activation.apply(values + range.lowerBound, count: range.count)
            }
        }
    }

    /// Applies the activation to `n` floats in place.
    public func apply(_ p: FloatPointer, count n: Int) {
        switch self {
        case .relu: AIGCKernels.relu(p, count: n)
        case let .leakyReLU(slope): AIGCKernels.leakyReLU(p, count: n, slope: slope)
        case .sigmoid: AIGCKernels.sigmoid(p, count: n)
        case .tanh: hyperbolicTangent(p, count: n)
        case .silu: AIGCKernels.silu(p, count: n)
        case .gelu: geluErf(p, count: n)
        case .geluTanh: AIGCKernels.geluTanh(p, count: n)
        }
    }
}
