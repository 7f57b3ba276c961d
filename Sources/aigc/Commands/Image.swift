// aigc image: generate a grid of images with an image model and write it as a labelled PNG. Every
// architecture takes the same options; each rejects, by name, those it cannot use (the MNIST
// models are unconditional, so they refuse a prompt, guidance, a scheduler or an init image).
import AIGCGeneration
import AIGCImaging
import AIGCKernels
import AIGCSampling
import ArgumentParser
import Foundation

struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Generate images (Stable Diffusion, DCGAN, MNIST VAE, toy DDPM) into one PNG grid carrying the AIGC label.")

    @Option(name: [.short, .customLong("model")], help: "Image model: a diffusers folder or SD .safetensors checkpoint (Stable Diffusion), or a .pth checkpoint.") var model: String
    @Option(help: "Architecture: sd, dcgan, vae or ddpm (default: detected from the model).") var arch: String?
    @Option(name: .customShort("n"), help: "Number of images, tiled into a square-ish grid (1...\(ImageRequest.maxCount); default 1 for Stable Diffusion, 16 for the MNIST models).") var count: Int?
    @Option(help: "Random seed (same seed, same images). Default: random, printed at the end.") var seed: UInt64?
    @Option(help: "Denoising steps (Stable Diffusion: 20; the toy DDPM runs its schedule's 10; one-shot generators take none).") var steps: Int?
    @Flag(help: "Draw a visible \"AI生成 / AI-generated\" mark in the bottom-right corner.") var label = false
    @Option(name: [.short, .customLong("output")], help: "Output PNG path.") var output: String
    @Option(name: [.short, .customLong("threads")], help: "Threads to compute with (default: all CPUs this process may use).") var threads: Int?
    @Flag(help: "Print one JSON object describing the result.") var json = false

    // Text-to-image and image-to-image settings (Stable Diffusion checkpoints).
    @Option(help: "Sampler: ddpm, ddim, euler, euler-a, dpm++2m (default) or lcm.") var scheduler: String?
    @Option(help: "Classifier-free guidance scale (default 7.5; 1 or less turns it off).") var cfg: Float?
    @Option(help: "Negative prompt.") var negative: String?
    @Option(name: .customLong("init"), help: "Image to start from (image-to-image).") var initImage: String?
    @Option(help: "How far image-to-image departs from --init (0...1, default 0.8).") var strength: Float?
    @Option(help: "Width of the generated images.") var width: Int?
    @Option(help: "Height of the generated images.") var height: Int?
    @Flag(name: .customLong("enhance-prompt"), help: "Have a text model rewrite the prompt into a detailed one first (both are recorded in the PNG).") var enhancePrompt = false
    @Option(name: .customLong("enhance-model"), help: "Text model that rewrites the prompt (default: the default model).") var enhanceModel: String?
    @Argument(help: "Prompt (text-to-image models).") var prompt: String?

    /// The request the engine validates; options the architecture cannot use are rejected there.
    func request(seed: UInt64) -> ImageRequest {
        let latentDiffusion = arch?.lowercased() == "sd" || model.hasSuffix(".safetensors") || DiffusersFolder.looksLikeFolder(model)
        var r = ImageRequest(count: count ?? (latentDiffusion ? 1 : 16), seed: seed, steps: steps)
        r.prompt = prompt
        r.negativePrompt = negative
        r.guidanceScale = cfg
        r.scheduler = scheduler
        r.initImage = initImage
        r.strength = strength
        r.width = width
        r.height = height
        return r
    }

    func run() throws {
        var architecture: ImageArchitecture?
        if let arch {
            guard let parsed = ImageArchitecture(rawValue: arch.lowercased()) else {
                throw ImagingError.invalidRequest(option: "--arch", value: arch,
                                                  reason: "choose one of " + ImageArchitecture.allCases.map(\.rawValue).joined(separator: ", "))
            }
            architecture = parsed
        }
        if let threads {
            guard (1...256).contains(threads) else { throw ImagingError.invalidRequest(option: "--threads", value: String(threads), reason: "must be 1...256") }
            ComputePool.configureShared(threads: threads)
        }
        var job = ImageJob(modelPath: model, architecture: architecture, request: request(seed: seed ?? SeededRandom.randomSeed()),
                           outputPath: output, visibleLabel: label)
        try job.request.validateCommon()
        if enhancePrompt {
            guard let prompt, !prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw ImagingError.invalidRequest(option: "--enhance-prompt", value: "", reason: "give a PROMPT to rewrite")
            }
            let (path, installed) = try ModelStore().resolve(enhanceModel ?? ModelCatalog.defaultModel)
            let loaded = try ModelLoader.load(path: path, name: installed?.name)
            let enhanced = try PromptEnhancer(loaded, seed: job.request.seed).enhance(prompt)
            writeErr("enhanced prompt (\(loaded.info.name)): \(enhanced)")
            job.request.originalPrompt = prompt
            job.request.promptEnhancer = loaded.info.name
            job.request.prompt = enhanced
        }
        let bar = ProgressBar(label: "generating", unit: .steps)
        let result = try ImageGeneration.run(job) { p in
            bar.update(done: Int64(p.step), total: Int64(p.totalSteps), force: p.step == p.totalSteps)
        }
        let rate = Double(result.steps * result.count) / max(result.seconds, 1e-9)
        writeErr(String(format: "[%@] %d image(s), %d step(s) each, in %.2f s: %.2f steps/s, %.2f images/s", result.architecture, result.count,
                        result.steps, result.seconds, rate, Double(result.count) / max(result.seconds, 1e-9)))
        if json {
            writeOut(try jsonLine(result) + "\n")
        } else {
            writeOut("wrote \(result.output) (\(result.width)x\(result.height), \(result.count) \(result.architecture) image(s), seed \(result.seed), "
                     + "ProduceID \(result.produceID))\n")
        }
    }
}
