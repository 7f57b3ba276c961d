// What an image generation asks for, and the progress it reports. The text-to-image and
// image-to-image fields are here so the command line and the HTTP API carry them already; each
// pipeline says which of them it can use and rejects the rest.

/// One image generation: `count` images from `seed`, plus the settings of conditioned models.
public struct ImageRequest: Sendable, Equatable {
    /// Images to generate (tiled into one grid).
    public var count: Int
    /// Seed of the noise (same seed, same images).
    public var seed: UInt64
    /// Denoising steps; nil takes the model's own (the toy DDPM's schedule length, 1 for one-shot generators).
    public var steps: Int?
    /// Text conditioning (Stable Diffusion).
    public var prompt: String?
    /// The user's prompt when a text model rewrote it into `prompt` (recorded, not used to generate).
    public var originalPrompt: String?
    /// The text model that rewrote it.
    public var promptEnhancer: String?
    /// What the image should not show (Stable Diffusion).
    public var negativePrompt: String?
    /// Classifier-free guidance scale.
    public var guidanceScale: Float?
    /// Sampler name (ddim, euler, ...).
    public var scheduler: String?
    /// Path of an image to start from (image-to-image).
    public var initImage: String?
    /// How far image-to-image departs from `initImage` (0...1).
    public var strength: Float?
    /// Width of each image in pixels (Stable Diffusion).
    public var width: Int?
    /// Height of each image in pixels (Stable Diffusion).
    public var height: Int?

    /// The most images one request may ask for (a 16 x 16 grid).
    public static let maxCount = 256

    /// An unconditional request of `count` images.
    public init(count: Int = 1, seed: UInt64, steps: Int? = nil) {
        self.count = count
        self.seed = seed
        self.steps = steps
    }

    /// The conditioning options that are set, named as the command line spells them.
    public var conditioningOptions: [String] {
        var set: [String] = []
        if prompt != nil { set.append("PROMPT") }
        if negativePrompt != nil { set.append("--negative") }
        if guidanceScale != nil { set.append("--cfg") }
        if scheduler != nil { set.append("--scheduler") }
        if initImage != nil { set.append("--init") }
        if strength != nil { set.append("--strength") }
        if width != nil { set.append("--width") }
        if height != nil { set.append("--height") }
        return set
    }

    /// Checks what every architecture needs: a count in 1...maxCount and positive steps.
    public func validateCommon() throws {
        guard (1...ImageRequest.maxCount).contains(count) else {
            throw ImagingError.invalidRequest(option: "-n", value: String(count), reason: "the number of images must be 1...\(ImageRequest.maxCount)")
        }
        if let steps, steps < 1 {
            throw ImagingError.invalidRequest(option: "--steps", value: String(steps), reason: "steps must be at least 1")
        }
    }
}

/// Progress of a generation: `step` of `totalSteps` finished (the whole batch at once).
public struct ImageProgress: Sendable, Equatable {
    /// Steps finished, 1...totalSteps.
    public let step: Int
    /// Steps the generation takes.
    public let totalSteps: Int

    /// Progress after `step` of `totalSteps`.
    public init(step: Int, totalSteps: Int) {
        self.step = step
        self.totalSteps = totalSteps
    }
}
