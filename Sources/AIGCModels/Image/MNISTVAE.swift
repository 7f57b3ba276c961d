// Convolutional VAE for 28x28 MNIST digits with a 20-dimensional latent: the decoder (z -> linear
// -> 8x28x28 -> three 3x3 convolutions with replicate padding -> sigmoid image in [0, 1]) and the
// encoder (two conv + ReLU + 2x2 max-pool stages, a 7x7 conv to 20 values, mean and log-variance
// heads). Ports `mnist_vae/module.py` of github.com/cbaakman/mnist-vae @ bddd5ae700d64fae55f75bff68d676c5f1715c81
// (weights vae.pth); shapes as in shared/data/models/vae/ARCH.md.
import AIGCKernels
import AIGCLayers
import AIGCTensor

/// Sizes of the MNIST VAE (defaults: vae.pth's).
public struct MNISTVAEConfiguration: Codable, Sendable, Equatable {
    /// Latent (bottleneck) size.
    public var latentSize: Int
    /// Channels the decoder's linear layer reshapes its output to (at 28x28).
    public var decoderChannels: Int

    enum CodingKeys: String, CodingKey {
        case latentSize = "latent_size", decoderChannels = "decoder_channels"
    }

    /// A configuration; the defaults are vae.pth's.
    public init(latentSize: Int = 20, decoderChannels: Int = 8) {
        self.latentSize = latentSize
        self.decoderChannels = decoderChannels
    }

    /// The configuration whose shapes `weights` holds (read from the decoder's linear layer).
    public init(weights: any WeightSource) throws {
        let fc = try weights.tensor(MNISTVAE.decoderLinear + ".weight")
        guard fc.shape.count == 2, fc.shape[0] % (28 * 28) == 0 else {
            throw TensorError.shapeMismatch(name: fc.name, expected: [8 * 28 * 28, 20], actual: fc.shape, source: weights.sourceName)
        }
        self.init(latentSize: fc.shape[1], decoderChannels: fc.shape[0] / (28 * 28))
    }

    /// Height and width of the images.
    public var imageSize: Int { 28 }
}

/// The VAE's two halves. One forward at a time per instance (they share a workspace).
public final class MNISTVAE: @unchecked Sendable {
    /// The sizes this VAE was built with.
    public let config: MNISTVAEConfiguration
    let decoderInput: Linear
    let decoder: [Conv2d]
    let encoder: [Conv2d]
    let meanHead: Linear
    let logVarianceHead: Linear
    let pool: ComputePool
    let workspace = Workspace()

    static let decoderLinear = "decoder.fc"

    /// Whether `weights` look like this VAE's state dict (the decoder's linear layer is there).
    public static func matches(_ weights: any WeightSource) -> Bool { weights.contains(decoderLinear + ".weight") }

    /// Loads encoder, decoder and heads from `weights`, checking every shape.
    public init(configuration config: MNISTVAEConfiguration = MNISTVAEConfiguration(), weights: any WeightSource,
                pool: ComputePool = .shared) throws {
        self.config = config
        self.pool = pool
        let z = config.latentSize, size = config.imageSize
        func linear(_ name: String, _ out: Int, _ inp: Int) throws -> Linear {
            try Linear(weight: weights.tensor(name + ".weight", shape: [out, inp]), bias: weights.tensor(name + ".bias", shape: [out]))
        }
        func conv(_ name: String, _ out: Int, _ inp: Int, kernel: Int, padding: Int) throws -> Conv2d {
            try Conv2d(weight: weights.tensor(name + ".weight", shape: [out, inp, kernel, kernel]), bias: weights.tensor(name + ".bias", shape: [out]),
                       padding: padding, paddingMode: .replicate)
        }
        decoderInput = try linear(MNISTVAE.decoderLinear, config.decoderChannels * size * size, z)
        decoder = [try conv("decoder.conv1", 16, config.decoderChannels, kernel: 3, padding: 1), try conv("decoder.conv2", 4, 16, kernel: 3, padding: 1),
                   try conv("decoder.conv3", 1, 4, kernel: 3, padding: 1)]
        encoder = [try conv("encoder.conv1", 16, 1, kernel: 3, padding: 1), try conv("encoder.conv2", 8, 16, kernel: 3, padding: 1),
                   try conv("encoder.conv3", z, 8, kernel: 7, padding: 0)]
        meanHead = try linear("mean_layer", z, z)
        logVarianceHead = try linear("logvar_layer", z, z)
    }

    /// Latents [count, latentSize] (row-major) -> images [count, 1, 28, 28] in [0, 1].
    public func decode(latents z: [Float], count: Int) -> ImageTensor {
        precondition(z.count == count * config.latentSize, "the VAE decodes \(config.latentSize) latent values per image")
        let size = config.imageSize
        var x = ImageTensor(batch: count, channels: config.decoderChannels, height: size, width: size)
        x.withMutablePointer { out in
            z.withUnsafeBufferPointer { decoderInput.forward($0.baseAddress!, rows: count, into: out, workspace: workspace, pool: pool) }
        }
        for (i, conv) in decoder.enumerated() {
            x = conv.forward(x, pool: pool)
            (i < decoder.count - 1 ? ImageActivation.relu : .sigmoid).forward(&x, pool: pool)
        }
        return x
    }

    /// Images [count, 1, 28, 28] in [0, 1] -> the posterior's mean and log-variance, each [count, latentSize].
    public func encode(_ images: ImageTensor) -> (mean: [Float], logVariance: [Float]) {
        precondition(images.channels == 1 && images.height == config.imageSize && images.width == config.imageSize, "the VAE encodes 1x28x28 images")
        var x = images
        let maxPool = Pool2d(.max, kernel: 2)
        for conv in encoder.prefix(2) {
            x = conv.forward(x, pool: pool)
            ImageActivation.relu.forward(&x, pool: pool)
            x = maxPool.forward(x, pool: pool)  // 28 -> 14 -> 7
        }
        let features = encoder[2].forward(x, pool: pool)  // [N, latent, 1, 1], no activation
        let z = config.latentSize, n = images.batch
        var mean = [Float](repeating: 0, count: n * z), logVariance = mean
        features.withPointer { f in
            mean.withUnsafeMutableBufferPointer { meanHead.forward(f, rows: n, into: $0.baseAddress!, workspace: workspace, pool: pool) }
            logVariance.withUnsafeMutableBufferPointer { logVarianceHead.forward(f, rows: n, into: $0.baseAddress!, workspace: workspace, pool: pool) }
        }
        return (mean, logVariance)
    }
}
