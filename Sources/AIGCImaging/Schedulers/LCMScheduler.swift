// LCMScheduler: multistep latent consistency sampling (Luo et al. 2023, Algorithm 1) as diffusers'
// LCMScheduler (scheduling_lcm.py @ 58eb52c). Timesteps are picked from the distillation schedule
// of original_inference_steps (k = T / original, steps k-1, 2k-1, ..., T-1); each step maps the
// model output to x0, applies the consistency boundary condition
//   denoised = c_out·x0 + c_skip·x,  c_skip = 0.25 / (u² + 0.25),  c_out = u / sqrt(u² + 0.25),  u = 10·t,
// and, except at the last step, noises `denoised` forward to the next timestep with fresh noise.

/// Latent consistency model sampling.
public struct LCMScheduler: DiffusionScheduler {
    public let settings: SchedulerSettings
    public let schedule: NoiseSchedule
    let steps: [Int]

    /// A scheduler for `steps` inference steps (at most original_inference_steps). For img2img,
    /// `strength` < 1 keeps only the first strength · original_inference_steps steps of the
    /// distillation schedule to pick from, as diffusers' LCM img2img pipeline does; the run then
    /// starts at step 0 from the image noised to the first timestep.
    public init(configuration: SchedulerConfiguration, steps: Int, strength: Double = 1, source: String = "scheduler config") throws {
        settings = try configuration.settings(for: .lcm, source: source)
        guard strength > 0 && strength <= 1 else {
            throw ImagingError.invalidRequest(option: "--strength", value: "\(strength)", reason: "must be in (0, 1]")
        }
        let k = settings.trainSteps / settings.originalInferenceSteps
        let available = Int(Double(settings.originalInferenceSteps) * strength)
        try SchedulerKind.checkSteps(steps, settings, limit: available)
        schedule = NoiseSchedule(settings)
        self.strength = strength
        let origin = (1...available).reversed().map { $0 * k - 1 }
        // np.floor(np.linspace(0, len, steps, endpoint=False)): evenly spread picks, earliest first.
        self.steps = (0..<steps).map { origin[Int((Double($0) * (Double(origin.count) / Double(steps))).rounded(.down))] }
    }

    /// The img2img strength the timesteps were picked for (1: text-to-image).
    public let strength: Double

    /// LCM builds the strength into its timesteps, so img2img always starts at step 0.
    public func startIndex(strength: Double) -> Int { 0 }

    public var timesteps: [Float] { steps.map(Float.init) }
    public var initNoiseSigma: Float { 1 }
    public func needsNoise(at stepIndex: Int) -> Bool { stepIndex != steps.count - 1 }
    public func scaleModelInput(_ sample: [Float], stepIndex: Int) -> [Float] { sample }

    public mutating func step(modelOutput: [Float], sample: [Float], stepIndex: Int, noise: [Float]?) -> [Float] {
        precondition(modelOutput.count == sample.count && (noise?.count ?? sample.count) == sample.count)
        let t = steps[stepIndex]
        let previous = stepIndex + 1 < steps.count ? steps[stepIndex + 1] : t
        let a = schedule.alphasCumprod[t], aPrev = schedule.alphasCumprod[previous]
        let u = Float(t) * settings.timestepScaling
        let skip = 0.25 / (u * u + 0.25), scale = u / (u * u + 0.25).squareRoot()
        let clip = settings.clipSample ? settings.clipSampleRange : Float.infinity
        let last = stepIndex == steps.count - 1
        var out = [Float](repeating: 0, count: sample.count)
        for i in out.indices {
            let x0 = min(max(SchedulerMath.originalSample(modelOutput[i], sample[i], alphaProduct: a, settings.prediction), -clip), clip)
            let denoised = scale * x0 + skip * sample[i]
            out[i] = last ? denoised : aPrev.squareRoot() * denoised + (1 - aPrev).squareRoot() * (noise?[i] ?? 0)
        }
        return out
    }

    public func addNoise(_ original: [Float], noise: [Float], stepIndex: Int) -> [Float] {
        SchedulerMath.addNoise(original, noise: noise, alphaProduct: schedule.alphasCumprod[steps[stepIndex]])
    }
}
