// Benchmark: prompt processing (ppN) and token generation (tgN) speed, measured as llama-bench does —
// ppN runs N random tokens as one batch on an empty cache; tgN decodes N random tokens one at a time
// (logits for each) on an empty cache. One untimed warm-up, then `repetitions` timed runs.
import AIGCKernels
import CKernels
import AIGCLayers
import AIGCModels
import AIGCSampling
import AIGCTensor
import Foundation

public struct BenchmarkResult: Codable, Sendable {
    public let model: String
    public let sizeBytes: Int
    public let parameters: Int
    public let quantization: String
    public let threads: Int
    public let test: String
    public let promptTokens: Int
    public let generatedTokens: Int
    public let tokensPerSecond: Double
    public let stddev: Double
    public let samples: [Double]
    /// With --bandwidth: triad GB/s measured in the same run, the decode bound it implies
    /// (bandwidth / weight bytes per token) and the fraction of it reached (tg tests).
    public var bandwidthGBps: Double?
    public var boundTokensPerSecond: Double?
    public var fractionOfBound: Double?
    /// Times the worker pool ran jobs on the calling thread alone during this test because its other
    /// threads were preempted (0 on a quiet machine; see CKernels/pool.c).
    public var soloPeriods: Int?

    enum CodingKeys: String, CodingKey {
        case model, sizeBytes = "size_bytes", parameters, quantization, threads, test, promptTokens = "n_prompt"
        case generatedTokens = "n_gen", tokensPerSecond = "tokens_per_second", stddev, samples
        case bandwidthGBps = "bandwidth_gb_per_s", boundTokensPerSecond = "bound_tokens_per_second", fractionOfBound = "fraction_of_bound"
        case soloPeriods = "solo_periods"
    }
}

public enum Benchmark {
    public enum Test: Sendable {
        case prompt(Int)
        case generation(Int)
        var name: String {
            switch self {
            case let .prompt(n): "pp\(n)"
            case let .generation(n): "tg\(n)"
            }
        }
    }

    /// Runs `test` `repetitions` times (after a warm-up) and reports tokens per second.
    /// `beforeEachRun` runs, untimed, before each timed run (the bandwidth measured beside it).
    public static func run(_ loaded: LoadedModel, test: Test, threads: Int, repetitions: Int, seed: UInt64 = 1,
                           beforeEachRun: (() -> Void)? = nil) throws -> BenchmarkResult {
        let model = loaded.model
        var random = SeededRandom(seed: seed)
        func token() -> Int { Int(random.next() % UInt64(model.vocabularySize)) }
        var samples: [Double] = []
        for run in 0...repetitions {
            let cache = model.makeCache(sequences: 1, contextLength: nil)
            if run > 0 { beforeEachRun?() }
            let count: Int
            let start = DispatchTime.now().uptimeNanoseconds
            switch test {
            case let .prompt(n):
                guard n < model.contextLength else { throw GenerationError.promptTooLong(tokens: n, context: model.contextLength) }
                let tokens = (0..<n).map { _ in token() }
                _ = try model.forward(.prompt(tokens), cache: cache)
                count = n
            case let .generation(n):
                guard n < model.contextLength else { throw GenerationError.promptTooLong(tokens: n, context: model.contextLength) }
                for position in 0..<n { _ = try model.forward(.prompt([token()], startingAt: position), cache: cache) }
                count = n
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if run > 0 { samples.append(Double(count) / seconds) }
        }
        let mean = samples.reduce(0, +) / Double(samples.count)
        let variance = samples.count > 1 ? samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(samples.count - 1) : 0
        let (p, g): (Int, Int) = { switch test { case let .prompt(n): (n, 0); case let .generation(n): (0, n) } }()
        return BenchmarkResult(model: loaded.info.name, sizeBytes: loaded.info.fileBytes, parameters: loaded.info.parameters,
                               quantization: loaded.info.quantization, threads: threads, test: test.name, promptTokens: p,
                               generatedTokens: g, tokensPerSecond: mean, stddev: variance.squareRoot(), samples: samples)
    }
}

/// Matrix-vector throughput of the kernels per weight type: bytes of weights consumed per second.
public struct KernelThroughput: Codable, Sendable {
    public let type: String
    public let rows: Int
    public let columns: Int
    public let megabytes: Double
    public let gigabytesPerSecond: Double
    public let threads: Int
}

extension Benchmark {
    /// Times y = W·x for a random `rows` × `columns` matrix of `type` until about `seconds` have passed.
    /// With `streamedBytes`, the products cycle through copies of the matrix in separate memory that
    /// together hold at least that many bytes, so that every product reads its weights from DRAM and
    /// not from the last-level cache (32 MiB here, 94 MiB of weights per token for the default model).
    public static func kernelThroughput(type: DType, rows: Int, columns: Int, pool: ComputePool, seconds: Double = 0.5,
                                        streamedBytes: Int = 0) throws -> KernelThroughput {
        var random = SeededRandom(seed: 3)
        let values = (0..<(rows * columns)).map { _ in random.nextUnit() - 0.5 }
        let tensor = try TensorConversion.convert(Tensor(shape: [rows, columns], floats: values), to: type)
        let copies = max(1, (streamedBytes + tensor.byteCount - 1) / max(1, tensor.byteCount))
        let weights = try (0..<copies).map { _ in
            let storage = TensorStorage(allocating: tensor.byteCount)
            storage.mutableBase.copyMemory(from: tensor.data, byteCount: tensor.byteCount)
            return try Linear(weight: Tensor(name: "bench", dtype: type, shape: tensor.shape, storage: storage))
        }
        WeightArena.shared.seal()
        let x = (0..<columns).map { _ in random.nextUnit() }
        var y = [Float](repeating: 0, count: rows)
        let workspace = Workspace()
        var iterations = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0
        repeat {
            weights[iterations % copies].forward(x, rows: 1, into: &y, workspace: workspace, pool: pool)
            iterations += 1
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        } while elapsed < seconds
        let bytes = Double(tensor.byteCount)
        return KernelThroughput(type: type.description, rows: rows, columns: columns, megabytes: bytes / 1e6,
                                gigabytesPerSecond: bytes * Double(iterations) / elapsed / 1e9, threads: pool.threads)
    }
}

/// STREAM triad bandwidth (GB/s, counting two reads and one write per element) over three arrays
/// far larger than the caches, split across the pool's threads. The arrays are on huge pages where
/// the kernel grants them, as the decode weights are (WeightArena): the bound is the best this
/// machine's memory gives, not a 4 KiB-page figure. Kept between measurements, so that one can be
/// taken beside every timed decode run.
public final class TriadBenchmark {
    private let pool: ComputePool
    private let n: Int
    private let arena = WeightArena()
    private let allocations: [WeightAllocation?]
    private let owned: [UnsafeMutableRawPointer?]
    private let arrays: [UnsafeMutablePointer<Float>]

    public init(pool: ComputePool, megabytesPerArray: Int = 128) {
        self.pool = pool
        n = megabytesPerArray << 18
        let bytes = n * MemoryLayout<Float>.size
        let arena = arena
        allocations = (0..<3).map { _ in arena.allocate(byteCount: bytes) }
        owned = allocations.map { $0 == nil ? UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64) : nil }
        arrays = (0..<3).map { [allocations, owned, n] in (allocations[$0]?.bytes ?? owned[$0]!).bindMemory(to: Float.self, capacity: n) }
        for (i, array) in arrays.enumerated() { array.initialize(repeating: Float(i), count: n) }
    }

    deinit { for pointer in owned { pointer?.deallocate() } }

    /// The best of `repetitions` passes.
    public func measure(repetitions: Int = 5) -> Double {
        let chunk = 1 << 16, n = n
        let (a, b, c) = (arrays[0], arrays[1], arrays[2])
        var best = 0.0
        for _ in 0..<repetitions {
            let start = DispatchTime.now().uptimeNanoseconds
            pool.parallelFor((n + chunk - 1) / chunk) { task, _ in
                let from = task * chunk, count = min(chunk, n - from)
                aigc_stream_triad(a + from, b + from, c + from, 3, Int64(count))
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = max(best, Double(3 * 4 * n) / seconds / 1e9)
        }
        return best
    }
}

extension Benchmark {
    /// Bytes of weights a decode step reads: every matrix once (the token embedding only when it
    /// is also the output projection), norms and biases included.
    public static func weightBytesPerToken(_ loaded: LoadedModel) -> Int {
        loaded.model.streamedWeightBytes
    }
}
