// The digit classifier on the MNIST VAE's latent space (classifier.pth): z [N, 20] -> Linear(20, 50)
// -> ReLU -> Linear(50, 10) -> logits of the digits 0-9. Ports `DigitClassifier` of
// github.com/cbaakman/mnist-vae @ bddd5ae700d64fae55f75bff68d676c5f1715c81 (mnist_vae/module.py),
// trained jointly with the VAE so that its latents carry the digit; see shared/data/models/vae/ARCH.md.
import AIGCKernels
import AIGCLayers
import AIGCTensor

/// Predicts the digit an MNIST VAE latent encodes.
public final class LatentDigitClassifier: @unchecked Sendable {
    /// Latent values per input (20).
    public let latentSize: Int
    /// Width of the hidden layer (50).
    public let hiddenSize: Int
    let hidden: Linear
    let output: Linear
    let pool: ComputePool
    let workspace = Workspace()

    static let firstLayer = "module.0.weight", outputLayer = "module.2"

    /// Whether `weights` look like this classifier's state dict.
    public static func matches(_ weights: any WeightSource) -> Bool {
        weights.contains(firstLayer) && weights.contains(outputLayer + ".weight") && weights.tensorNames.count == 4
    }

    /// Loads classifier.pth's tensors from `weights`.
    public init(weights: any WeightSource, pool: ComputePool = .shared) throws {
        let first = try weights.tensor(LatentDigitClassifier.firstLayer)
        guard first.shape.count == 2 else {
            throw TensorError.shapeMismatch(name: first.name, expected: [50, 20], actual: first.shape, source: weights.sourceName)
        }
        hiddenSize = first.shape[0]
        latentSize = first.shape[1]
        hidden = try Linear(weight: first, bias: weights.tensor("module.0.bias", shape: [hiddenSize]))
        output = try Linear(weight: weights.tensor(LatentDigitClassifier.outputLayer + ".weight", shape: [10, hiddenSize]),
                            bias: weights.tensor(LatentDigitClassifier.outputLayer + ".bias", shape: [10]))
        self.pool = pool
    }

    /// Logits [count, 10] of the latents [count, latentSize].
    public func logits(latents z: [Float], count: Int) -> [Float] {
        precondition(z.count == count * latentSize, "the classifier takes \(latentSize) latent values per image")
        var h = [Float](repeating: 0, count: count * hiddenSize), logits = [Float](repeating: 0, count: count * 10)
        h.withUnsafeMutableBufferPointer { h in
            z.withUnsafeBufferPointer { hidden.forward($0.baseAddress!, rows: count, into: h.baseAddress!, workspace: workspace, pool: pool) }
            relu(h.baseAddress!, count: h.count)
            logits.withUnsafeMutableBufferPointer { output.forward(h.baseAddress!, rows: count, into: $0.baseAddress!, workspace: workspace, pool: pool) }
        }
        return logits
    }

    /// The most likely digit of each latent.
    public func digits(latents z: [Float], count: Int) -> [Int] {
        let l = logits(latents: z, count: count)
        return (0..<count).map { n in (0..<10).max { l[n * 10 + $0] < l[n * 10 + $1] }! }
    }
}
