// Toy DDPM sampling: x_T ~ N(0, I), then n_T ancestral steps (DDPMAncestralScheduler) with the
// eps-model, then image = clamp(x_0 + 0.5, 0, 1) (the model was trained on pixels in [-0.5, 0.5]).
import AIGCLayers
import AIGCModels

/// Ancestral sampling with the toy DDPM.
public final class DDPMPipeline: ImagePipeline, @unchecked Sendable {
    /// The eps-model and its schedule.
    public let model: ToyDDPM
    /// The update rule over the checkpoint's schedule.
    public let scheduler: DDPMAncestralScheduler
    /// Always `.ddpm`.
    public var architecture: ImageArchitecture { .ddpm }

    /// A pipeline over `model`.
    public init(_ model: ToyDDPM) {
        self.model = model
        scheduler = DDPMAncestralScheduler(schedule: model.schedule)
    }

    /// No conditioning; steps must be the schedule's n_T (or left out). Returns n_T.
    public func validate(_ request: ImageRequest) throws -> Int {
        try request.validateCommon()
        try rejectConditioning(request)
        if let steps = request.steps, steps != scheduler.steps {
            throw ImagingError.invalidRequest(option: "--steps", value: String(steps),
                                              reason: "this checkpoint's schedule has \(scheduler.steps) steps (n_T) and ancestral DDPM sampling "
                                                  + "takes all of them; use --steps \(scheduler.steps) or leave it out")
        }
        return scheduler.steps
    }

    /// Values of one image.
    var imageSize: Int { model.config.imageChannels * model.config.imageSize * model.config.imageSize }

    /// The noise of `request`, image-major: image k draws x_T, then z for t = n_T, ..., 2 (n_T
    /// images' worth in all), so the first images of a larger request match a smaller one's.
    /// Returns x_T for the batch and z per step (index 0 is t = n_T).
    public func noise(for request: ImageRequest) -> (initial: [Float], steps: [[Float]]) {
        let size = imageSize, n = request.count
        var random = NormalRandom(seed: request.seed)
        var initial = [Float](repeating: 0, count: n * size)
        var steps = [[Float]](repeating: initial, count: scheduler.steps - 1)
        for k in 0..<n {
            for i in 0..<size { initial[k * size + i] = random.next() }
            for s in steps.indices {
                for i in 0..<size { steps[s][k * size + i] = random.next() }
            }
        }
        return (initial, steps)
    }

    /// Algorithm 2 from `initial` (x_T): `noise(t)` gives z for t > 1 (nil at t = 1). Returns x_0.
    public func sample(initial: ImageTensor, noise: (Int) -> [Float]?, progress: (ImageProgress) -> Void) -> ImageTensor {
        var x = initial
        for (done, t) in scheduler.timesteps.enumerated() {
            let z = t > 1 ? noise(t) : nil
            let eps = model.predictNoise(x)
            scheduler.step(&x, predictedNoise: eps, t: t, noise: z)
            progress(ImageProgress(step: done + 1, totalSteps: scheduler.steps))
        }
        return x
    }

    /// Images in [0, 1] from the request's seed.
    public func generate(_ request: ImageRequest, progress: (ImageProgress) -> Void) throws -> ImageTensor {
        _ = try validate(request)
        let (initial, steps) = noise(for: request)
        let side = model.config.imageSize
        let start = ImageTensor(batch: request.count, channels: model.config.imageChannels, height: side, width: side, values: initial)
        let n = scheduler.steps
        var x = sample(initial: start, noise: { steps[n - $0] }, progress: progress)
        let count = x.count
        x.withMutablePointer { p in
            for i in 0..<count { p[i] = min(max(p[i] + 0.5, 0), 1) }
        }
        return x
    }
}
