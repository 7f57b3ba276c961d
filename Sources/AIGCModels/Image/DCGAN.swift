// DCGAN generator for 28x28 MNIST digits: z [N, 100] -> four transposed convolutions with eval-mode
// BatchNorm and LeakyReLU(0.2) between them -> tanh image in [-1, 1]. Ports `Generator` of
// github.com/dennisjooo/DCGAN-on-MNIST @ afc740a1b0e6aefa900080288938de7db2291682 (model.py,
// weights models/generator.pth); the real layer sizes (4 -> 7 -> 14 -> 28 pixels, 128/64/32
// channels) are those of shared/data/models/gan/ARCH.md, not model.py's stale comments.
import AIGCKernels
import AIGCLayers
import AIGCTensor

/// Sizes of the DCGAN generator (defaults: the MNIST checkpoint's).
public struct DCGANConfiguration: Codable, Sendable, Equatable {
    /// Length of the noise vector z.
    public var codingSize: Int
    /// Channels of the last hidden layer; the earlier ones have 2x and 4x as many.
    public var filters: Int
    /// Channels of the generated images (1: gray).
    public var imageChannels: Int
    /// Negative slope of the LeakyReLUs.
    public var leakySlope: Float
    /// eps of the BatchNorm layers.
    public var batchNormEps: Float

    enum CodingKeys: String, CodingKey {
        case codingSize = "coding_size", filters = "n_filters", imageChannels = "image_channels"
        case leakySlope = "leaky_slope", batchNormEps = "batch_norm_eps"
    }

    /// A configuration; the defaults are generator.pth's.
    public init(codingSize: Int = 100, filters: Int = 32, imageChannels: Int = 1, leakySlope: Float = 0.2, batchNormEps: Float = 1e-5) {
        self.codingSize = codingSize
        self.filters = filters
        self.imageChannels = imageChannels
        self.leakySlope = leakySlope
        self.batchNormEps = batchNormEps
    }

    /// The configuration whose shapes `weights` holds (coding size and filters read from the first and last layers).
    public init(weights: any WeightSource) throws {
        let first = try weights.tensor(DCGANGenerator.weightName(1)), last = try weights.tensor(DCGANGenerator.weightName(10))
        guard first.shape.count == 4, last.shape.count == 4 else {
            throw TensorError.shapeMismatch(name: first.name, expected: [-1, -1, 4, 4], actual: first.shape, source: weights.sourceName)
        }
        self.init(codingSize: first.shape[0], filters: last.shape[0], imageChannels: last.shape[1])
    }

    /// Height and width of the generated images.
    public var imageSize: Int { 28 }
}

/// The generator network; `forward` maps noise to images. One forward at a time per instance.
public final class DCGANGenerator: @unchecked Sendable {
    /// The sizes this generator was built with.
    public let config: DCGANConfiguration
    let layers: [(convolution: ConvTranspose2d, norm: BatchNorm2d?)]
    let pool: ComputePool

    /// State-dict name of the transposed convolution at `layer_stack` index `index` (1, 4, 7, 10).
    static func weightName(_ index: Int) -> String { "layer_stack.\(index).weight" }

    /// Whether `weights` look like this generator's state dict (its first and last layers are there).
    public static func matches(_ weights: any WeightSource) -> Bool {
        weights.contains(weightName(1)) && weights.contains(weightName(10))
    }

    /// Loads the generator's tensors from `weights` (a state dict), checking every shape.
    public init(configuration config: DCGANConfiguration = DCGANConfiguration(), weights: any WeightSource, pool: ComputePool = .shared) throws {
        self.config = config
        self.pool = pool
        let f = config.filters
        // (layer_stack index, in, out, kernel, stride, padding): 1x1 -> 4x4 -> 7x7 -> 14x14 -> 28x28.
        let plan = [(1, config.codingSize, 4 * f, 4, 1, 0), (4, 4 * f, 2 * f, 3, 2, 1), (7, 2 * f, f, 4, 2, 1), (10, f, config.imageChannels, 4, 2, 1)]
        layers = try plan.map { index, inChannels, outChannels, kernel, stride, padding in
            let weight = try weights.tensor(DCGANGenerator.weightName(index), shape: [inChannels, outChannels, kernel, kernel])
            let convolution = try ConvTranspose2d(weight: weight, bias: nil, stride: stride, padding: padding)
            // Every layer but the last is followed by BatchNorm2d at index + 1.
            let norm = index == 10 ? nil : try BatchNorm2d(weights.scoped("layer_stack.\(index + 1)"), channels: outChannels, eps: config.batchNormEps)
            return (convolution, norm)
        }
    }

    /// z [count, codingSize] (row-major) -> images [count, channels, 28, 28] in [-1, 1].
    public func forward(noise z: [Float], count: Int) -> ImageTensor {
        precondition(z.count == count * config.codingSize, "DCGAN takes \(config.codingSize) noise values per image")
        var x = ImageTensor(batch: count, channels: config.codingSize, height: 1, width: 1, values: z)  // Reshape(-1, 100, 1, 1)
        for (convolution, norm) in layers {
            x = convolution.forward(x, pool: pool)
            if let norm {
                norm.forward(&x, pool: pool)
                ImageActivation.leakyReLU(slope: config.leakySlope).forward(&x, pool: pool)
            }
        }
        ImageActivation.tanh.forward(&x, pool: pool)
        return x
    }
}
