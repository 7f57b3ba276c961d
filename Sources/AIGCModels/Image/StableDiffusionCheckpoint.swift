// Single-file Stable Diffusion 1.x checkpoints (the CompVis/LDM layout of `v1-5-pruned-emaonly.safetensors`):
// splits the tensors into UNet, VAE and CLIP text encoder and serves each under the diffusers names that
// UNet2DConditionModel, AutoencoderKL and CLIPTextModel use. The renaming rules are those of
// convert_ldm_unet_checkpoint / convert_ldm_vae_checkpoint / convert_ldm_clip_checkpoint in
// https://github.com/huggingface/diffusers/blob/58eb52c0803ea9af3abec60841c2a093bdf1f951/src/diffusers/loaders/single_file_utils.py,
// written as a parser so that a name outside the layout is an error naming the tensor instead of a silent drop.
import AIGCTensor

/// The three models a Stable Diffusion checkpoint holds; the raw values are diffusers' folder names.
public enum StableDiffusionComponent: String, CaseIterable, Sendable {
    case unet
    case vae
    case textEncoder = "text_encoder"

    /// The prefix of this component's tensors in a single-file LDM checkpoint.
    public var checkpointPrefix: String {
        switch self {
        case .unet: return "model.diffusion_model."
        case .vae: return "first_stage_model."
        case .textEncoder: return "cond_stage_model.transformer."
        }
    }
}

/// The block layout that decides how LDM's flat `input_blocks.N` / `up.N` indices become diffusers'
/// `down_blocks.level.resnets.j`, plus the UNet widths read from the tensor shapes.
public struct StableDiffusionLayout: Sendable, Equatable {
    /// UNet `conv_in` input channels: 4, or 9 for the inpainting UNet (latent + mask + masked latent).
    public var unetInChannels: Int
    /// UNet width per level (`block_out_channels`); its count is the number of levels.
    public var unetBlockChannels: [Int]
    public var unetLayersPerBlock: Int
    /// Whether each down level has cross-attention transformers (SD 1.x: all but the deepest).
    public var unetAttentionLevels: [Bool]
    /// Width of the text embeddings the cross-attention reads (768 for CLIP ViT-L/14).
    public var crossAttentionDim: Int
    /// VAE width per level, encoder order (`block_out_channels`; SD: 128, 256, 512, 512); its count is the number of levels.
    public var vaeBlockChannels: [Int]
    public var vaeLayersPerBlock: Int
    /// The CLIP text encoder (SD 1.x: ViT-L/14). Its sizes are read from its tensors; the head count is the
    /// one number no tensor records, so inference takes CLIP's 64-wide heads (768 / 64 = 12) and leaves
    /// `heads` 0, unknown, for a width that is not a multiple of 64: such a checkpoint needs it given.
    public var textEncoder: CLIPTextConfiguration

    public init(unetInChannels: Int = 4, unetBlockChannels: [Int] = [320, 640, 1280, 1280], unetLayersPerBlock: Int = 2,
                unetAttentionLevels: [Bool] = [true, true, true, false], crossAttentionDim: Int = 768,
                vaeBlockChannels: [Int] = [128, 256, 512, 512], vaeLayersPerBlock: Int = 2,
                textEncoder: CLIPTextConfiguration = CLIPTextConfiguration()) {
        precondition(unetAttentionLevels.count == unetBlockChannels.count, "one attention flag per UNet level")
        self.unetInChannels = unetInChannels
        self.unetBlockChannels = unetBlockChannels
        self.unetLayersPerBlock = unetLayersPerBlock
        self.unetAttentionLevels = unetAttentionLevels
        self.crossAttentionDim = crossAttentionDim
        self.vaeBlockChannels = vaeBlockChannels
        self.vaeLayersPerBlock = vaeLayersPerBlock
        self.textEncoder = textEncoder
    }

    /// Stable Diffusion 1.x (v1-inference.yaml).
    public static let sd1 = StableDiffusionLayout()

    public var unetLevels: Int { unetBlockChannels.count }
    public var vaeLevels: Int { vaeBlockChannels.count }

    /// Reads the layout from the checkpoint's tensor shapes: LDM numbers its UNet input blocks
    /// 1, 2, ... with a downsampler (`.0.op`) closing every level but the last, so the blocks before
    /// the first downsampler are the layers per block, and the downsamplers count the levels.
    public init(inferringFrom shapes: [String: [Int]], source: String = "checkpoint") throws {
        let unet = StableDiffusionComponent.unet.checkpointPrefix + "input_blocks."
        guard let convIn = shapes[unet + "0.0.weight"], convIn.count == 4 else {
            throw ModelError.unrecognizedTensor(name: unet + "0.0.weight", source: source,
                                                reason: "is missing or not a convolution; this is not a Stable Diffusion 1.x checkpoint")
        }
        var channels: [Int] = [], attention: [Bool] = [], layersPerBlock: Int?, index = 1, inLevel = 0
        while true {
            let block = unet + "\(index)."
            if shapes[block + "0.op.weight"] != nil {
                if layersPerBlock == nil { layersPerBlock = inLevel }
                guard inLevel == layersPerBlock else {
                    throw ModelError.unrecognizedTensor(name: block + "0.op.weight", source: source,
                                                        reason: "closes UNet level \(channels.count) after \(inLevel) res blocks, but level 0 has \(layersPerBlock!)")
                }
                inLevel = 0
            } else if let conv = shapes[block + "0.out_layers.3.weight"] {
                if inLevel == 0 {
                    channels.append(conv[0])
                    attention.append(shapes[block + "1.proj_in.weight"] != nil)
                }
                inLevel += 1
            } else {
                break
            }
            index += 1
        }
        guard !channels.isEmpty else {
            throw ModelError.unrecognizedTensor(name: unet + "1.0.out_layers.3.weight", source: source, reason: "is missing: the UNet has no res blocks")
        }
        let crossKey = shapes.first { $0.key.hasPrefix(StableDiffusionComponent.unet.checkpointPrefix) && $0.key.hasSuffix(".attn2.to_k.weight") }
        let vaeDown = StableDiffusionComponent.vae.checkpointPrefix + "encoder.down."
        let vaeLevels = (0...).first { level in !shapes.keys.contains { $0.hasPrefix(vaeDown + "\(level).") } }!
        let vaeBlocks = (0...).first { block in !shapes.keys.contains { $0.hasPrefix(vaeDown + "0.block.\(block).") } }!
        // Each encoder level opens with a res block whose conv1 widens to the level's channels.
        let vaeChannels = try (0..<vaeLevels).map { level in
            let name = vaeDown + "\(level).block.0.conv1.weight"
            guard let shape = shapes[name], shape.count == 4 else {
                throw ModelError.unrecognizedTensor(name: name, source: source, reason: "is missing or not a convolution: VAE level \(level) has no first res block")
            }
            return shape[0]
        }
        let crossAttentionDim = crossKey?.value.last ?? 768
        self.init(unetInChannels: convIn[1], unetBlockChannels: channels, unetLayersPerBlock: layersPerBlock ?? inLevel,
                  unetAttentionLevels: attention, crossAttentionDim: crossAttentionDim,
                  vaeBlockChannels: vaeChannels, vaeLayersPerBlock: vaeBlocks,
                  textEncoder: Self.textEncoder(inferringFrom: shapes, crossAttentionDim: crossAttentionDim))
    }

    /// CLIP's sizes from its tensors: width and vocabulary from the token embedding, positions from the
    /// position embedding, layers by count, MLP width from fc1; SD 1.x's value for any tensor that is absent.
    static func textEncoder(inferringFrom shapes: [String: [Int]], crossAttentionDim: Int) -> CLIPTextConfiguration {
        let clip = StableDiffusionComponent.textEncoder.checkpointPrefix + "text_model."
        var config = CLIPTextConfiguration()
        if let token = shapes[clip + "embeddings.token_embedding.weight"], token.count == 2 {
            config.vocabularySize = token[0]
            config.hiddenSize = token[1]
        } else {
            config.hiddenSize = crossAttentionDim
        }
        if let positions = shapes[clip + "embeddings.position_embedding.weight"], positions.count == 2 { config.maxPositions = positions[0] }
        if let fc1 = shapes[clip + "encoder.layers.0.mlp.fc1.weight"], fc1.count == 2 { config.intermediateSize = fc1[0] }
        let layers = (0...).first { i in !shapes.keys.contains { $0.hasPrefix(clip + "encoder.layers.\(i).") } }!
        if layers > 0 { config.layers = layers }
        config.heads = config.hiddenSize > 0 && config.hiddenSize.isMultiple(of: 64) ? config.hiddenSize / 64 : 0
        return config
    }
}

/// Where each tensor of a single-file checkpoint goes.
public struct StableDiffusionCheckpointMap: Sendable {
    /// One renamed tensor.
    public struct Entry: Sendable, Equatable {
        public let component: StableDiffusionComponent
        /// The diffusers name, relative to the component (`down_blocks.0.resnets.0.conv1.weight`).
        public let name: String
        /// The name in the single-file checkpoint.
        public let checkpointName: String
        /// LDM's VAE attention stores q/k/v/proj_out as 1x1 convolutions [C, C, 1, 1]; diffusers'
        /// Attention uses linear [C, C] weights, the same bytes without the trailing unit dimensions.
        public let dropsUnitSpatialDimensions: Bool
    }

    public let layout: StableDiffusionLayout
    public let entries: [Entry]
    /// Checkpoint tensors no model reads: the DDPM schedule buffers, CLIP's position ids, EMA copies.
    public let ignored: [String]

    /// Maps every name or throws `ModelError.unrecognizedTensor` naming the first it cannot place.
    public init(tensorNames: [String], layout: StableDiffusionLayout = .sd1, source: String = "checkpoint") throws {
        var entries: [Entry] = [], ignored: [String] = [], seen: [String: String] = [:]
        for name in tensorNames.sorted() {
            guard let entry = try StableDiffusionCheckpointMap.entry(for: name, layout: layout, source: source) else {
                ignored.append(name)
                continue
            }
            let key = entry.component.rawValue + "/" + entry.name
            if let earlier = seen[key] {
                throw ModelError.unrecognizedTensor(name: name, source: source, reason: "maps to \(key), as '\(earlier)' does too")
            }
            seen[key] = name
            entries.append(entry)
        }
        self.layout = layout
        self.entries = entries
        self.ignored = ignored
    }

    public func entries(for component: StableDiffusionComponent) -> [Entry] { entries.filter { $0.component == component } }

    static let ignoredNames: Set<String> = [
        "betas", "alphas_cumprod", "alphas_cumprod_prev", "sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod",
        "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod", "sqrt_recipm1_alphas_cumprod", "posterior_variance",
        "posterior_log_variance_clipped", "posterior_mean_coef1", "posterior_mean_coef2",
        "cond_stage_model.transformer.text_model.embeddings.position_ids",
    ]

    /// The diffusers place of one checkpoint tensor; nil for a tensor that no model reads.
    public static func entry(for name: String, layout: StableDiffusionLayout = .sd1, source: String = "checkpoint") throws -> Entry? {
        if ignoredNames.contains(name) || name.hasPrefix("model_ema.") { return nil }
        for component in StableDiffusionComponent.allCases where name.hasPrefix(component.checkpointPrefix) {
            let parts = name.dropFirst(component.checkpointPrefix.count).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            let mapped: (String, Bool)?
            switch component {
            case .unet: mapped = unetName(parts, layout).map { ($0, false) }
            case .vae: mapped = vaeName(parts, layout)
            case .textEncoder: mapped = clipName(parts).map { ($0, false) }
            }
            guard let found = mapped else { break }
            return Entry(component: component, name: found.0, checkpointName: name, dropsUnitSpatialDimensions: found.1)
        }
        throw ModelError.unrecognizedTensor(name: name, source: source,
                                            reason: "is not part of the Stable Diffusion 1.x layout (\(layout.unetLevels) UNet levels, \(layout.unetLayersPerBlock) layers per block)")
    }

    // MARK: UNet

    /// ResBlock's Sequential indices (GroupNorm, SiLU, conv; SiLU, Linear; GroupNorm, SiLU, Dropout, conv) -> diffusers.
    static let resnetNames = ["in_layers.0": "norm1", "in_layers.2": "conv1", "emb_layers.1": "time_emb_proj",
                              "out_layers.0": "norm2", "out_layers.3": "conv2"]

    static func unetName(_ p: [String], _ layout: StableDiffusionLayout) -> String? {
        let levels = layout.unetLevels, perLevel = layout.unetLayersPerBlock + 1
        switch (p.first ?? "", p.count) {
        case ("time_embed", 3) where p[1] == "0" || p[1] == "2":
            return param(p[2]).map { "time_embedding.linear_\(p[1] == "0" ? 1 : 2).\($0)" }
        case ("out", 3) where p[1] == "0" || p[1] == "2":
            return param(p[2]).map { "\(p[1] == "0" ? "conv_norm_out" : "conv_out").\($0)" }
        case ("input_blocks", _):
            guard let i = index(p, 1) else { return nil }
            if i == 0 { return p.count == 4 && p[2] == "0" ? param(p[3]).map { "conv_in.\($0)" } : nil }
            let level = (i - 1) / perLevel, j = (i - 1) % perLevel
            guard level < levels else { return nil }
            let block = "down_blocks.\(level)"
            if j == layout.unetLayersPerBlock {
                guard level < levels - 1, p.count == 5, p[2] == "0", p[3] == "op" else { return nil }
                return param(p[4]).map { "\(block).downsamplers.0.conv.\($0)" }
            }
            if p.count > 2, p[2] == "0" { return unetResnet(p[3...], "\(block).resnets.\(j)") }
            if p.count > 2, p[2] == "1", layout.unetAttentionLevels[level] { return transformer(p[3...], "\(block).attentions.\(j)") }
            return nil
        case ("middle_block", _):
            guard let i = index(p, 1), p.count > 2 else { return nil }
            switch i {
            case 0, 2: return unetResnet(p[2...], "mid_block.resnets.\(i / 2)")
            case 1: return transformer(p[2...], "mid_block.attentions.0")
            default: return nil
            }
        case ("output_blocks", _):
            guard let i = index(p, 1), p.count > 2 else { return nil }
            let level = i / perLevel, j = i % perLevel
            guard level < levels else { return nil }
            let block = "up_blocks.\(level)"
            let attention = layout.unetAttentionLevels[levels - 1 - level]
            let upsamplerLayer = attention ? "2" : "1"
            if p[2] == "0" { return unetResnet(p[3...], "\(block).resnets.\(j)") }
            if p[2] == upsamplerLayer, j == layout.unetLayersPerBlock, level < levels - 1, p.count == 5, p[3] == "conv" {
                return param(p[4]).map { "\(block).upsamplers.0.conv.\($0)" }
            }
            if p[2] == "1", attention { return transformer(p[3...], "\(block).attentions.\(j)") }
            return nil
        default:
            return nil
        }
    }

    static func unetResnet(_ rest: ArraySlice<String>, _ prefix: String) -> String? {
        let r = Array(rest)
        if r.count == 3, let renamed = resnetNames["\(r[0]).\(r[1])"] { return param(r[2]).map { "\(prefix).\(renamed).\($0)" } }
        if r.count == 2, r[0] == "skip_connection" { return param(r[1]).map { "\(prefix).conv_shortcut.\($0)" } }
        return nil
    }

    /// A SpatialTransformer keeps its names in diffusers' Transformer2DModel; only the shape of the
    /// name is checked, so a stray tensor is reported instead of being carried along.
    static func transformer(_ rest: ArraySlice<String>, _ prefix: String) -> String? {
        let r = Array(rest)
        guard let last = r.last, param(last) != nil else { return nil }
        let body = r.dropLast().joined(separator: ".")
        if ["norm", "proj_in", "proj_out"].contains(body) { return "\(prefix).\(body).\(last)" }
        guard r.count >= 4, r[0] == "transformer_blocks", Int(r[1]) != nil else { return nil }
        let inner = r[2..<(r.count - 1)].joined(separator: ".")
        let known: Set<String> = ["attn1.to_q", "attn1.to_k", "attn1.to_v", "attn1.to_out.0", "attn2.to_q", "attn2.to_k",
                                  "attn2.to_v", "attn2.to_out.0", "ff.net.0.proj", "ff.net.2", "norm1", "norm2", "norm3"]
        return known.contains(inner) ? "\(prefix).\(body).\(last)" : nil
    }

    // MARK: VAE

    static func vaeName(_ p: [String], _ layout: StableDiffusionLayout) -> (String, Bool)? {
        guard let last = p.last, let parameter = param(last) else { return nil }
        if p.count == 2, p[0] == "quant_conv" || p[0] == "post_quant_conv" { return ("\(p[0]).\(parameter)", false) }
        guard p.count >= 3, p[0] == "encoder" || p[0] == "decoder" else { return nil }
        let coder = p[0], body = Array(p[1..<(p.count - 1)])
        switch (body.first ?? "", body.count) {
        case ("conv_in", 1), ("conv_out", 1): return ("\(coder).\(body[0]).\(parameter)", false)
        case ("norm_out", 1): return ("\(coder).conv_norm_out.\(parameter)", false)
        case ("mid", 3) where body[1] == "block_1" || body[1] == "block_2":
            return vaeResnet(body[2], parameter, "\(coder).mid_block.resnets.\(body[1] == "block_1" ? 0 : 1)")
        case ("mid", 3) where body[1] == "attn_1":
            let renamed = ["norm": "group_norm", "q": "to_q", "k": "to_k", "v": "to_v", "proj_out": "to_out.0"][body[2]]
            return renamed.map { ("\(coder).mid_block.attentions.0.\($0).\(parameter)", $0 != "group_norm" && parameter == "weight") }
        case ("down", 4...) where coder == "encoder", ("up", 4...) where coder == "decoder":
            guard let n = Int(body[1]), n >= 0, n < layout.vaeLevels else { return nil }
            // LDM's decoder numbers `up` by resolution (up.0 is the full-size level, run last);
            // diffusers numbers up_blocks in execution order.
            let encoder = coder == "encoder"
            let block = encoder ? "encoder.down_blocks.\(n)" : "decoder.up_blocks.\(layout.vaeLevels - 1 - n)"
            let resnets = layout.vaeLayersPerBlock + (encoder ? 0 : 1)
            if body.count == 5, body[2] == "block", let m = Int(body[3]), m >= 0, m < resnets {
                return vaeResnet(body[4], parameter, "\(block).resnets.\(m)")
            }
            let sampler = encoder ? "downsample" : "upsample"
            let hasSampler = encoder ? n < layout.vaeLevels - 1 : n > 0
            if body.count == 4, body[2] == sampler, body[3] == "conv", hasSampler {
                return ("\(block).\(sampler)rs.0.conv.\(parameter)", false)
            }
            return nil
        default:
            return nil
        }
    }

    static func vaeResnet(_ layer: String, _ parameter: String, _ prefix: String) -> (String, Bool)? {
        let renamed = ["norm1": "norm1", "conv1": "conv1", "norm2": "norm2", "conv2": "conv2", "nin_shortcut": "conv_shortcut"][layer]
        return renamed.map { ("\(prefix).\($0).\(parameter)", false) }
    }

    // MARK: CLIP text encoder

    /// transformers' CLIPTextModel names, kept as they are under `cond_stage_model.transformer.`.
    static func clipName(_ p: [String]) -> String? {
        guard p.count >= 3, p[0] == "text_model", let last = p.last, param(last) != nil else { return nil }
        let body = p[1..<(p.count - 1)].joined(separator: ".")
        let name = p.joined(separator: ".")
        if ["embeddings.token_embedding", "embeddings.position_embedding"].contains(body) { return last == "weight" ? name : nil }
        if body == "final_layer_norm" { return name }
        guard p.count == 6 || p.count == 7, p[1] == "encoder", p[2] == "layers", Int(p[3]) != nil else { return nil }
        let layer = p[4..<(p.count - 1)].joined(separator: ".")
        let known: Set<String> = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj",
                                  "layer_norm1", "layer_norm2", "mlp.fc1", "mlp.fc2"]
        return known.contains(layer) ? name : nil
    }

    // MARK: Helpers

    static func param(_ s: String) -> String? { s == "weight" || s == "bias" ? s : nil }
    static func index(_ p: [String], _ at: Int) -> Int? { p.count > at ? Int(p[at]).flatMap { $0 >= 0 ? $0 : nil } : nil }
}

/// One component of a single-file checkpoint, served under its diffusers names, so the UNet, VAE and
/// text encoder load from it exactly as from a diffusers folder. Tensors stay in the mapped file.
public struct StableDiffusionComponentWeights: WeightSource {
    public let component: StableDiffusionComponent
    let base: any WeightSource
    let entries: [String: StableDiffusionCheckpointMap.Entry]

    public init(base: any WeightSource, component: StableDiffusionComponent, map: StableDiffusionCheckpointMap) {
        self.base = base
        self.component = component
        self.entries = Dictionary(uniqueKeysWithValues: map.entries(for: component).map { ($0.name, $0) })
    }

    public var sourceName: String { "\(base.sourceName) (\(component.rawValue))" }
    public var tensorNames: [String] { entries.keys.sorted() }

    public func tensorIfPresent(_ name: String) -> Tensor? {
        guard let entry = entries[name], let tensor = base.tensorIfPresent(entry.checkpointName) else { return nil }
        guard entry.dropsUnitSpatialDimensions, tensor.shape.count > 2, tensor.shape.dropFirst(2).allSatisfy({ $0 == 1 }) else { return tensor }
        return Tensor(name: tensor.name, dtype: tensor.dtype, shape: Array(tensor.shape.prefix(2)), storage: tensor.storage, offset: tensor.offset)
    }
}

/// A single-file Stable Diffusion 1.x checkpoint opened as three diffusers-named weight sources.
public struct StableDiffusionCheckpoint: Sendable {
    public let layout: StableDiffusionLayout
    public let map: StableDiffusionCheckpointMap
    public let unet: StableDiffusionComponentWeights
    public let vae: StableDiffusionComponentWeights
    public let textEncoder: StableDiffusionComponentWeights

    /// Whether `names` look like a single-file SD checkpoint (for architecture detection).
    public static func matches(tensorNames names: [String]) -> Bool {
        names.contains(StableDiffusionComponent.unet.checkpointPrefix + "input_blocks.0.0.weight")
            && names.contains { $0.hasPrefix(StableDiffusionComponent.vae.checkpointPrefix) }
    }

    /// Infers the layout from the shapes unless one is given, and maps every tensor.
    public init(weights: any WeightSource, layout: StableDiffusionLayout? = nil) throws {
        let names = weights.tensorNames
        let resolved = try layout ?? StableDiffusionLayout(
            inferringFrom: Dictionary(uniqueKeysWithValues: names.compactMap { n in weights.tensorIfPresent(n).map { (n, $0.shape) } }),
            source: weights.sourceName)
        let map = try StableDiffusionCheckpointMap(tensorNames: names, layout: resolved, source: weights.sourceName)
        self.layout = resolved
        self.map = map
        unet = StableDiffusionComponentWeights(base: weights, component: .unet, map: map)
        vae = StableDiffusionComponentWeights(base: weights, component: .vae, map: map)
        textEncoder = StableDiffusionComponentWeights(base: weights, component: .textEncoder, map: map)
    }
}
