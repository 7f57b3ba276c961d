// VAE sampling: latents z ~ N(0, I) from the seed (the prior; mnist-vae's scripts/generate
// samples a mean and log-variance first, which ARCH.md notes is not needed), decoded in one pass
// to sigmoid images in [0, 1].
import AIGCLayers
import AIGCModels

/// One-pass sampling with the VAE decoder.
public final class VAEPipeline: ImagePipeline, @unchecked Sendable {
    /// The VAE (its decoder generates).
    public let vae: MNISTVAE
    /// Always `.vae`.
    public var architecture: ImageArchitecture { .vae }

    /// A pipeline over `vae`.
    public init(_ vae: MNISTVAE) { self.vae = vae }

    /// No conditioning and one step; returns 1.
    public func validate(_ request: ImageRequest) throws -> Int { try validateOneShot(request) }

    /// The latents of `request`, image-major like the GAN's noise.
    public func latents(for request: ImageRequest) -> [Float] {
        var random = NormalRandom(seed: request.seed)
        return random.values(request.count * vae.config.latentSize)
    }

    /// Images in [0, 1] from the request's seed.
    public func generate(_ request: ImageRequest, progress: (ImageProgress) -> Void) throws -> ImageTensor {
        _ = try validate(request)
        let images = vae.decode(latents: latents(for: request), count: request.count)
        progress(ImageProgress(step: 1, totalSteps: 1))
        return images
    }
}
