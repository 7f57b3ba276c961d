// UNet2DConditionModel of Stable Diffusion 1.x and 2.x: the noise (or v) predictor conditioned on a
// timestep and text-encoder states. Written from diffusers unets/unet_2d_condition.py and
// unet_2d_blocks.py @ huggingface/diffusers 58eb52c080: conv_in; down blocks (CrossAttnDownBlock2D:
// resnet + transformer per layer, DownBlock2D: resnets only; a stride-2 conv on all but the last);
// UNetMidBlock2DCrossAttn (resnet, transformer, resnet); up blocks (UpBlock2D, CrossAttnUpBlock2D) whose
// resnets each take the next skip connection concatenated on the channels; GroupNorm + SiLU + conv_out.
// Weights by diffusers names through a WeightSource; the configuration is diffusers' unet/config.json.
import AIGCKernels
import AIGCLayers
import AIGCTensor
import Foundation

/// diffusers' `unet/config.json` (the keys SD 1.x/2.x use; others must keep their defaults).
public struct UNet2DConfiguration: Codable, Sendable, Equatable {
    public var inChannels = 4
    public var outChannels = 4
    /// Channels of each resolution level (SD 1.x: 320, 640, 1280, 1280).
    public var blockOutChannels = [320, 640, 1280, 1280]
    /// Resnets per down block (up blocks have one more).
    public var layersPerBlock = [2, 2, 2, 2]
    /// Heads per level. diffusers reads `attention_head_dim` as the head count (SD 1.x: 8 everywhere,
    /// SD 2.x: 5, 10, 20, 20) unless `num_attention_heads` is given.
    public var attentionHeads = [8, 8, 8, 8]
    /// Channels of the text-encoder states (768 for SD 1.x, 1024 for SD 2.x).
    public var crossAttentionDim = 1280
    /// BasicTransformerBlocks per transformer, per level.
    public var transformerLayersPerBlock = [1, 1, 1, 1]
    public var downBlockTypes = ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"]
    public var upBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]
    public var normNumGroups = 32
    public var normEps: Float = 1e-5
    /// proj_in/proj_out are linear maps (SD 2.x) rather than 1x1 convolutions (SD 1.x).
    public var useLinearProjection = false
    /// Latent height and width the model was trained at (64 for 512x512 images).
    public var sampleSize = 64
    public var flipSinToCos = true
    public var freqShift: Float = 0

    enum CodingKeys: String, CodingKey {
        case inChannels = "in_channels", outChannels = "out_channels", blockOutChannels = "block_out_channels"
        case layersPerBlock = "layers_per_block", attentionHeadDim = "attention_head_dim", numAttentionHeads = "num_attention_heads"
        case crossAttentionDim = "cross_attention_dim", transformerLayersPerBlock = "transformer_layers_per_block"
        case downBlockTypes = "down_block_types", upBlockTypes = "up_block_types", midBlockType = "mid_block_type"
        case normNumGroups = "norm_num_groups", normEps = "norm_eps", useLinearProjection = "use_linear_projection"
        case sampleSize = "sample_size", flipSinToCos = "flip_sin_to_cos", freqShift = "freq_shift"
        case actFn = "act_fn", resnetTimeScaleShift = "resnet_time_scale_shift", centerInputSample = "center_input_sample"
        case classEmbedType = "class_embed_type", additionEmbedType = "addition_embed_type", timeCondProjDim = "time_cond_proj_dim"
        case onlyCrossAttention = "only_cross_attention", dualCrossAttention = "dual_cross_attention"
        case convInKernel = "conv_in_kernel", convOutKernel = "conv_out_kernel", midBlockScaleFactor = "mid_block_scale_factor"
        case downsamplePadding = "downsample_padding", encoderHidDim = "encoder_hid_dim", timeEmbeddingType = "time_embedding_type"
    }

    /// SD 1.x's configuration (runwayml/stable-diffusion-v1-5 unet/config.json).
    public static let stableDiffusion1 = UNet2DConfiguration(crossAttentionDim: 768)

    /// A configuration from its fields; the defaults are diffusers' except as noted.
    public init(blockOutChannels: [Int] = [320, 640, 1280, 1280], crossAttentionDim: Int = 1280) {
        self.blockOutChannels = blockOutChannels
        self.crossAttentionDim = crossAttentionDim
        let levels = blockOutChannels.count
        layersPerBlock = Array(repeating: 2, count: levels)
        attentionHeads = Array(repeating: 8, count: levels)
        transformerLayersPerBlock = Array(repeating: 1, count: levels)
        downBlockTypes = Array(repeating: "CrossAttnDownBlock2D", count: levels - 1) + ["DownBlock2D"]
        upBlockTypes = ["UpBlock2D"] + Array(repeating: "CrossAttnUpBlock2D", count: levels - 1)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func perLevel(_ key: CodingKeys, _ fallback: Int) throws -> [Int] {
            if let list = try? c.decode([Int].self, forKey: key) { return list }
            return Array(repeating: try c.decodeIfPresent(Int.self, forKey: key) ?? fallback, count: blockOutChannels.count)
        }
        inChannels = try c.decodeIfPresent(Int.self, forKey: .inChannels) ?? 4
        outChannels = try c.decodeIfPresent(Int.self, forKey: .outChannels) ?? 4
        blockOutChannels = try c.decodeIfPresent([Int].self, forKey: .blockOutChannels) ?? blockOutChannels
        layersPerBlock = try perLevel(.layersPerBlock, 2)
        attentionHeads = try c.contains(.numAttentionHeads) && !c.decodeNil(forKey: .numAttentionHeads)
            ? perLevel(.numAttentionHeads, 8) : perLevel(.attentionHeadDim, 8)
        crossAttentionDim = try c.decodeIfPresent(Int.self, forKey: .crossAttentionDim) ?? 1280
        transformerLayersPerBlock = try perLevel(.transformerLayersPerBlock, 1)
        downBlockTypes = try c.decodeIfPresent([String].self, forKey: .downBlockTypes) ?? downBlockTypes
        upBlockTypes = try c.decodeIfPresent([String].self, forKey: .upBlockTypes) ?? upBlockTypes
        normNumGroups = try c.decodeIfPresent(Int.self, forKey: .normNumGroups) ?? 32
        normEps = try c.decodeIfPresent(Float.self, forKey: .normEps) ?? 1e-5
        useLinearProjection = try c.decodeIfPresent(Bool.self, forKey: .useLinearProjection) ?? false
        sampleSize = try c.decodeIfPresent(Int.self, forKey: .sampleSize) ?? 64
        flipSinToCos = try c.decodeIfPresent(Bool.self, forKey: .flipSinToCos) ?? true
        freqShift = try c.decodeIfPresent(Float.self, forKey: .freqShift) ?? 0
        try Self.refuseUnsupported(c)
    }

    /// Options of UNet2DConditionModel that change the network in ways this port does not implement
    /// (SDXL's added embeddings, class conditioning, LCM's guidance embedding, ...): refused by name.
    static func refuseUnsupported(_ c: KeyedDecodingContainer<CodingKeys>) throws {
        func string(_ key: CodingKeys) -> String? { try? c.decodeIfPresent(String.self, forKey: key) }
        func int(_ key: CodingKeys) -> Int? { try? c.decodeIfPresent(Int.self, forKey: key) }
        func bool(_ key: CodingKeys) -> Bool? { try? c.decodeIfPresent(Bool.self, forKey: key) }
        var problems: [String] = []
        if let v = string(.actFn), v != "silu", v != "swish" { problems.append("act_fn \(v)") }
        if let v = string(.midBlockType), v != "UNetMidBlock2DCrossAttn" { problems.append("mid_block_type \(v)") }
        if let v = string(.resnetTimeScaleShift), v != "default" { problems.append("resnet_time_scale_shift \(v)") }
        if let v = string(.timeEmbeddingType), v != "positional" { problems.append("time_embedding_type \(v)") }
        for key in [CodingKeys.classEmbedType, .additionEmbedType] where string(key) != nil { problems.append("\(key.stringValue) \(string(key)!)") }
        for key in [CodingKeys.timeCondProjDim, .encoderHidDim] where int(key) != nil { problems.append("\(key.stringValue) \(int(key)!)") }
        for key in [CodingKeys.centerInputSample, .dualCrossAttention] where bool(key) == true { problems.append("\(key.stringValue) true") }
        if bool(.onlyCrossAttention) == true || (try? c.decodeIfPresent([Bool].self, forKey: .onlyCrossAttention))?.contains(true) == true {
            problems.append("only_cross_attention")
        }
        for key in [CodingKeys.convInKernel, .convOutKernel] where int(key).map({ $0 != 3 }) == true { problems.append("\(key.stringValue) \(int(key)!)") }
        if let v = int(.downsamplePadding), v != 1 { problems.append("downsample_padding \(v)") }
        if let v = try? c.decodeIfPresent(Double.self, forKey: .midBlockScaleFactor), v != 1 { problems.append("mid_block_scale_factor \(v)") }
        if !problems.isEmpty {
            throw ModelError.invalidConfiguration("UNet2DConditionModel options not supported: \(problems.joined(separator: ", "))")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(inChannels, forKey: .inChannels)
        try c.encode(outChannels, forKey: .outChannels)
        try c.encode(blockOutChannels, forKey: .blockOutChannels)
        try c.encode(layersPerBlock, forKey: .layersPerBlock)
        try c.encode(attentionHeads, forKey: .attentionHeadDim)
        try c.encode(crossAttentionDim, forKey: .crossAttentionDim)
        try c.encode(transformerLayersPerBlock, forKey: .transformerLayersPerBlock)
        try c.encode(downBlockTypes, forKey: .downBlockTypes)
        try c.encode(upBlockTypes, forKey: .upBlockTypes)
        try c.encode(normNumGroups, forKey: .normNumGroups)
        try c.encode(normEps, forKey: .normEps)
        try c.encode(useLinearProjection, forKey: .useLinearProjection)
        try c.encode(sampleSize, forKey: .sampleSize)
        try c.encode(flipSinToCos, forKey: .flipSinToCos)
        try c.encode(freqShift, forKey: .freqShift)
    }

    /// Checks the lists against each other and the block types against those implemented.
    public func validate() throws {
        let n = blockOutChannels.count
        func fail(_ m: String) -> ModelError { .invalidConfiguration("unet: " + m) }
        guard n >= 1, blockOutChannels.allSatisfy({ $0 > 0 && $0 % normNumGroups == 0 }) else {
            throw fail("block_out_channels \(blockOutChannels) must be positive multiples of norm_num_groups \(normNumGroups)")
        }
        for (name, list) in [("layers_per_block", layersPerBlock), ("attention heads", attentionHeads),
                             ("transformer_layers_per_block", transformerLayersPerBlock)] where list.count != n || list.contains(where: { $0 < 1 }) {
            throw fail("\(name) \(list) needs \(n) positive values, one per entry of block_out_channels")
        }
        guard downBlockTypes.count == n, upBlockTypes.count == n else { throw fail("down/up_block_types need \(n) entries each") }
        for t in downBlockTypes where t != "CrossAttnDownBlock2D" && t != "DownBlock2D" { throw fail("down block type \(t) is not supported") }
        for t in upBlockTypes where t != "CrossAttnUpBlock2D" && t != "UpBlock2D" { throw fail("up block type \(t) is not supported") }
        for (i, c) in blockOutChannels.enumerated() where c % attentionHeads[i] != 0 {
            throw fail("\(attentionHeads[i]) heads do not divide the \(c) channels of level \(i)")
        }
    }
}

/// Down block: resnets (each followed by a transformer in CrossAttnDownBlock2D), then a downsampler.
struct UNetDownBlock: Sendable {
    let resnets: [ResnetBlock2D]
    let attentions: [Transformer2D]
    let downsample: Downsample2D?
}

/// Up block: resnets over [x, skip] (each followed by a transformer in CrossAttnUpBlock2D), then an upsampler.
struct UNetUpBlock: Sendable {
    let resnets: [ResnetBlock2D]
    let attentions: [Transformer2D]
    let upsample: Upsample2D?
}

/// The U-Net. One forward at a time per instance (the layers share a workspace).
public final class UNet2DConditionModel: @unchecked Sendable {
    /// The configuration it was built from.
    public let config: UNet2DConfiguration
    let timeEmbedding: TimestepEmbedding
    let convIn: Conv2d
    let down: [UNetDownBlock]
    let mid: (ResnetBlock2D, Transformer2D, ResnetBlock2D)
    let up: [UNetUpBlock]
    let normOut: GroupNorm
    let convOut: Conv2d
    let pool: ComputePool
    let workspace = Workspace()

    /// Builds the network from `weights` (diffusers names; F16/BF16 converted to F32 once), checking every shape.
    public init(configuration config: UNet2DConfiguration, weights w: any WeightSource, pool: ComputePool = .shared) throws {
        try config.validate()
        self.config = config
        self.pool = pool
        let ch = config.blockOutChannels, groups = config.normNumGroups, eps = config.normEps, n = ch.count
        let timeChannels = 4 * ch[0]
        timeEmbedding = TimestepEmbedding(linear1: try DiffusersBlocks.linear(w, "time_embedding.linear_1", in: ch[0], out: timeChannels),
                                          linear2: try DiffusersBlocks.linear(w, "time_embedding.linear_2", in: timeChannels, out: timeChannels))
        convIn = try DiffusersBlocks.conv(w, "conv_in", in: config.inChannels, out: ch[0], kernel: 3)
        func transformer(_ scope: any WeightSource, _ level: Int, _ channels: Int) throws -> Transformer2D {
            try DiffusersBlocks.transformer(scope, channels: channels, heads: config.attentionHeads[level], contextChannels: config.crossAttentionDim,
                                            groups: groups, layers: config.transformerLayersPerBlock[level], linearProjection: config.useLinearProjection)
        }
        var skips = [ch[0]], channels = ch[0]
        down = try (0..<n).map { i in
            let b = w.scoped("down_blocks.\(i)"), attends = config.downBlockTypes[i] == "CrossAttnDownBlock2D"
            var resnets: [ResnetBlock2D] = [], attentions: [Transformer2D] = []
            for j in 0..<config.layersPerBlock[i] {
                resnets.append(try DiffusersBlocks.resnet(b.scoped("resnets.\(j)"), in: channels, out: ch[i], timeChannels: timeChannels,
                                                          groups: groups, eps: eps))
                channels = ch[i]
                if attends { attentions.append(try transformer(b.scoped("attentions.\(j)"), i, ch[i])) }
                skips.append(channels)
            }
            let downsample = i == n - 1 ? nil : try DiffusersBlocks.downsample(b.scoped("downsamplers.0"), channels: ch[i], padding: 1)
            if downsample != nil { skips.append(channels) }
            return UNetDownBlock(resnets: resnets, attentions: attentions, downsample: downsample)
        }
        let m = w.scoped("mid_block")
        mid = (try DiffusersBlocks.resnet(m.scoped("resnets.0"), in: ch[n - 1], out: ch[n - 1], timeChannels: timeChannels, groups: groups, eps: eps),
               try transformer(m.scoped("attentions.0"), n - 1, ch[n - 1]),
               try DiffusersBlocks.resnet(m.scoped("resnets.1"), in: ch[n - 1], out: ch[n - 1], timeChannels: timeChannels, groups: groups, eps: eps))
        up = try (0..<n).map { i in
            let level = n - 1 - i, b = w.scoped("up_blocks.\(i)"), attends = config.upBlockTypes[i] == "CrossAttnUpBlock2D"
            var resnets: [ResnetBlock2D] = [], attentions: [Transformer2D] = []
            for j in 0...config.layersPerBlock[level] {
                resnets.append(try DiffusersBlocks.resnet(b.scoped("resnets.\(j)"), in: channels + skips.removeLast(), out: ch[level],
                                                          timeChannels: timeChannels, groups: groups, eps: eps))
                channels = ch[level]
                if attends { attentions.append(try transformer(b.scoped("attentions.\(j)"), level, ch[level])) }
            }
            let upsample = i == n - 1 ? nil : try DiffusersBlocks.upsample(b.scoped("upsamplers.0"), channels: ch[level])
            return UNetUpBlock(resnets: resnets, attentions: attentions, upsample: upsample)
        }
        normOut = try DiffusersBlocks.groupNorm(w, "conv_norm_out", channels: ch[0], groups: groups, eps: eps)
        convOut = try DiffusersBlocks.conv(w, "conv_out", in: ch[0], out: config.outChannels, kernel: 3)
    }

    /// The factor latent height and width must be multiples of (2 per downsampler).
    public var sizeMultiple: Int { 1 << (config.blockOutChannels.count - 1) }

    /// Noise (or v) prediction for `sample` ([B, in, h, w]) at `timesteps` (one per image, or one for
    /// all), attending to `context` (B sequences of crossAttentionDim channels). Classifier-free
    /// guidance runs the conditional and unconditional halves as one batch of 2B: every weight is
    /// read once per step and the convolutions see twice the columns.
    public func forward(_ sample: ImageTensor, timesteps: [Float], context: ConditioningTokens) -> ImageTensor {
        let batch = sample.batch, ch = config.blockOutChannels
        precondition(sample.channels == config.inChannels, "the U-Net takes \(config.inChannels) latent channels, got \(sample.channels)")
        precondition(sample.height % sizeMultiple == 0 && sample.width % sizeMultiple == 0,
                     "latent height and width must be multiples of \(sizeMultiple), got \(sample.height)x\(sample.width)")
        precondition(timesteps.count == 1 || timesteps.count == batch, "one timestep, or one per image")
        precondition(context.batch == batch && context.channels == config.crossAttentionDim,
                     "the context must be [\(batch), tokens, \(config.crossAttentionDim)], got [\(context.batch), \(context.tokens), \(context.channels)]")
        let perImage = timesteps.count == batch ? timesteps : Array(repeating: timesteps[0], count: batch)
        var time = Profiler.measure("time") {
            timeEmbedding.forward(TimestepEmbedding.sinusoidal(perImage, dimension: ch[0], flipSinToCos: config.flipSinToCos,
                                                               frequencyShift: config.freqShift), batch: batch, pool: pool)
        }
        time.withUnsafeMutableBufferPointer { silu($0.baseAddress!, count: $0.count) }  // every resnet reads silu(emb)

        var x = Profiler.measure("conv") { convIn.forward(sample, pool: pool) }
        var skips = [x]
        for block in down {
            for (j, resnet) in block.resnets.enumerated() {
                resnet.forward(&x, activatedTime: time, pool: pool)
                if !block.attentions.isEmpty { block.attentions[j].forward(&x, context: context, workspace: workspace, pool: pool) }
                skips.append(x)
            }
            if let downsample = block.downsample {
                x = downsample.forward(x, pool: pool)
                skips.append(x)
            }
        }
        mid.0.forward(&x, activatedTime: time, pool: pool)
        mid.1.forward(&x, context: context, workspace: workspace, pool: pool)
        mid.2.forward(&x, activatedTime: time, pool: pool)
        for block in up {
            for (j, resnet) in block.resnets.enumerated() {
                x = Profiler.measure("concat") { ImageTensor.concatenatingChannels(x, skips.removeLast()) }
                resnet.forward(&x, activatedTime: time, pool: pool)
                if !block.attentions.isEmpty { block.attentions[j].forward(&x, context: context, workspace: workspace, pool: pool) }
            }
            if let upsample = block.upsample { x = upsample.forward(x, pool: pool) }
        }
        Profiler.measure("groupnorm") { normOut.forward(&x, activation: .silu, pool: pool) }
        return Profiler.measure("conv") { convOut.forward(x, pool: pool) }
    }
}
