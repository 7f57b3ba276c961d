// NoiseSchedule: the training-time noise levels every diffusers scheduler starts from (betas,
// alphas_cumprod, sigmas) and the ways they pick inference timesteps. Numbers follow diffusers'
// float32 arithmetic (src/diffusers/schedulers/scheduling_ddim.py and friends @ 58eb52c): betas as
// torch.linspace in float32, alphas_cumprod as torch.cumprod (a double accumulator rounded to
// float32 per element), sigmas and their np.interp in the precision numpy gets from them.
#if canImport(Glibc)
import Glibc
#endif

/// Betas and cumulative alphas over the training steps.
public struct NoiseSchedule: Sendable {
    /// beta_t, t = 0..<trainSteps.
    public let betas: [Float]
    /// prod_{s <= t} (1 - beta_s).
    public let alphasCumprod: [Float]

    /// The schedule of `settings`.
    public init(_ settings: SchedulerSettings) {
        let n = settings.trainSteps
        if let trained = settings.trainedBetas {
            betas = trained.map(Float.init)
        } else {
            switch settings.betaSchedule {
            case .linear:
                betas = NoiseSchedule.linspace(Float(settings.betaStart), Float(settings.betaEnd), count: n)
            case .scaledLinear:
                betas = NoiseSchedule.linspace(Float(settings.betaStart.squareRoot()), Float(settings.betaEnd.squareRoot()), count: n).map { $0 * $0 }
            case .cosine:
                betas = NoiseSchedule.cosineBetas(count: n)
            }
        }
        var product = 1.0
        alphasCumprod = betas.map { beta in
            product *= Double(1 - beta)
            return Float(product)
        }
    }

    /// torch.linspace in float32: the first half counts up from `start`, the second down from `end`.
    static func linspace(_ start: Float, _ end: Float, count n: Int) -> [Float] {
        guard n > 1 else { return [start] }
        let step = (end - start) / Float(n - 1)
        return (0..<n).map { i in i < n / 2 ? start + step * Float(i) : end - step * Float(n - 1 - i) }
    }

    /// "squaredcos_cap_v2" (Nichol & Dhariwal 2021): beta_t = min(1 - abar(t+1)/abar(t), 0.999) with
    /// abar(t) = cos²((t/T + 0.008) / 1.008 · π/2), in double, then float32.
    static func cosineBetas(count n: Int) -> [Float] {
        func alphaBar(_ t: Double) -> Double {
            let c = cos((t + 0.008) / 1.008 * Double.pi / 2)
            return c * c
        }
        return (0..<n).map { i in Float(min(1 - alphaBar(Double(i + 1) / Double(n)) / alphaBar(Double(i) / Double(n)), 0.999)) }
    }

    /// sqrt((1 - alphabar_t) / alphabar_t), the noise level of training step t in "sigma" units.
    public func sigma(_ t: Int) -> Float {
        let a = alphasCumprod[t]
        return ((1 - a) / a).squareRoot()
    }

    /// np.interp of the sigmas at a fractional training step (clamped to the ends).
    public func interpolatedSigma(_ t: Float) -> Float {
        let x = Double(t)
        if x <= 0 { return sigma(0) }
        let last = alphasCumprod.count - 1
        if x >= Double(last) { return sigma(last) }
        let low = Int(x.rounded(.down)), w = x - Double(low)
        let a = Double(sigma(low)), b = Double(sigma(low + 1))
        return Float(w == 0 ? a : a + (b - a) * w)
    }

    // MARK: timestep spacing

    /// DDPM/DDIM timesteps (diffusers' set_timesteps for those classes), descending.
    static func discreteTimesteps(_ s: SchedulerSettings, steps n: Int) -> [Int] {
        let T = s.trainSteps
        switch s.spacing {
        case .linspace:
            return linspaceRounded(0, Double(T - 1), count: n).reversed()
        case .leading:
            let ratio = T / n
            return (0..<n).reversed().map { $0 * ratio + s.stepsOffset }
        case .trailing:
            return trailing(from: T, trainSteps: T, steps: n)
        }
    }

    /// np.linspace(a, b, n).round(): evenly spaced, rounded half to even.
    static func linspaceRounded(_ a: Double, _ b: Double, count n: Int) -> [Int] {
        linspace64(a, b, count: n).map { Int($0.rounded(.toNearestOrEven)) }
    }

    /// np.linspace in double: a + i·step, the last value exactly b.
    static func linspace64(_ a: Double, _ b: Double, count n: Int) -> [Double] {
        guard n > 1 else { return [a] }
        let step = (b - a) / Double(n - 1)
        return (0..<n).map { i in i == n - 1 ? b : a + Double(i) * step }
    }

    /// np.round(np.arange(start, 0, -T/n)) - 1: the "trailing" spacing, which always includes step T - 1.
    static func trailing(from start: Int, trainSteps T: Int, steps n: Int) -> [Int] {
        let ratio = Double(T) / Double(n)
        let count = Int((Double(start) / ratio).rounded(.up))
        return (0..<count).map { Int((Double(start) - Double($0) * ratio).rounded(.toNearestOrEven)) - 1 }
    }

    /// Where img2img starts: diffusers' `init_timestep = min(int(steps * strength), steps)`,
    /// `t_start = max(steps - init_timestep, 0)`; the loop then runs steps t_start..<steps.
    public static func startIndex(steps: Int, strength: Double) -> Int {
        let initial = min(Int(Double(steps) * strength), steps)
        return max(steps - initial, 0)
    }
}

/// The elementwise helpers the update rules share.
enum SchedulerMath {
    /// x0 from the model output at a DDPM-style step with cumulative alpha `a`.
    static func originalSample(_ output: Float, _ sample: Float, alphaProduct a: Float, _ prediction: PredictionType) -> Float {
        switch prediction {
        case .epsilon: return (sample - (1 - a).squareRoot() * output) / a.squareRoot()
        case .sample: return output
        case .vPrediction: return a.squareRoot() * sample - (1 - a).squareRoot() * output
        }
    }

    /// x0 from the model output of a sigma-space (Euler) step: x = x0 + sigma·eps.
    static func originalSample(_ output: Float, _ sample: Float, sigma: Float, _ prediction: PredictionType) -> Float {
        switch prediction {
        case .epsilon: return sample - sigma * output
        case .sample: return output
        case .vPrediction: return output * (-sigma / (sigma * sigma + 1).squareRoot()) + sample / (sigma * sigma + 1)
        }
    }

    /// sqrt(alphabar_t) · x0 + sqrt(1 - alphabar_t) · noise: a clean sample noised to step t.
    static func addNoise(_ original: [Float], noise: [Float], alphaProduct a: Float) -> [Float] {
        precondition(original.count == noise.count, "add_noise takes one noise value per sample value")
        let s = a.squareRoot(), n = (1 - a).squareRoot()
        return zip(original, noise).map { s * $0 + n * $1 }
    }
}
