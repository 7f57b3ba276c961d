// The image architectures aigc runs, one registry line each (as mlx-swift-lm's LLMModelFactory
// registers text models): how to recognise a checkpoint's state dict and how to build its pipeline.
import AIGCKernels
import AIGCModels
import AIGCTensor

/// An image generator architecture, named as `--arch` spells it.
public enum ImageArchitecture: String, CaseIterable, Sendable {
    /// DCGAN generator for MNIST (gan/generator.pth).
    case dcgan
    /// Convolutional VAE decoder for MNIST (vae/vae.pth).
    case vae
    /// Toy DDPM of minDiffusion for MNIST (ddpm/ddpm_mnist.pth).
    case ddpm
    /// Stable Diffusion 1.x/2.x latent diffusion (a diffusers folder or a single-file checkpoint).
    case sd

    struct Entry: Sendable {
        let matches: @Sendable (any WeightSource) -> Bool
        let build: @Sendable (any WeightSource, ComputePool) throws -> any ImagePipeline
    }

    static let registry: [ImageArchitecture: Entry] = [
        .dcgan: Entry(matches: DCGANGenerator.matches) { w, p in GANPipeline(try DCGANGenerator(configuration: DCGANConfiguration(weights: w), weights: w, pool: p)) },
        .vae: Entry(matches: MNISTVAE.matches) { w, p in VAEPipeline(try MNISTVAE(configuration: MNISTVAEConfiguration(weights: w), weights: w, pool: p)) },
        .ddpm: Entry(matches: ToyDDPM.matches) { w, p in DDPMPipeline(try ToyDDPM(configuration: ToyDDPMConfiguration(weights: w), weights: w, pool: p)) },
        // A Stable Diffusion model is several components, never one PyTorch state dict of these.
        .sd: Entry(matches: { _ in false }) { _, _ in
            throw TensorError.missing(name: "unet", source: "a PyTorch state dict (give a diffusers folder or a .safetensors checkpoint)")
        },
    ]

    /// The architecture whose tensors `weights` holds, if any.
    public static func detect(_ weights: any WeightSource) -> ImageArchitecture? {
        allCases.first { registry[$0]!.matches(weights) }
    }

    /// The pipeline of this architecture over `weights` (throws when tensors are missing or misshapen).
    public func makePipeline(weights: any WeightSource, pool: ComputePool = .shared) throws -> any ImagePipeline {
        try ImageArchitecture.registry[self]!.build(weights, pool)
    }
}
