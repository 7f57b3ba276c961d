// The toy DDPM of minDiffusion for 28x28 MNIST: a noise-prediction network of three
// conv7x7 + BatchNorm + LeakyReLU(0.01) blocks and a 3x3 output conv (it ignores the time step),
// plus the schedule buffers the checkpoint carries (n_T = 10). Ports `blk`, `DummyEpsModel` and
// `ddpm_schedules` of github.com/willdalh/minDiffusion-fork @ 5ca778079d7ff9d6f9105304f5c110c12c096b15
// (superminddpm.py; weights ddpm_mnist.pth); the 3-block layout is read from the state dict as
// shared/data/models/ddpm/ARCH.md explains. The sampling loop lives in AIGCImaging.
import AIGCKernels
import AIGCLayers
import AIGCTensor

/// The DDPM schedule buffers, index t = 0...steps (PyTorch `register_buffer`s of `DDPM`).
public struct DDPMSchedule: Sendable, Equatable {
    /// alpha_t = 1 - beta_t.
    public let alpha: [Float]
    /// 1 / sqrt(alpha_t).
    public let oneOverSqrtAlpha: [Float]
    /// sqrt(beta_t), the noise scale of a sampling step.
    public let sqrtBeta: [Float]
    /// The cumulative product of alpha up to t.
    public let alphaBar: [Float]
    /// sqrt(alphabar_t).
    public let sqrtAlphaBar: [Float]
    /// sqrt(1 - alphabar_t).
    public let sqrtOneMinusAlphaBar: [Float]
    /// (1 - alpha_t) / sqrt(1 - alphabar_t), the weight of the predicted noise in a step.
    public let noiseWeight: [Float]

    /// Diffusion steps n_T (the buffers hold n_T + 1 entries).
    public var steps: Int { alpha.count - 1 }

    /// The buffer names in the state dict, in the order of the properties above.
    static let names = ["alpha_t", "oneover_sqrta", "sqrt_beta_t", "alphabar_t", "sqrtab", "sqrtmab", "mab_over_sqrtmab"]

    /// Reads the seven buffers, which must have the same length (n_T + 1).
    public init(weights: any WeightSource) throws {
        let names = DDPMSchedule.names
        let count = try weights.tensor(names[0]).elementCount
        guard count >= 2 else {
            throw TensorError.shapeMismatch(name: names[0], expected: [11], actual: [count], source: weights.sourceName + " (a schedule needs at least one step)")
        }
        let buffers = try names.map { try weights.tensor($0, shape: [count]).toFloat32().floats() }
        alpha = buffers[0]
        oneOverSqrtAlpha = buffers[1]
        sqrtBeta = buffers[2]
        alphaBar = buffers[3]
        sqrtAlphaBar = buffers[4]
        sqrtOneMinusAlphaBar = buffers[5]
        noiseWeight = buffers[6]
    }
}

/// Sizes of the toy DDPM eps-model (defaults: ddpm_mnist.pth's).
public struct ToyDDPMConfiguration: Codable, Sendable, Equatable {
    /// Output channels of the conv blocks (the last conv maps back to the image channels).
    public var blockChannels: [Int]
    /// Channels of the images (1: gray).
    public var imageChannels: Int
    /// Negative slope of the LeakyReLUs (nn.LeakyReLU's default 0.01).
    public var leakySlope: Float
    /// eps of the BatchNorm layers.
    public var batchNormEps: Float

    enum CodingKeys: String, CodingKey {
        case blockChannels = "block_channels", imageChannels = "image_channels", leakySlope = "leaky_slope", batchNormEps = "batch_norm_eps"
    }

    /// A configuration; the defaults are ddpm_mnist.pth's.
    public init(blockChannels: [Int] = [64, 128, 64], imageChannels: Int = 1, leakySlope: Float = 0.01, batchNormEps: Float = 1e-5) {
        self.blockChannels = blockChannels
        self.imageChannels = imageChannels
        self.leakySlope = leakySlope
        self.batchNormEps = batchNormEps
    }

    /// The configuration whose shapes `weights` holds: blocks `eps_model.conv.<i>.0` while they exist.
    public init(weights: any WeightSource) throws {
        var channels: [Int] = []
        while let w = weights.tensorIfPresent(ToyDDPM.blockWeight(channels.count)), w.shape.count == 4 { channels.append(w.shape[0]) }
        let first = try weights.tensor(ToyDDPM.blockWeight(0))
        self.init(blockChannels: channels, imageChannels: first.shape[1])
    }

    /// Height and width of the images.
    public var imageSize: Int { 28 }
}

/// The noise-prediction network and its schedule. One forward at a time per instance.
public final class ToyDDPM: @unchecked Sendable {
    /// The sizes this model was built with.
    public let config: ToyDDPMConfiguration
    /// The schedule buffers stored with the weights.
    public let schedule: DDPMSchedule
    let blocks: [(convolution: Conv2d, norm: BatchNorm2d)]
    let output: Conv2d
    let pool: ComputePool

    /// Name of the convolution weight of block `index` (`blk` i = nn.Sequential(Conv2d, BatchNorm2d, LeakyReLU)).
    static func blockWeight(_ index: Int) -> String { "eps_model.conv.\(index).0.weight" }

    /// Whether `weights` look like this model's state dict (a first block and the schedule buffers).
    public static func matches(_ weights: any WeightSource) -> Bool {
        weights.contains(blockWeight(0)) && DDPMSchedule.names.allSatisfy { weights.contains($0) }
    }

    /// Loads the blocks, output conv and schedule from `weights`, checking every shape.
    public init(configuration config: ToyDDPMConfiguration = ToyDDPMConfiguration(), weights: any WeightSource, pool: ComputePool = .shared) throws {
        self.config = config
        self.pool = pool
        schedule = try DDPMSchedule(weights: weights)
        var inChannels = config.imageChannels
        var blocks: [(Conv2d, BatchNorm2d)] = []
        for (i, channels) in config.blockChannels.enumerated() {
            let block = weights.scoped("eps_model.conv.\(i)")
            let convolution = try Conv2d(weight: weights.tensor(ToyDDPM.blockWeight(i), shape: [channels, inChannels, 7, 7]),
                                         bias: block.tensor("0.bias", shape: [channels]), padding: 3)
            blocks.append((convolution, try BatchNorm2d(block.scoped("1"), channels: channels, eps: config.batchNormEps)))
            inChannels = channels
        }
        self.blocks = blocks
        let last = weights.scoped("eps_model.conv.\(config.blockChannels.count)")
        output = try Conv2d(weight: last.tensor("weight", shape: [config.imageChannels, inChannels, 3, 3]),
                            bias: last.tensor("bias", shape: [config.imageChannels]), padding: 1)
    }

    /// The noise the network sees in `x` ([N, channels, 28, 28]); the time step is not an input.
    public func predictNoise(_ x: ImageTensor) -> ImageTensor {
        var h = x
        for (convolution, norm) in blocks {
            h = convolution.forward(h, pool: pool)
            norm.forward(&h, pool: pool)
            ImageActivation.leakyReLU(slope: config.leakySlope).forward(&h, pool: pool)
        }
        return output.forward(h, pool: pool)
    }
}
