// Convolution throughput (`aigc bench --conv`): Conv2d on aigc's pool (the direct kernel up to 64
// channels at 3x3, im2col + sgemm above) in GFLOPS against one cblas_sgemm call of the same matrix
// shape (M = out channels, N = output pixels, K = in channels * kH * kW) with OpenBLAS's own
// threads, which is the ceiling im2col can reach.
import AIGCKernels
import AIGCLayers
import AIGCSampling
import AIGCTensor
import Foundation

/// One measured convolution shape.
public struct ConvolutionThroughput: Codable, Sendable {
    /// Batch, channels, kernel and image size, e.g. "N1 64->64 3x3 64x64".
    public let shape: String
    /// Threads of the pool (and of OpenBLAS for the sgemm figure).
    public let threads: Int
    /// Median milliseconds of one Conv2d forward.
    public let milliseconds: Double
    /// Conv2d throughput: 2 * batch * M * N * K floating-point operations per second, in 10^9.
    public let gigaflops: Double
    /// Conv2d throughput of the fastest repetition (the machine's other load shows as the gap to the median).
    public let bestGigaflops: Double
    /// GFLOPS of cblas_sgemm on the same [M, K] x [K, N] product, with `threads` BLAS threads (median).
    public let sgemmGigaflops: Double
    /// sgemm GFLOPS of the fastest repetition.
    public let sgemmBestGigaflops: Double
    /// GEMM rows (output channels).
    public let m: Int
    /// GEMM columns (output pixels of one image).
    public let n: Int
    /// GEMM depth (input channels * kH * kW).
    public let k: Int
}

/// Times Conv2d and the matching sgemm.
public enum ConvolutionBenchmark {
    /// (batch, in, out, kernel, side): the 64 -> 64 3x3 at 64x64, a deeper layer, and a
    /// Stable-Diffusion-sized 320-channel layer at 32x32.
    public static let shapes = [(1, 64, 64, 3, 64), (2, 64, 64, 3, 64), (1, 128, 128, 3, 32), (1, 320, 320, 3, 32)]

    /// Timings of every shape on `threads` threads, `repetitions` runs each after one warm-up.
    public static func run(threads: Int, repetitions: Int = 10) throws -> [ConvolutionThroughput] {
        let pool = ComputePool(threads: threads)
        var random = SeededRandom(seed: 11)
        func floats(_ n: Int) -> [Float] { (0..<n).map { _ in random.nextUnit() - 0.5 } }
        return try shapes.map { batch, inChannels, outChannels, kernel, side in
            let conv = try Conv2d(weight: Tensor(shape: [outChannels, inChannels, kernel, kernel], floats: floats(outChannels * inChannels * kernel * kernel)),
                                  bias: Tensor(shape: [outChannels], floats: floats(outChannels)), padding: kernel / 2)
            let x = ImageTensor(batch: batch, channels: inChannels, height: side, width: side, values: floats(batch * inChannels * side * side))
            configureBLASSingleThreaded()
            let convSeconds = DiffusionBenchmark.timings(repetitions) { _ = conv.forward(x, pool: pool) }
            let m = outChannels, n = side * side, k = inChannels * kernel * kernel
            let a = floats(m * k), b = floats(k * n)
            var c = [Float](repeating: 0, count: m * n)
            configureBLASThreads(threads)
            defer { configureBLASSingleThreaded() }
            let gemmSeconds = DiffusionBenchmark.timings(repetitions) {
                for _ in 0..<batch { matmul(into: &c, a, b, m: m, n: n, k: k) }
            }
            let flops = 2 * Double(batch * m * n * k)
            return ConvolutionThroughput(shape: "N\(batch) \(inChannels)->\(outChannels) \(kernel)x\(kernel) \(side)x\(side)", threads: threads,
                                         milliseconds: convSeconds.median * 1e3, gigaflops: flops / convSeconds.median / 1e9,
                                         bestGigaflops: flops / convSeconds.best / 1e9, sgemmGigaflops: flops / gemmSeconds.median / 1e9,
                                         sgemmBestGigaflops: flops / gemmSeconds.best / 1e9, m: m, n: n, k: k)
        }
    }
}
