// EulerScheduler: Euler's method on the probability-flow ODE in sigma space (Karras et al. 2022,
// Algorithm 2 without churn), as diffusers' EulerDiscreteScheduler (scheduling_euler_discrete.py
// @ 58eb52c): x = x0 + sigma·eps, model input x / sqrt(sigma² + 1),
//   d = (x - x0) / sigma,  x_next = x + d · (sigma_next - sigma).
// Sigmas are np.interp of the training sigmas at the (possibly fractional) timesteps, then 0.

/// Euler sampling (deterministic: s_churn = 0).
public struct EulerScheduler: DiffusionScheduler {
    public let settings: SchedulerSettings
    public let schedule: NoiseSchedule
    public let timesteps: [Float]
    /// One sigma per timestep, then 0.
    public let sigmas: [Float]

    /// A scheduler for `steps` inference steps.
    public init(configuration: SchedulerConfiguration, steps: Int, source: String = "scheduler config") throws {
        try self.init(settings: configuration.settings(for: .euler, source: source), steps: steps)
    }

    init(settings: SchedulerSettings, steps: Int) throws {
        self.settings = settings
        try SchedulerKind.checkSteps(steps, settings)
        schedule = NoiseSchedule(settings)
        timesteps = EulerScheduler.timesteps(settings, steps: steps)
        sigmas = timesteps.map(schedule.interpolatedSigma) + [0]
    }

    /// The Euler family's timesteps: "linspace" keeps fractional steps (float32), the others are whole.
    static func timesteps(_ s: SchedulerSettings, steps n: Int) -> [Float] {
        switch s.spacing {
        case .linspace: return NoiseSchedule.linspace64(0, Double(s.trainSteps - 1), count: n).reversed().map { Float($0) }
        case .leading, .trailing: return NoiseSchedule.discreteTimesteps(s, steps: n).map(Float.init)
        }
    }

    /// "leading" spacing never reaches the last training step, so diffusers starts from
    /// sqrt(sigma_max² + 1) there and from sigma_max otherwise.
    static func initNoiseSigma(_ sigmas: [Float], _ s: SchedulerSettings) -> Float {
        let top = sigmas.max() ?? 1
        return s.spacing == .leading ? (top * top + 1).squareRoot() : top
    }

    public var initNoiseSigma: Float { EulerScheduler.initNoiseSigma(sigmas, settings) }
    public func needsNoise(at stepIndex: Int) -> Bool { false }

    public func scaleModelInput(_ sample: [Float], stepIndex: Int) -> [Float] {
        let sigma = sigmas[stepIndex]
        let scale = (sigma * sigma + 1).squareRoot()
        return sample.map { $0 / scale }
    }

    public mutating func step(modelOutput: [Float], sample: [Float], stepIndex: Int, noise: [Float]?) -> [Float] {
        precondition(modelOutput.count == sample.count)
        let sigma = sigmas[stepIndex], dt = sigmas[stepIndex + 1] - sigma
        var out = [Float](repeating: 0, count: sample.count)
        for i in out.indices {
            let x0 = SchedulerMath.originalSample(modelOutput[i], sample[i], sigma: sigma, settings.prediction)
            out[i] = sample[i] + (sample[i] - x0) / sigma * dt
        }
        return out
    }

    /// x0 + sigma·noise.
    public func addNoise(_ original: [Float], noise: [Float], stepIndex: Int) -> [Float] {
        precondition(original.count == noise.count)
        let sigma = sigmas[stepIndex]
        return zip(original, noise).map { $0 + $1 * sigma }
    }
}
