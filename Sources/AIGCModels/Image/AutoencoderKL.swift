// AutoencoderKL of Stable Diffusion: the decoder from latents to RGB (post_quant_conv, conv_in, mid
// block of resnet + pixel attention + resnet, UpDecoderBlock2Ds of resnets and a nearest-x2 upsampler,
// GroupNorm + SiLU + conv_out) and the encoder for img2img (conv_in, DownEncoderBlock2Ds with a
// stride-2 downsampler padded at the bottom and right, mid block, GroupNorm + SiLU + conv_out to
// mean | log-variance, quant_conv). Written from diffusers autoencoders/autoencoder_kl.py and vae.py @
// huggingface/diffusers 58eb52c080. Latents are scaled by `scalingFactor` outside (the pipeline).
import AIGCKernels
import AIGCLayers
import AIGCTensor
import Foundation

/// diffusers' `vae/config.json`.
public struct AutoencoderKLConfiguration: Codable, Sendable, Equatable {
    public var inChannels = 3
    public var outChannels = 3
    public var latentChannels = 4
    /// Channels per level, encoder order (SD: 128, 256, 512, 512; the decoder runs them reversed).
    public var blockOutChannels = [128, 256, 512, 512]
    /// Resnets per encoder block (decoder blocks have one more).
    public var layersPerBlock = 2
    public var normNumGroups = 32
    /// Image height and width the model was trained at.
    public var sampleSize = 512
    /// Latents are multiplied by this after encoding and divided by it before decoding (SD 1.x: 0.18215).
    public var scalingFactor: Float = 0.18215
    /// Subtracted before the scaling when present (SD3/Flux VAEs; nil for SD 1.x/2.x).
    public var shiftFactor: Float?
    public var useQuantConv = true
    public var usePostQuantConv = true
    public var midBlockAddAttention = true

    enum CodingKeys: String, CodingKey {
        case inChannels = "in_channels", outChannels = "out_channels", latentChannels = "latent_channels"
        case blockOutChannels = "block_out_channels", layersPerBlock = "layers_per_block", normNumGroups = "norm_num_groups"
        case sampleSize = "sample_size", scalingFactor = "scaling_factor", shiftFactor = "shift_factor"
        case useQuantConv = "use_quant_conv", usePostQuantConv = "use_post_quant_conv", midBlockAddAttention = "mid_block_add_attention"
        case downBlockTypes = "down_block_types", upBlockTypes = "up_block_types", actFn = "act_fn"
    }

    /// SD 1.x/2.x's configuration.
    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        inChannels = try c.decodeIfPresent(Int.self, forKey: .inChannels) ?? 3
        outChannels = try c.decodeIfPresent(Int.self, forKey: .outChannels) ?? 3
        latentChannels = try c.decodeIfPresent(Int.self, forKey: .latentChannels) ?? 4
        blockOutChannels = try c.decodeIfPresent([Int].self, forKey: .blockOutChannels) ?? blockOutChannels
        layersPerBlock = try c.decodeIfPresent(Int.self, forKey: .layersPerBlock) ?? 2
        normNumGroups = try c.decodeIfPresent(Int.self, forKey: .normNumGroups) ?? 32
        sampleSize = (try? c.decodeIfPresent(Int.self, forKey: .sampleSize)) ?? 512
        scalingFactor = try c.decodeIfPresent(Float.self, forKey: .scalingFactor) ?? 0.18215
        shiftFactor = try c.decodeIfPresent(Float.self, forKey: .shiftFactor)
        useQuantConv = try c.decodeIfPresent(Bool.self, forKey: .useQuantConv) ?? true
        usePostQuantConv = try c.decodeIfPresent(Bool.self, forKey: .usePostQuantConv) ?? true
        midBlockAddAttention = try c.decodeIfPresent(Bool.self, forKey: .midBlockAddAttention) ?? true
        var problems: [String] = []
        if let v = try c.decodeIfPresent(String.self, forKey: .actFn), v != "silu", v != "swish" { problems.append("act_fn \(v)") }
        for t in try c.decodeIfPresent([String].self, forKey: .downBlockTypes) ?? [] where t != "DownEncoderBlock2D" { problems.append("down block \(t)") }
        for t in try c.decodeIfPresent([String].self, forKey: .upBlockTypes) ?? [] where t != "UpDecoderBlock2D" { problems.append("up block \(t)") }
        if !problems.isEmpty { throw ModelError.invalidConfiguration("AutoencoderKL options not supported: \(problems.joined(separator: ", "))") }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(inChannels, forKey: .inChannels)
        try c.encode(outChannels, forKey: .outChannels)
        try c.encode(latentChannels, forKey: .latentChannels)
        try c.encode(blockOutChannels, forKey: .blockOutChannels)
        try c.encode(layersPerBlock, forKey: .layersPerBlock)
        try c.encode(normNumGroups, forKey: .normNumGroups)
        try c.encode(sampleSize, forKey: .sampleSize)
        try c.encode(scalingFactor, forKey: .scalingFactor)
        try c.encodeIfPresent(shiftFactor, forKey: .shiftFactor)
        try c.encode(useQuantConv, forKey: .useQuantConv)
        try c.encode(usePostQuantConv, forKey: .usePostQuantConv)
        try c.encode(midBlockAddAttention, forKey: .midBlockAddAttention)
    }

    /// Image pixels per latent pixel along each axis (8 for SD).
    public var downscale: Int { 1 << (blockOutChannels.count - 1) }
}

/// The mid block shared by encoder and decoder: resnet, optional pixel attention, resnet.
struct VAEMidBlock: Sendable {
    let first: ResnetBlock2D
    let attention: AttentionBlock2D?
    let second: ResnetBlock2D

    init(_ w: any WeightSource, channels: Int, groups: Int, attention: Bool) throws {
        first = try DiffusersBlocks.resnet(w.scoped("resnets.0"), in: channels, out: channels, timeChannels: nil, groups: groups, eps: 1e-6)
        self.attention = attention ? try DiffusersBlocks.pixelAttention(w.scoped("attentions.0"), channels: channels, groups: groups) : nil
        second = try DiffusersBlocks.resnet(w.scoped("resnets.1"), in: channels, out: channels, timeChannels: nil, groups: groups, eps: 1e-6)
    }

    func forward(_ x: inout ImageTensor, workspace: Workspace, pool: ComputePool) {
        first.forward(&x, pool: pool)
        attention?.forward(&x, workspace: workspace, pool: pool)
        second.forward(&x, pool: pool)
    }
}

/// The encoder half (for img2img); nil in a VAE loaded without encoder weights.
struct VAEEncoder: Sendable {
    let convIn: Conv2d
    let blocks: [(resnets: [ResnetBlock2D], downsample: Downsample2D?)]
    let mid: VAEMidBlock
    let normOut: GroupNorm
    let convOut: Conv2d
    let quantConv: Conv2d?
}

/// The decoder half.
struct VAEDecoder: Sendable {
    let postQuantConv: Conv2d?
    let convIn: Conv2d
    let mid: VAEMidBlock
    let blocks: [(resnets: [ResnetBlock2D], upsample: Upsample2D?)]
    let normOut: GroupNorm
    let convOut: Conv2d
}

/// Stable Diffusion's VAE. One call at a time per instance (the layers share a workspace).
public final class AutoencoderKL: @unchecked Sendable {
    /// The configuration it was built from.
    public let config: AutoencoderKLConfiguration
    let encoder: VAEEncoder?
    let decoder: VAEDecoder
    let pool: ComputePool
    let workspace = Workspace()

    /// Builds the decoder, and the encoder when `weights` hold one (`encoder.conv_in.weight`), checking every shape.
    public init(configuration config: AutoencoderKLConfiguration, weights w: any WeightSource, pool: ComputePool = .shared) throws {
        let ch = config.blockOutChannels, groups = config.normNumGroups, latent = config.latentChannels, n = ch.count
        guard n >= 1, ch.allSatisfy({ $0 > 0 && $0 % groups == 0 }), config.layersPerBlock >= 1 else {
            throw ModelError.invalidConfiguration("vae: block_out_channels \(ch) must be positive multiples of norm_num_groups \(groups)")
        }
        self.config = config
        self.pool = pool
        let d = w.scoped("decoder")
        var channels = ch[n - 1]
        let upBlocks = try (0..<n).map { i -> (resnets: [ResnetBlock2D], upsample: Upsample2D?) in
            let b = d.scoped("up_blocks.\(i)"), out = ch[n - 1 - i]
            var resnets: [ResnetBlock2D] = []
            for j in 0...config.layersPerBlock {
                resnets.append(try DiffusersBlocks.resnet(b.scoped("resnets.\(j)"), in: channels, out: out, timeChannels: nil, groups: groups, eps: 1e-6))
                channels = out
            }
            return (resnets, i == n - 1 ? nil : try DiffusersBlocks.upsample(b.scoped("upsamplers.0"), channels: out))
        }
        decoder = VAEDecoder(
            postQuantConv: config.usePostQuantConv ? try DiffusersBlocks.conv(w, "post_quant_conv", in: latent, out: latent, kernel: 1) : nil,
            convIn: try DiffusersBlocks.conv(d, "conv_in", in: latent, out: ch[n - 1], kernel: 3),
            mid: try VAEMidBlock(d.scoped("mid_block"), channels: ch[n - 1], groups: groups, attention: config.midBlockAddAttention),
            blocks: upBlocks,
            normOut: try DiffusersBlocks.groupNorm(d, "conv_norm_out", channels: ch[0], groups: groups, eps: 1e-6),
            convOut: try DiffusersBlocks.conv(d, "conv_out", in: ch[0], out: config.outChannels, kernel: 3))
        encoder = w.contains("encoder.conv_in.weight") ? try AutoencoderKL.loadEncoder(config, w) : nil
    }

    static func loadEncoder(_ config: AutoencoderKLConfiguration, _ w: any WeightSource) throws -> VAEEncoder {
        let ch = config.blockOutChannels, groups = config.normNumGroups, latent = config.latentChannels, n = ch.count
        let e = w.scoped("encoder")
        var channels = ch[0]
        let blocks = try (0..<n).map { i -> (resnets: [ResnetBlock2D], downsample: Downsample2D?) in
            let b = e.scoped("down_blocks.\(i)")
            var resnets: [ResnetBlock2D] = []
            for j in 0..<config.layersPerBlock {
                resnets.append(try DiffusersBlocks.resnet(b.scoped("resnets.\(j)"), in: channels, out: ch[i], timeChannels: nil, groups: groups, eps: 1e-6))
                channels = ch[i]
            }
            return (resnets, i == n - 1 ? nil : try DiffusersBlocks.downsample(b.scoped("downsamplers.0"), channels: ch[i], padding: 0))
        }
        return VAEEncoder(
            convIn: try DiffusersBlocks.conv(e, "conv_in", in: config.inChannels, out: ch[0], kernel: 3),
            blocks: blocks,
            mid: try VAEMidBlock(e.scoped("mid_block"), channels: ch[n - 1], groups: groups, attention: config.midBlockAddAttention),
            normOut: try DiffusersBlocks.groupNorm(e, "conv_norm_out", channels: ch[n - 1], groups: groups, eps: 1e-6),
            convOut: try DiffusersBlocks.conv(e, "conv_out", in: ch[n - 1], out: 2 * latent, kernel: 3),
            quantConv: config.useQuantConv ? try DiffusersBlocks.conv(w, "quant_conv", in: 2 * latent, out: 2 * latent, kernel: 1) : nil)
    }

    /// Whether `encode` is available (the weights held an encoder).
    public var hasEncoder: Bool { encoder != nil }

    /// Latents [B, latentChannels, h, w] (already divided by the scaling factor) -> images
    /// [B, outChannels, h * downscale, w * downscale], nominally in [-1, 1].
    public func decode(_ latents: ImageTensor) -> ImageTensor {
        precondition(latents.channels == config.latentChannels, "the VAE decodes \(config.latentChannels) latent channels, got \(latents.channels)")
        let d = decoder
        var x = latents
        if let postQuantConv = d.postQuantConv { x = Profiler.measure("conv") { postQuantConv.forward(x, pool: pool) } }
        x = Profiler.measure("conv") { d.convIn.forward(x, pool: pool) }
        d.mid.forward(&x, workspace: workspace, pool: pool)
        for block in d.blocks {
            for resnet in block.resnets { resnet.forward(&x, pool: pool) }
            if let upsample = block.upsample { x = upsample.forward(x, pool: pool) }
        }
        Profiler.measure("groupnorm") { d.normOut.forward(&x, activation: .silu, pool: pool) }
        return Profiler.measure("conv") { d.convOut.forward(x, pool: pool) }
    }

    /// Images [B, inChannels, H, W] in [-1, 1] (H, W multiples of `downscale`) -> the latent
    /// posterior's mean and log-variance, each [B, latentChannels, H / downscale, W / downscale]
    /// (unscaled; the caller samples mean + exp(logvar / 2) * noise, or takes the mean, and scales).
    public func encode(_ images: ImageTensor) throws -> (mean: ImageTensor, logVariance: ImageTensor) {
        guard let e = encoder else {
            throw ModelError.invalidConfiguration("this VAE has no encoder weights (encoder.conv_in.weight); img2img needs them")
        }
        precondition(images.channels == config.inChannels, "the VAE encodes \(config.inChannels) channels, got \(images.channels)")
        precondition(images.height % config.downscale == 0 && images.width % config.downscale == 0,
                     "image height and width must be multiples of \(config.downscale)")
        var x = Profiler.measure("conv") { e.convIn.forward(images, pool: pool) }
        for block in e.blocks {
            for resnet in block.resnets { resnet.forward(&x, pool: pool) }
            if let downsample = block.downsample { x = downsample.forward(x, pool: pool) }
        }
        e.mid.forward(&x, workspace: workspace, pool: pool)
        Profiler.measure("groupnorm") { e.normOut.forward(&x, activation: .silu, pool: pool) }
        x = Profiler.measure("conv") { e.convOut.forward(x, pool: pool) }
        if let quantConv = e.quantConv { x = Profiler.measure("conv") { quantConv.forward(x, pool: pool) } }
        return AutoencoderKL.splitMoments(x, latentChannels: config.latentChannels)
    }

    /// [B, 2L, h, w] -> ([B, L, h, w], [B, L, h, w]) (torch.chunk(2, dim=1)).
    static func splitMoments(_ x: ImageTensor, latentChannels l: Int) -> (mean: ImageTensor, logVariance: ImageTensor) {
        let half = l * x.planeSize
        var mean: [Float] = [], logVariance: [Float] = []
        for n in 0..<x.batch {
            mean.append(contentsOf: x.values[(n * 2 * half)..<(n * 2 * half + half)])
            logVariance.append(contentsOf: x.values[(n * 2 * half + half)..<((n + 1) * 2 * half)])
        }
        return (ImageTensor(batch: x.batch, channels: l, height: x.height, width: x.width, values: mean),
                ImageTensor(batch: x.batch, channels: l, height: x.height, width: x.width, values: logVariance))
    }
}
