// GAN sampling: z ~ N(0, I) from the seed, one pass of the DCGAN generator, tanh output mapped
// from [-1, 1] to [0, 1] ((x + 1) / 2, as DCGAN-on-MNIST's generate.py does before saving).
import AIGCLayers
import AIGCModels

/// One-pass sampling with the DCGAN generator.
public final class GANPipeline: ImagePipeline, @unchecked Sendable {
    /// The generator network.
    public let generator: DCGANGenerator
    /// Always `.dcgan`.
    public var architecture: ImageArchitecture { .dcgan }

    /// A pipeline over `generator`.
    public init(_ generator: DCGANGenerator) { self.generator = generator }

    /// No conditioning and one step; returns 1.
    public func validate(_ request: ImageRequest) throws -> Int { try validateOneShot(request) }

    /// The noise of `request`: image k takes draws [k * codingSize, (k + 1) * codingSize), so the
    /// first images of a larger request are those of a smaller one with the same seed.
    public func noise(for request: ImageRequest) -> [Float] {
        var random = NormalRandom(seed: request.seed)
        return random.values(request.count * generator.config.codingSize)
    }

    /// Images in [0, 1] from the request's seed.
    public func generate(_ request: ImageRequest, progress: (ImageProgress) -> Void) throws -> ImageTensor {
        _ = try validate(request)
        var images = generator.forward(noise: noise(for: request), count: request.count)
        let count = images.count
        images.withMutablePointer { p in
            for i in 0..<count { p[i] = (p[i] + 1) * 0.5 }
        }
        progress(ImageProgress(step: 1, totalSteps: 1))
        return images
    }
}
