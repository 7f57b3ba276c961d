// DDPMScheduler: ancestral sampling of Ho et al. 2020 over an inference subset of the training
// steps, variance "fixed_small", as diffusers' DDPMScheduler.step (scheduling_ddpm.py @ 58eb52c):
//   x0 = f(model output);  x_prev = c0·x0 + c1·x_t + sqrt(var)·z,
//   c0 = sqrt(abar_prev)·beta_t / (1 - abar_t),  c1 = sqrt(alpha_t)·(1 - abar_prev) / (1 - abar_t),
//   alpha_t = abar_t / abar_prev,  var = (1 - abar_prev) / (1 - abar_t) · beta_t  (at least 1e-20).

/// DDPM with fixed-small variance.
public struct DDPMScheduler: DiffusionScheduler {
    public let settings: SchedulerSettings
    public let schedule: NoiseSchedule
    let steps: [Int]

    /// A scheduler for `steps` inference steps.
    public init(configuration: SchedulerConfiguration, steps: Int, source: String = "scheduler config") throws {
        settings = try configuration.settings(for: .ddpm, source: source)
        try SchedulerKind.checkSteps(steps, settings)
        schedule = NoiseSchedule(settings)
        self.steps = NoiseSchedule.discreteTimesteps(settings, steps: steps)
    }

    public var timesteps: [Float] { steps.map(Float.init) }
    public var initNoiseSigma: Float { 1 }
    public func needsNoise(at stepIndex: Int) -> Bool { steps[stepIndex] > 0 }
    public func scaleModelInput(_ sample: [Float], stepIndex: Int) -> [Float] { sample }

    public mutating func step(modelOutput: [Float], sample: [Float], stepIndex: Int, noise: [Float]?) -> [Float] {
        precondition(modelOutput.count == sample.count && (noise?.count ?? sample.count) == sample.count)
        let t = steps[stepIndex]
        let previous = stepIndex + 1 < steps.count ? steps[stepIndex + 1] : -1
        let a = schedule.alphasCumprod[t], aPrev: Float = previous >= 0 ? schedule.alphasCumprod[previous] : 1
        let alpha = a / aPrev, beta = 1 - alpha
        let originalWeight = aPrev.squareRoot() * beta / (1 - a)
        let sampleWeight = alpha.squareRoot() * (1 - aPrev) / (1 - a)
        let deviation = max((1 - aPrev) / (1 - a) * beta, 1e-20).squareRoot()
        let clip = settings.clipSample ? settings.clipSampleRange : Float.infinity
        var out = [Float](repeating: 0, count: sample.count)
        for i in out.indices {
            let x0 = min(max(SchedulerMath.originalSample(modelOutput[i], sample[i], alphaProduct: a, settings.prediction), -clip), clip)
            out[i] = originalWeight * x0 + sampleWeight * sample[i]
            if t > 0, let noise { out[i] += deviation * noise[i] }
        }
        return out
    }

    public func addNoise(_ original: [Float], noise: [Float], stepIndex: Int) -> [Float] {
        SchedulerMath.addNoise(original, noise: noise, alphaProduct: schedule.alphasCumprod[steps[stepIndex]])
    }
}
