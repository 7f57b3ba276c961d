// Stable Diffusion 1.x/2.x as diffusers' StableDiffusionPipeline and StableDiffusionImg2ImgPipeline
// run it: CLIP tokens -> text encoder states (negative prompt first, for classifier-free guidance)
// -> a scheduler loop over the U-Net in latent space -> the VAE decoder. Image-to-image encodes the
// init image with the VAE, noises it to the step its strength picks, and denoises from there.
// Images are generated one after another, each from its own noise stream (seed + k), so image k of
// a request is the same whatever the count; cond and uncond halves share one U-Net batch.
import AIGCFormats
import AIGCKernels
import AIGCLayers
import AIGCModels
import AIGCTokenizers
import Foundation

/// Text-to-image and image-to-image with a latent diffusion model.
public final class StableDiffusionPipeline: ImagePipeline, @unchecked Sendable {
    public let tokenizer: CLIPTokenizer
    public let textEncoder: CLIPTextModel
    public let unet: UNet2DConditionModel
    public let vae: AutoencoderKL
    /// The model's scheduler_config.json (the training noise schedule and prediction type).
    public let schedulerConfiguration: SchedulerConfiguration
    /// Where the model came from (for error messages).
    public let source: String
    public var architecture: ImageArchitecture { .sd }

    public static let defaultSteps = 20
    public static let defaultGuidance: Float = 7.5
    public static let defaultScheduler = SchedulerKind.dpmSolver2M
    public static let defaultStrength: Float = 0.8

    /// Seconds per phase of the last generation: "text_encode", "vae_encode", "denoise", "decode".
    public private(set) var lastTimings: [String: Double] = [:]

    public init(tokenizer: CLIPTokenizer, textEncoder: CLIPTextModel, unet: UNet2DConditionModel, vae: AutoencoderKL,
                schedulerConfiguration: SchedulerConfiguration, source: String) throws {
        guard textEncoder.config.hiddenSize == unet.config.crossAttentionDim else {
            throw ImagingError.architectureMismatch(path: source, requested: "sd", detected: nil,
                                                    reason: "the text encoder gives \(textEncoder.config.hiddenSize) channels but the U-Net attends to \(unet.config.crossAttentionDim)")
        }
        guard vae.config.latentChannels == unet.config.inChannels, unet.config.outChannels == unet.config.inChannels else {
            throw ImagingError.architectureMismatch(path: source, requested: "sd", detected: nil,
                                                    reason: "the VAE has \(vae.config.latentChannels) latent channels, the U-Net takes \(unet.config.inChannels) and gives \(unet.config.outChannels) (inpainting models are not supported)")
        }
        self.tokenizer = tokenizer
        self.textEncoder = textEncoder
        self.unet = unet
        self.vae = vae
        self.schedulerConfiguration = schedulerConfiguration
        self.source = source
    }

    /// Width and height when the request names none (the U-Net's training size in pixels).
    public var defaultSize: Int { unet.config.sampleSize * vae.config.downscale }
    /// Pixel sizes must be multiples of this (VAE downscale times U-Net downsampling).
    public var sizeMultiple: Int { vae.config.downscale * unet.sizeMultiple }

    /// The settings a request resolves to.
    struct Plan {
        var scheduler: SchedulerKind
        var steps: Int
        var guidance: Float
        var width: Int
        var height: Int
        var initImage: ImageTensor?
        var strength: Float
    }

    public func validate(_ request: ImageRequest) throws -> Int { try stepsPerImage(try plan(request)) }

    /// The steps each image takes under `plan` (image-to-image skips the first ones).
    func stepsPerImage(_ plan: Plan) throws -> Int {
        let scheduler = try plan.scheduler.make(configuration: schedulerConfiguration, steps: plan.steps, strength: Double(plan.strength), source: source)
        return scheduler.timesteps.count - (plan.initImage == nil ? 0 : scheduler.startIndex(strength: Double(plan.strength)))
    }

    func plan(_ request: ImageRequest) throws -> Plan {
        try request.validateCommon()
        let scheduler = try request.scheduler.map { try SchedulerKind(name: $0) } ?? Self.defaultScheduler
        let guidance = request.guidanceScale ?? (scheduler == .lcm ? 1 : Self.defaultGuidance)
        guard guidance.isFinite, (0...50).contains(guidance) else {
            throw ImagingError.invalidRequest(option: "--cfg", value: "\(guidance)", reason: "guidance must be 0...50 (1 or less turns classifier-free guidance off)")
        }
        if request.strength != nil && request.initImage == nil {
            throw ImagingError.invalidRequest(option: "--strength", value: "\(request.strength!)", reason: "strength applies to image-to-image; give --init IMAGE")
        }
        var initImage: ImageTensor?
        var width = request.width, height = request.height
        if let path = request.initImage {
            let image = try Self.readInitImage(path)
            if width == nil && height == nil { (width, height) = (image.width, image.height) }
            guard width == image.width && height == image.height else {
                throw ImagingError.invalidRequest(option: "--init", value: path,
                                                  reason: "the image is \(image.width)x\(image.height) but \(width ?? defaultSize)x\(height ?? defaultSize) was asked for; leave --width/--height out or resize the image")
            }
            initImage = image
            guard vae.hasEncoder else {
                throw ImagingError.unsupportedOption(option: "--init", architecture: "sd", reason: "this model's VAE has no encoder weights")
            }
        }
        let strength = request.strength ?? Self.defaultStrength
        guard strength > 0 && strength <= 1 else {
            throw ImagingError.invalidRequest(option: "--strength", value: "\(strength)", reason: "strength must be in (0, 1]")
        }
        let w = width ?? defaultSize, h = height ?? defaultSize
        for (option, value) in [("--width", w), ("--height", h)] {
            guard value >= sizeMultiple && value <= 2048 && value % sizeMultiple == 0 else {
                throw ImagingError.invalidRequest(option: option, value: "\(value)", reason: "must be a multiple of \(sizeMultiple) in \(sizeMultiple)...2048 for this model")
            }
        }
        return Plan(scheduler: scheduler, steps: request.steps ?? Self.defaultSteps, guidance: guidance, width: w, height: h,
                    initImage: initImage, strength: strength)
    }

    /// An 8-bit PNG as a [1, 3, H, W] tensor in [-1, 1] (gray is repeated, alpha dropped).
    static func readInitImage(_ path: String) throws -> ImageTensor {
        let png = try PNGReader.read(path: path)
        let (w, h, c) = (png.width, png.height, png.channels)
        var tensor = ImageTensor(batch: 1, channels: 3, height: h, width: w)
        for k in 0..<3 {
            let source = c >= 3 ? k : 0
            for i in 0..<(w * h) { tensor.values[k * w * h + i] = Float(png.pixels[i * c + source]) / 127.5 - 1 }
        }
        return tensor
    }

    /// Text encoder states for the negative and the positive prompt ([2, tokens, D]), or the
    /// positive alone when guidance is off.
    public func conditioning(prompt: String, negative: String, guided: Bool) throws -> ConditioningTokens {
        let length = textEncoder.config.maxPositions
        let ids = (guided ? [negative, prompt] : [prompt]).map { tokenizer.encodePadded($0, length: length) }
        let states = try Profiler.measure("text-encoder") { try textEncoder.encode(ids, skipLayers: 0) }
        return ConditioningTokens(batch: ids.count, tokens: length, channels: textEncoder.config.hiddenSize, values: states)
    }

    public func generate(_ request: ImageRequest, progress: (ImageProgress) -> Void) throws -> ImageTensor {
        let plan = try self.plan(request)
        let guided = plan.guidance > 1
        var timings: [String: Double] = ["denoise": 0, "decode": 0]
        defer { lastTimings = timings }
        var clock = Date()
        let context = try conditioning(prompt: request.prompt ?? "", negative: request.negativePrompt ?? "", guided: guided)
        timings["text_encode"] = Date().timeIntervalSince(clock)
        let latentShape = (channels: vae.config.latentChannels, height: plan.height / vae.config.downscale, width: plan.width / vae.config.downscale)
        var initLatents: (mean: ImageTensor, logVariance: ImageTensor)?
        if let image = plan.initImage {
            clock = Date()
            initLatents = try Profiler.measure("vae-encode") { try vae.encode(image) }
            timings["vae_encode"] = Date().timeIntervalSince(clock)
        }
        let stepsPerImage = try self.stepsPerImage(plan)
        var images = ImageTensor(batch: request.count, channels: vae.config.outChannels, height: plan.height, width: plan.width)
        for k in 0..<request.count {
            var random = NormalRandom(seed: request.seed &+ UInt64(k))
            var scheduler = try plan.scheduler.make(configuration: schedulerConfiguration, steps: plan.steps, strength: Double(plan.strength), source: source)
            let count = latentShape.channels * latentShape.height * latentShape.width
            var latents: [Float]
            var start = 0
            if let initLatents {
                // diffusers samples the posterior (mean + std * noise), scales it, then noises it to the start step.
                let posterior = random.values(count)
                let scaling = vae.config.scalingFactor
                var clean = [Float](repeating: 0, count: count)
                for i in 0..<count {
                    let std: Float = Foundation.exp(0.5 * initLatents.logVariance.values[i])
                    clean[i] = (initLatents.mean.values[i] + std * posterior[i]) * scaling
                }
                start = scheduler.startIndex(strength: Double(plan.strength))
                latents = scheduler.addNoise(clean, noise: random.values(count), stepIndex: start)
            } else {
                let sigma = scheduler.initNoiseSigma
                latents = random.values(count).map { $0 * sigma }
            }
            clock = Date()
            latents = try denoise(latents, shape: latentShape, context: context, guidance: plan.guidance, scheduler: &scheduler, from: start,
                                  random: &random) { i in
                progress(ImageProgress(step: k * stepsPerImage + i, totalSteps: request.count * stepsPerImage))
            }
            timings["denoise", default: 0] += Date().timeIntervalSince(clock)
            clock = Date()
            let decoded = decode(latents, shape: latentShape)
            timings["decode", default: 0] += Date().timeIntervalSince(clock)
            let size = images.imageSize
            for i in 0..<size { images.values[k * size + i] = min(max((decoded.values[i] + 1) * 0.5, 0), 1) }
        }
        return images
    }

    /// The scheduler loop from step `start`: `progress(n)` after the n-th step taken.
    func denoise(_ initial: [Float], shape: (channels: Int, height: Int, width: Int), context: ConditioningTokens, guidance: Float,
                 scheduler: inout any DiffusionScheduler, from start: Int, random: inout NormalRandom, progress: (Int) -> Void) throws -> [Float] {
        var latents = initial
        let guided = context.batch == 2, count = latents.count
        for i in start..<scheduler.timesteps.count {
            let input = scheduler.scaleModelInput(latents, stepIndex: i)
            let batch = ImageTensor(batch: context.batch, channels: shape.channels, height: shape.height, width: shape.width,
                                    values: guided ? input + input : input)
            let output = Profiler.measure("unet") { unet.forward(batch, timesteps: [scheduler.timesteps[i]], context: context) }
            var prediction: [Float]
            if guided {
                // noise_uncond + guidance * (noise_text - noise_uncond)
                prediction = [Float](repeating: 0, count: count)
                output.values.withUnsafeBufferPointer { o in
                    for j in 0..<count { prediction[j] = o[j] + guidance * (o[count + j] - o[j]) }
                }
            } else {
                prediction = output.values
            }
            latents = scheduler.step(modelOutput: prediction, sample: latents, stepIndex: i, random: &random)
            progress(i - start + 1)
        }
        return latents
    }

    /// Latents (scaled as the U-Net sees them) -> images in about [-1, 1].
    func decode(_ latents: [Float], shape: (channels: Int, height: Int, width: Int)) -> ImageTensor {
        let scale = 1 / vae.config.scalingFactor, shift = vae.config.shiftFactor ?? 0
        let unscaled = ImageTensor(batch: 1, channels: shape.channels, height: shape.height, width: shape.width,
                                   values: latents.map { $0 * scale + shift })
        return Profiler.measure("vae-decode") { vae.decode(unscaled) }
    }
}
