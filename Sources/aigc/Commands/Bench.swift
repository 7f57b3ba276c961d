// aigc bench: prompt-processing and generation speed in the manner of llama-bench.
import AIGCGeneration
import AIGCImaging
import AIGCKernels
import AIGCTensor
import ArgumentParser
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure prompt processing (ppN) and generation (tgN) speed.")

    @Option(name: [.short, .customLong("model")], help: "Model name or path.") var model: String = ModelCatalog.defaultModel
    @Option(name: [.short, .customLong("n-prompt")], help: "Prompt lengths to test, comma-separated (0: none).") var prompt: String = "512"
    @Option(name: [.customShort("n"), .customLong("n-gen")], help: "Generation lengths to test, comma-separated (0: none).") var generate: String = "128"
    @Option(name: [.short, .customLong("threads")], help: "Thread counts, comma-separated.") var threads: String = "\(ComputePool.defaultThreads)"
    @Option(name: [.short, .customLong("repetitions")], help: "Timed runs per test (after one warm-up).") var repetitions: Int = 5
    @Option(name: .customLong("kv-cache"), help: "Element type of the key/value cache: f16 or f32.") var kvCache: KVCachePrecision = .f16
    @Flag(help: "Print a JSON array, one object per test.") var json = false
    @Flag(help: "Measure the matrix-vector kernels alone (GB/s of weights per type) instead of a model.") var kernels = false
    @Flag(help: "Also measure memory bandwidth (STREAM triad) and report decode speed as a fraction of the bound it sets.") var bandwidth = false
    @Flag(name: .customLong("conv"), help: "Measure Conv2d (direct kernel or im2col + sgemm) in GFLOPS against cblas_sgemm of the same shape.") var convolution = false
    @Flag(help: "Time one SD 1.5 U-Net evaluation of a guidance batch of 2 latents (random weights, built in memory).") var unet = false
    @Flag(help: "Time one SD 1.5 VAE decode (random weights, built in memory).") var vae = false
    @Option(help: "Image sizes for --unet and --vae, comma-separated (multiples of 64).") var size: String = "512"

    static func list(_ text: String, _ name: String) throws -> [Int] {
        let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? -1) >= 0 }) else { throw ValidationError("\(name) wants comma-separated counts, got '\(text)'") }
        return values.map { $0! }
    }

    func validate() throws {
        if repetitions < 1 { throw ValidationError("--repetitions must be >= 1") }
        if try Self.list(threads, "--threads").contains(where: { $0 < 1 || $0 > 256 }) { throw ValidationError("--threads must be 1...256") }
        if try Self.list(size, "--size").contains(where: { $0 < 64 || $0 % 64 != 0 }) { throw ValidationError("--size values must be multiples of 64") }
    }

    func run() throws {
        if kernels { return try runKernels() }
        if convolution { return try runConvolution() }
        if unet || vae { return try runDiffusion() }
        let (path, installed) = try ModelStore().resolve(model)
        let prompts = try Self.list(prompt, "--n-prompt").filter { $0 > 0 }
        let gens = try Self.list(generate, "--n-gen").filter { $0 > 0 }
        var results: [BenchmarkResult] = []
        if !json { writeOut("| model | size | params | quant | threads | test | t/s |\n|---|---|---|---|---|---|---|\n") }
        for t in try Self.list(threads, "--threads") {
            let pool = ComputePool(threads: t)
            let loaded = try ModelLoader.load(path: path, name: installed?.name, pool: pool, cachePrecision: kvCache)
            let tests = prompts.map { Benchmark.Test.prompt($0) } + gens.map { Benchmark.Test.generation($0) }
            // The bound is measured beside every timed decode run, since this host's bandwidth moves
            // between seconds: each run's fraction is its speed over the bound taken just before it.
            let triad = bandwidth ? TriadBenchmark(pool: pool) : nil
            if let triad, gens.isEmpty, !json { writeOut(String(format: "| memory | STREAM triad | | | %d | bandwidth | %.1f GB/s |\n", t, triad.measure())) }
            for test in tests {
                Profiler.reset()
                let soloBefore = pool.soloPeriods
                var triads: [Double] = []
                let measureTriad: (() -> Void)? = triad.flatMap { triad in
                    if case .generation = test { return { triads.append(triad.measure(repetitions: 3)) } } else { return nil }
                }
                var r = try Benchmark.run(loaded, test: test, threads: t, repetitions: repetitions, beforeEachRun: measureTriad)
                r.soloPeriods = pool.soloPeriods - soloBefore
                if !triads.isEmpty {
                    let bytes = Double(Benchmark.weightBytesPerToken(loaded))
                    r.bandwidthGBps = Self.median(triads)
                    r.boundTokensPerSecond = r.bandwidthGBps! * 1e9 / bytes
                    r.fractionOfBound = Self.median(zip(r.samples, triads).map { $0 * bytes / ($1 * 1e9) })
                    if !json {
                        writeOut(String(format: "| memory | STREAM triad | | | %d | bandwidth | %.1f GB/s (median; one before each run) |\n", t, r.bandwidthGBps!))
                    }
                }
                if Profiler.enabled { writeErr("profile of \(r.test), \(t) threads (AIGC_PROFILE):\n" + Profiler.report()) }
                results.append(r)
                if !json {
                    writeOut(String(format: "| %@ | %.2f MiB | %.2f M | %@ | %d | %@ | %.2f ± %.2f |", r.model, Double(r.sizeBytes) / 1048576,
                                    Double(r.parameters) / 1e6, r.quantization, r.threads, r.test, r.tokensPerSecond, r.stddev)
                             + (r.fractionOfBound.map { String(format: " %.0f%% of the bound (%.0f t/s at the median bandwidth; median of runs)", $0 * 100, r.boundTokensPerSecond!) } ?? "")
                             + (r.soloPeriods.map { $0 > 0 ? " (pool went solo \($0)x: another process held a core)" : "" } ?? "") + "\n")
                }
            }
        }
        if json { writeOut(try jsonLine(results) + "\n") }
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// GB/s of weights for a matrix that stays in L2 (1536×576) and for 49152×576 matrices streamed
    /// from memory (copies of it holding 128 MiB in all, four times this machine's L3).
    func runKernels() throws {
        var results: [KernelThroughput] = []
        if !json { writeOut("| type | threads | matrix | MB | GB/s |\n|---|---|---|---|---|\n") }
        for t in try Self.list(threads, "--threads") {
            let pool = ComputePool(threads: t)
            for type in [DType.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K, .f16, .bf16, .f32] {
                for (rows, columns) in [(1536, 576), (49152, 576)] {
                    let columns = type.blockElements == 256 ? 1536 : columns
                    let r = try Benchmark.kernelThroughput(type: type, rows: rows, columns: columns, pool: pool,
                                                           streamedBytes: rows > 1536 ? 128 << 20 : 0)
                    results.append(r)
                    if !json { writeOut(String(format: "| %@ | %d | %dx%d | %.1f | %.2f |\n", r.type, t, rows, columns, r.megabytes, r.gigabytesPerSecond)) }
                }
            }
        }
        if json { writeOut(try jsonLine(results) + "\n") }
    }

    /// Conv2d GFLOPS per shape and thread count, next to one sgemm of the same shape.
    func runConvolution() throws {
        var results: [ConvolutionThroughput] = []
        if !json {
            writeOut("| conv2d | threads | GEMM M x N x K | median ms | GFLOPS median (best) | sgemm GFLOPS median (best) |\n|---|---|---|---|---|---|\n")
        }
        for t in try Self.list(threads, "--threads") {
            for r in try ConvolutionBenchmark.run(threads: t, repetitions: repetitions * 2) {
                results.append(r)
                if !json {
                    writeOut(String(format: "| %@ | %d | %d x %d x %d | %.2f | %.1f (%.1f) | %.1f (%.1f) |\n", r.shape, r.threads, r.m, r.n, r.k,
                                    r.milliseconds, r.gigaflops, r.bestGigaflops, r.sgemmGigaflops, r.sgemmBestGigaflops))
                }
            }
        }
        if json { writeOut(try jsonLine(results) + "\n") }
    }

    /// Seconds per SD 1.5 U-Net evaluation (batch 2) and VAE decode, per size and thread count.
    func runDiffusion() throws {
        var results: [DiffusionTiming] = []
        if !json { writeOut("| model | size | batch | threads | median s | best s | TFLOP | GFLOPS (best) | build s |\n|---|---|---|---|---|---|---|---|---|\n") }
        for t in try Self.list(threads, "--threads") {
            for side in try Self.list(size, "--size") {
                var runs: [() throws -> DiffusionTiming] = []
                if unet { runs.append { try DiffusionBenchmark.unet(size: side, threads: t, repetitions: repetitions) } }
                if vae { runs.append { try DiffusionBenchmark.vaeDecode(size: side, threads: t, repetitions: repetitions) } }
                for run in runs {
                    let r = try run()
                    results.append(r)
                    if Profiler.enabled { writeErr("profile of \(r.model) \(r.size) on \(t) threads (AIGC_PROFILE, all timed runs):\n" + Profiler.report() + "\n") }
                    if !json {
                        writeOut(String(format: "| %@ | %d | %d | %d | %.2f | %.2f | %.3f | %.1f | %.1f |\n", r.model, r.size, r.batch, r.threads, r.seconds,
                                        r.bestSeconds, r.teraflops, r.teraflops * 1e3 / r.bestSeconds, r.buildSeconds))
                    }
                }
            }
        }
        if json { writeOut(try jsonLine(results) + "\n") }
    }
}
