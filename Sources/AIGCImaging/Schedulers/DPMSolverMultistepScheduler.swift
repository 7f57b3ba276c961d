// DPMSolverMultistepScheduler: DPM-Solver++(2M) (Lu et al. 2022, Algorithm 2, data prediction,
// midpoint form), as diffusers' DPMSolverMultistepScheduler with algorithm_type "dpmsolver++",
// solver_order 2 (scheduling_dpmsolver_multistep.py @ 58eb52c). With alpha = 1/sqrt(sigma² + 1),
// s = sigma·alpha and lambda = log(alpha) - log(s), for x0 predictions D0 (now) and D_prev:
//   first order:  x_next = (s_next / s)·x - alpha_next·(e^-h - 1)·D0,                h = lambda_next - lambda
//   second order: ... - 0.5·alpha_next·(e^-h - 1)·(D0 - D_prev)/r,                   r = (lambda - lambda_prev)/h
// The first step is first order, and so is the last (the final sigma is 0; lower_order_final also
// makes the second-to-last one second order at most, which 2M is anyway).
#if canImport(Glibc)
import Glibc
#endif

/// DPM-Solver++ 2M.
public struct DPMSolverMultistepScheduler: DiffusionScheduler {
    public let settings: SchedulerSettings
    public let schedule: NoiseSchedule
    let steps: [Int]
    /// One sigma per timestep, then 0.
    public let sigmas: [Float]
    /// The previous step's x0 prediction and how many steps have run.
    var previousOriginal: [Float]?
    var stepsTaken = 0

    /// A scheduler for `steps` inference steps.
    public init(configuration: SchedulerConfiguration, steps: Int, source: String = "scheduler config") throws {
        settings = try configuration.settings(for: .dpmSolver2M, source: source)
        try SchedulerKind.checkSteps(steps, settings, limit: settings.trainSteps - 1)
        schedule = NoiseSchedule(settings)
        self.steps = DPMSolverMultistepScheduler.timesteps(settings, steps: steps)
        sigmas = self.steps.map(schedule.sigma) + [0]
    }

    /// This solver's spacing: "linspace" and "leading" divide the training steps into steps + 1
    /// pieces and drop the last (t = 0).
    static func timesteps(_ s: SchedulerSettings, steps n: Int) -> [Int] {
        let T = s.trainSteps
        switch s.spacing {
        case .linspace:
            return Array(NoiseSchedule.linspaceRounded(0, Double(T - 1), count: n + 1).reversed().dropLast())
        case .leading:
            let ratio = T / (n + 1)
            return (1...n).reversed().map { $0 * ratio + s.stepsOffset }
        case .trailing:
            return NoiseSchedule.trailing(from: T, trainSteps: T, steps: n)
        }
    }

    public var timesteps: [Float] { steps.map(Float.init) }
    public var initNoiseSigma: Float { 1 }
    public func needsNoise(at stepIndex: Int) -> Bool { false }
    public func scaleModelInput(_ sample: [Float], stepIndex: Int) -> [Float] { sample }

    /// (alpha_t, sigma_t) of a sigma-space noise level.
    static func alphaSigma(_ sigma: Float) -> (alpha: Float, sigma: Float) {
        let alpha = 1 / (sigma * sigma + 1).squareRoot()
        return (alpha, sigma * alpha)
    }

    static func lambda(_ p: (alpha: Float, sigma: Float)) -> Float { log(p.alpha) - log(p.sigma) }

    public mutating func step(modelOutput: [Float], sample: [Float], stepIndex: Int, noise: [Float]?) -> [Float] {
        precondition(modelOutput.count == sample.count)
        let now = DPMSolverMultistepScheduler.alphaSigma(sigmas[stepIndex])
        let next = DPMSolverMultistepScheduler.alphaSigma(sigmas[stepIndex + 1])
        let original = zip(modelOutput, sample).map { m, x -> Float in
            switch settings.prediction {
            case .epsilon: return (x - now.sigma * m) / now.alpha
            case .sample: return m
            case .vPrediction: return now.alpha * x - now.sigma * m
            }
        }
        let h = DPMSolverMultistepScheduler.lambda(next) - DPMSolverMultistepScheduler.lambda(now)
        let decay = exp(-h) - 1
        let last = stepIndex == steps.count - 1
        var out = [Float](repeating: 0, count: sample.count)
        let ratio = next.sigma / now.sigma
        if let previous = previousOriginal, stepsTaken >= 1, !last, stepIndex >= 1 {
            let before = DPMSolverMultistepScheduler.alphaSigma(sigmas[stepIndex - 1])
            let r = (DPMSolverMultistepScheduler.lambda(now) - DPMSolverMultistepScheduler.lambda(before)) / h
            for i in out.indices {
                let d1 = 1 / r * (original[i] - previous[i])
                out[i] = ratio * sample[i] - next.alpha * decay * original[i] - 0.5 * (next.alpha * decay) * d1
            }
        } else {
            for i in out.indices { out[i] = ratio * sample[i] - next.alpha * decay * original[i] }
        }
        previousOriginal = original
        stepsTaken += 1
        return out
    }

    /// alpha·x0 + sigma·noise at step `stepIndex`'s noise level.
    public func addNoise(_ original: [Float], noise: [Float], stepIndex: Int) -> [Float] {
        precondition(original.count == noise.count)
        let p = DPMSolverMultistepScheduler.alphaSigma(sigmas[stepIndex])
        return zip(original, noise).map { p.alpha * $0 + p.sigma * $1 }
    }
}
