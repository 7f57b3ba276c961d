// EulerAncestralScheduler: Euler steps that overshoot to sigma_down and add fresh noise of
// sigma_up (k-diffusion's sample_euler_ancestral), as diffusers' EulerAncestralDiscreteScheduler
// (scheduling_euler_ancestral_discrete.py @ 58eb52c):
//   sigma_up = sqrt(sigma_next² (sigma² - sigma_next²) / sigma²),  sigma_down = sqrt(sigma_next² - sigma_up²),
//   x_next = x + (x - x0) / sigma · (sigma_down - sigma) + sigma_up · z.
// Timesteps, sigmas, model-input scaling and add_noise are the Euler sampler's.

/// Euler ancestral sampling.
public struct EulerAncestralScheduler: DiffusionScheduler {
    let euler: EulerScheduler

    /// A scheduler for `steps` inference steps.
    public init(configuration: SchedulerConfiguration, steps: Int, source: String = "scheduler config") throws {
        euler = try EulerScheduler(settings: configuration.settings(for: .eulerAncestral, source: source), steps: steps)
    }

    public var settings: SchedulerSettings { euler.settings }
    public var timesteps: [Float] { euler.timesteps }
    /// One sigma per timestep, then 0.
    public var sigmas: [Float] { euler.sigmas }
    public var initNoiseSigma: Float { euler.initNoiseSigma }
    public func needsNoise(at stepIndex: Int) -> Bool { euler.sigmas[stepIndex + 1] > 0 }
    public func scaleModelInput(_ sample: [Float], stepIndex: Int) -> [Float] { euler.scaleModelInput(sample, stepIndex: stepIndex) }
    public func addNoise(_ original: [Float], noise: [Float], stepIndex: Int) -> [Float] {
        euler.addNoise(original, noise: noise, stepIndex: stepIndex)
    }

    public mutating func step(modelOutput: [Float], sample: [Float], stepIndex: Int, noise: [Float]?) -> [Float] {
        precondition(modelOutput.count == sample.count && (noise?.count ?? sample.count) == sample.count)
        let sigma = euler.sigmas[stepIndex], next = euler.sigmas[stepIndex + 1]
        let up = (next * next * (sigma * sigma - next * next) / (sigma * sigma)).squareRoot()
        let down = (next * next - up * up).squareRoot()
        let dt = down - sigma
        var out = [Float](repeating: 0, count: sample.count)
        for i in out.indices {
            let x0 = SchedulerMath.originalSample(modelOutput[i], sample[i], sigma: sigma, euler.settings.prediction)
            out[i] = sample[i] + (sample[i] - x0) / sigma * dt
            if let noise { out[i] += noise[i] * up }
        }
        return out
    }
}
