// DDIMScheduler: denoising diffusion implicit models (Song et al. 2021, eq. 12) as diffusers'
// DDIMScheduler.step (scheduling_ddim.py @ 58eb52c): with t' = t - T/steps,
//   x0 = f(model output) (clipped if clip_sample),  eps = g(model output),
//   sigma = eta · sqrt((1 - abar_t') / (1 - abar_t) · (1 - abar_t / abar_t')),
//   x_t' = sqrt(abar_t')·x0 + sqrt(1 - abar_t' - sigma²)·eps + sigma·z.
// abar_t' below step 0 is 1 with set_alpha_to_one, else abar_0. eta = 0 is deterministic.

/// DDIM, deterministic at eta = 0.
public struct DDIMScheduler: DiffusionScheduler {
    public let settings: SchedulerSettings
    public let schedule: NoiseSchedule
    /// The noise weight: 0 = DDIM, 1 = DDPM-like ancestral noise.
    public let eta: Float
    let steps: [Int]
    let stride: Int

    /// A scheduler for `steps` inference steps.
    public init(configuration: SchedulerConfiguration, steps: Int, eta: Float = 0, source: String = "scheduler config") throws {
        settings = try configuration.settings(for: .ddim, source: source)
        try SchedulerKind.checkSteps(steps, settings)
        guard eta >= 0 && eta <= 1 else { throw ImagingError.invalidRequest(option: "eta", value: "\(eta)", reason: "must be in [0, 1]") }
        schedule = NoiseSchedule(settings)
        self.eta = eta
        self.steps = NoiseSchedule.discreteTimesteps(settings, steps: steps)
        stride = settings.trainSteps / steps
    }

    public var timesteps: [Float] { steps.map(Float.init) }
    public var initNoiseSigma: Float { 1 }
    public func needsNoise(at stepIndex: Int) -> Bool { eta > 0 }
    public func scaleModelInput(_ sample: [Float], stepIndex: Int) -> [Float] { sample }

    public mutating func step(modelOutput: [Float], sample: [Float], stepIndex: Int, noise: [Float]?) -> [Float] {
        precondition(modelOutput.count == sample.count && (noise?.count ?? sample.count) == sample.count)
        let t = steps[stepIndex], previous = t - stride
        let a = schedule.alphasCumprod[t]
        let aPrev = previous >= 0 ? schedule.alphasCumprod[previous] : (settings.setAlphaToOne ? 1 : schedule.alphasCumprod[0])
        let variance = (1 - aPrev) / (1 - a) * (1 - a / aPrev)
        let deviation = eta * variance.squareRoot()
        let directionWeight = (1 - aPrev - deviation * deviation).squareRoot()
        let clip = settings.clipSample ? settings.clipSampleRange : Float.infinity
        var out = [Float](repeating: 0, count: sample.count)
        for i in out.indices {
            let x = sample[i], m = modelOutput[i]
            let x0 = min(max(SchedulerMath.originalSample(m, x, alphaProduct: a, settings.prediction), -clip), clip)
            // eps from the unclipped prediction, as diffusers does unless use_clipped_model_output.
            let eps: Float
            switch settings.prediction {
            case .epsilon: eps = m
            case .sample: eps = (x - a.squareRoot() * m) / (1 - a).squareRoot()
            case .vPrediction: eps = a.squareRoot() * m + (1 - a).squareRoot() * x
            }
            out[i] = aPrev.squareRoot() * x0 + directionWeight * eps
            if eta > 0, let noise { out[i] += deviation * noise[i] }
        }
        return out
    }

    public func addNoise(_ original: [Float], noise: [Float], stepIndex: Int) -> [Float] {
        SchedulerMath.addNoise(original, noise: noise, alphaProduct: schedule.alphasCumprod[steps[stepIndex]])
    }
}
