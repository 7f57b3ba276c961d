// Stable Diffusion 1.5 timings (`aigc bench --unet`, `--vae`): a full-size UNet2DConditionModel and
// AutoencoderKL built in memory with random weights (the real shapes, no checkpoint needed), timed
// for one U-Net evaluation of a classifier-free-guidance batch (2 latents: conditional and
// unconditional) and one VAE decode, at a given image size.
import AIGCKernels
import AIGCLayers
import AIGCModels
import AIGCSampling
import AIGCTensor
import Foundation

/// One measured model run.
public struct DiffusionTiming: Codable, Sendable {
    /// "unet" (one evaluation of `batch` latents) or "vae-decode".
    public let model: String
    /// Image height and width in pixels (the latent is size / 8).
    public let size: Int
    /// Latents per run.
    public let batch: Int
    /// Threads of the pool.
    public let threads: Int
    /// Median seconds of one run.
    public let seconds: Double
    /// Fastest run.
    public let bestSeconds: Double
    /// Seconds to build the model (random weights).
    public let buildSeconds: Double
    /// Floating-point operations of one run (convolutions, projections and attention products), in 10^12.
    public let teraflops: Double
}

/// Every tensor a model asks for, made on request with the asked shape: F32 uniform values scaled
/// by 1/sqrt(fan-in) so activations stay in range (norm weights 1, biases 0). Any name "exists".
struct SyntheticWeights: WeightSource, @unchecked Sendable {
    private let state: UnsafeMutablePointer<SeededRandom>
    let sourceName = "synthetic weights"
    var tensorNames: [String] { [] }

    init(seed: UInt64) {
        state = .allocate(capacity: 1)
        state.initialize(to: SeededRandom(seed: seed))
    }

    /// Releases the generator (the tensors it made are owned by their models).
    func release() { state.deallocate() }

    func tensorIfPresent(_ name: String) -> Tensor? { Tensor(name: name, shape: [1], floats: [0]) }
    func tensor(_ name: String) throws -> Tensor { Tensor(name: name, shape: [1], floats: [0]) }

    func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        let count = shape.reduce(1, *)
        if shape.count == 1 {
            let isScale = name.hasSuffix(".weight")  // norm scales; every 1-D bias is zero
            return Tensor(name: name, shape: shape, floats: [Float](repeating: isScale ? 1 : 0, count: count))
        }
        let bound = (3 / Float(shape.dropFirst().reduce(1, *))).squareRoot()
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count { values[i] = (2 * state.pointee.nextUnit() - 1) * bound }
        return Tensor(name: name, shape: shape, floats: values)
    }
}

public enum DiffusionBenchmark {
    /// One U-Net evaluation of `batch` latents of (size / 8)^2 for a 77-token context, SD 1.5 shapes.
    public static func unet(size: Int, batch: Int = 2, threads: Int, repetitions: Int = 2) throws -> DiffusionTiming {
        configureBLASSingleThreaded()
        let pool = ComputePool(threads: threads)
        let start = DispatchTime.now().uptimeNanoseconds
        let weights = SyntheticWeights(seed: 1)
        defer { weights.release() }
        let config = UNet2DConfiguration.stableDiffusion1
        let unet = try UNet2DConditionModel(configuration: config, weights: weights, pool: pool)
        let buildSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var random = SeededRandom(seed: 2)
        let side = size / 8
        let sample = ImageTensor(batch: batch, channels: 4, height: side, width: side,
                                 values: (0..<(batch * 4 * side * side)).map { _ in random.nextUnit() * 2 - 1 })
        let context = ConditioningTokens(batch: batch, tokens: 77, channels: config.crossAttentionDim,
                                         values: (0..<(batch * 77 * config.crossAttentionDim)).map { _ in random.nextUnit() * 2 - 1 })
        let (median, best) = timings(repetitions) { _ = unet.forward(sample, timesteps: [500], context: context) }
        return DiffusionTiming(model: "unet", size: size, batch: batch, threads: threads, seconds: median, bestSeconds: best,
                               buildSeconds: buildSeconds, teraflops: Double(batch) * unetTeraflops(side: side))
    }

    /// One VAE decode of a (size / 8)^2 latent to size x size RGB, SD 1.5 shapes.
    public static func vaeDecode(size: Int, threads: Int, repetitions: Int = 2) throws -> DiffusionTiming {
        configureBLASSingleThreaded()
        let pool = ComputePool(threads: threads)
        let start = DispatchTime.now().uptimeNanoseconds
        let weights = SyntheticWeights(seed: 3)
        defer { weights.release() }
        let vae = try AutoencoderKL(configuration: AutoencoderKLConfiguration(), weights: weights, pool: pool)
        let buildSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var random = SeededRandom(seed: 4)
        let side = size / 8
        let latents = ImageTensor(batch: 1, channels: 4, height: side, width: side, values: (0..<(4 * side * side)).map { _ in random.nextUnit() * 2 - 1 })
        let (median, best) = timings(repetitions) { _ = vae.decode(latents) }
        return DiffusionTiming(model: "vae-decode", size: size, batch: 1, threads: threads, seconds: median, bestSeconds: best,
                               buildSeconds: buildSeconds, teraflops: vaeDecodeTeraflops(side: side))
    }

    /// Median and fastest seconds of `repetitions` runs after one warm-up run (profile totals cover the timed runs).
    static func timings(_ repetitions: Int, _ body: () -> Void) -> (median: Double, best: Double) {
        body()
        Profiler.reset()
        var samples: [Double] = []
        for _ in 0..<max(1, repetitions) {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        samples.sort()
        return (samples[samples.count / 2], samples[0])
    }

    /// Multiply-adds x 2 of one SD 1.5 U-Net evaluation of one latent of side x side.
    static func unetTeraflops(side: Int) -> Double {
        let channels = [320, 640, 1280, 1280]
        var flops = 0.0, s = Double(side)
        func conv(_ i: Int, _ o: Int, _ k: Double, _ size: Double) { flops += 2 * Double(i * o) * k * k * size * size }
        func resnet(_ i: Int, _ o: Int, _ size: Double) { conv(i, o, 3, size); conv(o, o, 3, size); if i != o { conv(i, o, 1, size) } }
        func transformer(_ c: Int, _ size: Double) {
            let t = size * size, c = Double(c)
            flops += 2 * t * c * c * (2 + 4 + 2 + 12) + 4 * t * t * c + 4 * t * 77 * c + 4 * 77 * 768 * c
        }
        conv(4, 320, 3, s)
        var skips = [320], current = 320
        for (i, c) in channels.enumerated() {
            for _ in 0..<2 { resnet(current, c, s); current = c; if i < 3 { transformer(c, s) }; skips.append(c) }
            if i < 3 { s /= 2; conv(c, c, 3, s); skips.append(c) }
        }
        resnet(1280, 1280, s); transformer(1280, s); resnet(1280, 1280, s)
        for (i, c) in channels.reversed().enumerated() {
            for _ in 0..<3 { resnet(current + skips.removeLast(), c, s); current = c; if i > 0 { transformer(c, s) } }
            if i < 3 { s *= 2; conv(c, c, 3, s) }
        }
        conv(320, 4, 3, s)
        return flops / 1e12
    }

    /// Multiply-adds x 2 of one SD VAE decode of a side x side latent.
    static func vaeDecodeTeraflops(side: Int) -> Double {
        var flops = 0.0, s = Double(side)
        func conv(_ i: Int, _ o: Int, _ k: Double, _ size: Double) { flops += 2 * Double(i * o) * k * k * size * size }
        func resnet(_ i: Int, _ o: Int, _ size: Double) { conv(i, o, 3, size); conv(o, o, 3, size); if i != o { conv(i, o, 1, size) } }
        conv(4, 4, 1, s); conv(4, 512, 3, s); resnet(512, 512, s)
        flops += 4 * pow(s, 4) * 512 + 8 * s * s * 512 * 512
        resnet(512, 512, s)
        var current = 512
        for (i, c) in [512, 512, 256, 128].enumerated() {
            for _ in 0..<3 { resnet(current, c, s); current = c }
            if i < 3 { s *= 2; conv(c, c, 3, s) }
        }
        conv(128, 3, 3, s)
        return flops / 1e12
    }
}
