// DiffusionScheduler: what a latent-diffusion sampling loop asks of a scheduler, and the registry
// of the ones aigc has by their command-line names. The loop, as diffusers' StableDiffusionPipeline
// runs it:
//   x = noise * initNoiseSigma                      (img2img: x = addNoise(encoded, noise, stepIndex: start))
//   for i in start..<timesteps.count:
//       out = model(scaleModelInput(x, stepIndex: i), timesteps[i])   (with classifier-free guidance)
//       x = step(modelOutput: out, sample: x, stepIndex: i, noise: needsNoise(at: i) ? fresh normals : nil)
// Samples are flat float arrays (a batch of latents in NCHW order); every rule is elementwise, so the
// batch layout does not matter. Stochastic steps take their noise from the caller, who draws it per
// image from the seeded NormalRandom, so a seed reproduces an image whatever the batch size.

/// One sampler's update rule over a fixed list of inference timesteps.
public protocol DiffusionScheduler: Sendable {
    /// The timesteps the model is evaluated at, in sampling order (fractional for Euler's "linspace").
    var timesteps: [Float] { get }
    /// The standard deviation of the starting noise (1, or the largest sigma for Euler samplers).
    var initNoiseSigma: Float { get }
    /// Whether step `stepIndex` adds fresh noise, so the caller must pass `sample.count` normals.
    func needsNoise(at stepIndex: Int) -> Bool
    /// The model's input at step `stepIndex` (Euler samplers divide by sqrt(sigma² + 1)).
    func scaleModelInput(_ sample: [Float], stepIndex: Int) -> [Float]
    /// The sample at the next timestep. Steps must run in order from the first one taken (multistep
    /// solvers remember earlier outputs).
    mutating func step(modelOutput: [Float], sample: [Float], stepIndex: Int, noise: [Float]?) -> [Float]
    /// A clean sample noised to the level of step `stepIndex` (img2img's starting point).
    func addNoise(_ original: [Float], noise: [Float], stepIndex: Int) -> [Float]
    /// The first step img2img runs for `strength` in (0, 1] (1: all steps, from pure noise).
    func startIndex(strength: Double) -> Int
}

extension DiffusionScheduler {
    /// A step whose noise, if any, comes from `random`.
    public mutating func step(modelOutput: [Float], sample: [Float], stepIndex: Int, random: inout NormalRandom) -> [Float] {
        let noise = needsNoise(at: stepIndex) ? random.values(sample.count) : nil
        return step(modelOutput: modelOutput, sample: sample, stepIndex: stepIndex, noise: noise)
    }

    /// diffusers' img2img rule (StableDiffusionImg2ImgPipeline.get_timesteps).
    public func startIndex(strength: Double) -> Int { NoiseSchedule.startIndex(steps: timesteps.count, strength: strength) }
}

/// The schedulers aigc has, by `--scheduler` name.
public enum SchedulerKind: String, Sendable, CaseIterable {
    case ddpm, ddim, euler, eulerAncestral = "euler-a", dpmSolver2M = "dpm++2m", lcm

    /// The kind a command-line name (or alias) picks.
    public init(name: String) throws {
        let aliases: [String: SchedulerKind] = ["euler_ancestral": .eulerAncestral, "euler-ancestral": .eulerAncestral,
                                                "dpmpp-2m": .dpmSolver2M, "dpmpp_2m": .dpmSolver2M, "dpm++": .dpmSolver2M]
        let key = name.lowercased()
        guard let kind = SchedulerKind(rawValue: key) ?? aliases[key] else {
            throw ImagingError.unknownScheduler(name: name, known: SchedulerKind.allCases.map(\.rawValue))
        }
        self = kind
    }

    /// The diffusers class this kind reimplements.
    public var diffusersClass: String {
        switch self {
        case .ddpm: return "DDPMScheduler"
        case .ddim: return "DDIMScheduler"
        case .euler: return "EulerDiscreteScheduler"
        case .eulerAncestral: return "EulerAncestralDiscreteScheduler"
        case .dpmSolver2M: return "DPMSolverMultistepScheduler"
        case .lcm: return "LCMScheduler"
        }
    }

    /// This kind's scheduler for `steps` inference steps under `configuration` (a model's
    /// scheduler_config.json; `source` names it in errors). `strength` is img2img's: only LCM picks
    /// its timesteps by it; the others start at `startIndex(strength:)`.
    public func make(configuration: SchedulerConfiguration, steps: Int, strength: Double = 1,
                     source: String = "scheduler config") throws -> any DiffusionScheduler {
        switch self {
        case .ddpm: return try DDPMScheduler(configuration: configuration, steps: steps, source: source)
        case .ddim: return try DDIMScheduler(configuration: configuration, steps: steps, source: source)
        case .euler: return try EulerScheduler(configuration: configuration, steps: steps, source: source)
        case .eulerAncestral: return try EulerAncestralScheduler(configuration: configuration, steps: steps, source: source)
        case .dpmSolver2M: return try DPMSolverMultistepScheduler(configuration: configuration, steps: steps, source: source)
        case .lcm: return try LCMScheduler(configuration: configuration, steps: steps, strength: strength, source: source)
        }
    }

    /// Refuses a step count the training schedule cannot hold.
    static func checkSteps(_ steps: Int, _ settings: SchedulerSettings, limit: Int? = nil) throws {
        let most = limit ?? settings.trainSteps
        guard steps >= 1 && steps <= most else {
            throw ImagingError.invalidRequest(option: "--steps", value: "\(steps)", reason: "must be 1...\(most) for this scheduler")
        }
    }
}
