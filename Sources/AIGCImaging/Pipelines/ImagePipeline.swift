// ImagePipeline: the contract between `aigc image` (and later the HTTP API) and every image model:
// validate a request, then turn it into a batch of images in [0, 1], reporting each step.
import AIGCLayers

/// An image generator bound to its weights.
public protocol ImagePipeline: AnyObject, Sendable {
    var architecture: ImageArchitecture { get }
    /// The steps `request` will take, after checking that the architecture supports every option
    /// it sets. Throws `ImagingError` for options it cannot use.
    func validate(_ request: ImageRequest) throws -> Int
    /// Generates `request.count` images, [count, channels, height, width] with values in [0, 1].
    func generate(_ request: ImageRequest, progress: (ImageProgress) -> Void) throws -> ImageTensor
}

extension ImagePipeline {
    /// The validation shared by unconditional one-shot generators (GAN, VAE): no conditioning
    /// options, and one step.
    func validateOneShot(_ request: ImageRequest) throws -> Int {
        try request.validateCommon()
        try rejectConditioning(request)
        if let steps = request.steps, steps != 1 {
            throw ImagingError.unsupportedOption(option: "--steps", architecture: architecture.rawValue,
                                                 reason: "a \(architecture.rawValue) generates an image in one pass; leave --steps out")
        }
        return 1
    }

    /// Rejects every text-to-image and image-to-image option (unconditional models).
    func rejectConditioning(_ request: ImageRequest) throws {
        if let option = request.conditioningOptions.first {
            throw ImagingError.unsupportedOption(option: option, architecture: architecture.rawValue,
                                                 reason: "this model is unconditional: it takes no prompt, guidance, scheduler, init image or size")
        }
    }
}
