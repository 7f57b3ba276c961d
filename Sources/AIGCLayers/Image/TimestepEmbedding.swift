// Timestep conditioning of diffusion U-Nets: the sinusoidal embedding of diffusers'
// get_timestep_embedding (embeddings.py @ 58eb52c080; SD 1.x/2.x use flip_sin_to_cos = True and
// downscale_freq_shift = 0) and TimestepEmbedding, the linear-SiLU-linear MLP applied to it.
import AIGCKernels
import AIGCTensor
#if canImport(Glibc)
import Glibc
#endif

/// The MLP over the sinusoidal timestep features (linear_1, SiLU, linear_2).
public struct TimestepEmbedding: Sendable {
    let linear1: TokenLinear
    let linear2: TokenLinear

    /// linear_1 maps the sinusoidal features to the embedding size, linear_2 keeps it.
    public init(linear1: TokenLinear, linear2: TokenLinear) {
        precondition(linear2.inFeatures == linear1.outFeatures, "time_embedding.linear_2 must read linear_1's output")
        self.linear1 = linear1
        self.linear2 = linear2
    }

    /// Size of the sinusoidal features it reads.
    public var inputSize: Int { linear1.inFeatures }
    /// Size of the embedding it makes.
    public var outputSize: Int { linear2.outFeatures }

    /// [batch, inputSize] features -> [batch, outputSize] embeddings.
    public func forward(_ features: [Float], batch: Int, pool: ComputePool = .shared) -> [Float] {
        precondition(features.count == batch * inputSize, "the time MLP reads [\(batch), \(inputSize)] values")
        var hidden = [Float](repeating: 0, count: batch * linear1.outFeatures)
        var out = [Float](repeating: 0, count: batch * outputSize)
        features.withUnsafeBufferPointer { f in
            hidden.withUnsafeMutableBufferPointer { linear1.forward(f.baseAddress!, rows: batch, into: $0.baseAddress!, pool: pool) }
        }
        hidden.withUnsafeMutableBufferPointer { h in
            silu(h.baseAddress!, count: h.count)
            out.withUnsafeMutableBufferPointer { linear2.forward(h.baseAddress!, rows: batch, into: $0.baseAddress!, pool: pool) }
        }
        return out
    }

    /// Sinusoidal features of `timesteps` (fractional allowed), [count, dimension]: with
    /// half = dimension / 2 and f_i = exp(-ln(maxPeriod) * i / (half - frequencyShift)), the
    /// values sin(t f_i) then cos(t f_i), or cos first when `flipSinToCos`; an odd dimension gets a
    /// zero last column. Frequencies and products are rounded to Float as PyTorch's float32 does.
    public static func sinusoidal(_ timesteps: [Float], dimension: Int, flipSinToCos: Bool = true, frequencyShift: Float = 0,
                                  maxPeriod: Float = 10000) -> [Float] {
        let half = dimension / 2
        let logPeriod = Float(-Glibc.log(Double(maxPeriod)))
        let frequencies = (0..<half).map { i in Float(Glibc.exp(Double(logPeriod * Float(i) / (Float(half) - frequencyShift)))) }
        var out = [Float](repeating: 0, count: timesteps.count * dimension)
        for (row, t) in timesteps.enumerated() {
            for i in 0..<half {
                let angle = Double(t * frequencies[i])
                let (first, second) = flipSinToCos ? (Glibc.cos(angle), Glibc.sin(angle)) : (Glibc.sin(angle), Glibc.cos(angle))
                out[row * dimension + i] = Float(first)
                out[row * dimension + half + i] = Float(second)
            }
        }
        return out
    }
}
