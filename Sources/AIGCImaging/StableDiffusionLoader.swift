// Opening a Stable Diffusion model: a diffusers folder (model_index.json, unet/, vae/, text_encoder/,
// tokenizer/, scheduler/). The tokenizer falls back to the CLIP vocabulary aigc ships and the
// scheduler to SD 1.5's training schedule when the folder lacks them, as SD 1.x checkpoints all
// share both. The digest covers every weight file, so the record names exactly these weights.
import AIGCFormats
import AIGCKernels
import AIGCModels
import AIGCTensor
import AIGCTokenizers
import Crypto
import Foundation

enum StableDiffusionLoader {
    /// The pipeline of a diffusers folder.
    static func load(folder path: String, pool: ComputePool) throws -> StableDiffusionPipeline {
        let folder = try DiffusersFolder(path: path)
        let textConfig = try folder.decode(CLIPTextConfiguration.self, "text_encoder")
        let textEncoder = try CLIPTextModel(configuration: textConfig, weights: folder.weights("text_encoder"), pool: pool)
        return try StableDiffusionPipeline(tokenizer: tokenizer(folder), textEncoder: textEncoder, unet: folder.unet(pool: pool),
                                           vae: folder.vae(pool: pool), schedulerConfiguration: scheduler(folder), source: path)
    }

    /// The pipeline of a single-file SD 1.x checkpoint (LDM names: model.diffusion_model.*,
    /// first_stage_model.*, cond_stage_model.*), its layout read from the tensor shapes unless `layout`
    /// is given; the rest of the configuration is SD 1.x's (v1-inference.yaml), which every such file
    /// shares: 8 heads per UNet level, one transformer layer, quick-GELU CLIP, the bundled CLIP
    /// vocabulary and SD 1.5's scheduler.
    static func load(checkpoint weights: any WeightSource, source: String, layout given: StableDiffusionLayout? = nil,
                     pool: ComputePool) throws -> StableDiffusionPipeline {
        let checkpoint = try StableDiffusionCheckpoint(weights: weights, layout: given)
        let layout = checkpoint.layout
        var unetConfig = UNet2DConfiguration(blockOutChannels: layout.unetBlockChannels, crossAttentionDim: layout.crossAttentionDim)
        let levels = layout.unetBlockChannels.count
        unetConfig.inChannels = layout.unetInChannels
        unetConfig.layersPerBlock = Array(repeating: layout.unetLayersPerBlock, count: levels)
        unetConfig.attentionHeads = Array(repeating: 8, count: levels)
        unetConfig.transformerLayersPerBlock = Array(repeating: 1, count: levels)
        unetConfig.downBlockTypes = layout.unetAttentionLevels.map { $0 ? "CrossAttnDownBlock2D" : "DownBlock2D" }
        unetConfig.upBlockTypes = layout.unetAttentionLevels.reversed().map { $0 ? "CrossAttnUpBlock2D" : "UpBlock2D" }
        var vaeConfig = AutoencoderKLConfiguration()
        vaeConfig.blockOutChannels = layout.vaeBlockChannels
        vaeConfig.layersPerBlock = layout.vaeLayersPerBlock
        guard layout.textEncoder.heads > 0 else {
            throw ImagingError.architectureMismatch(path: source, requested: "sd", detected: nil,
                                                    reason: "its text encoder is \(layout.textEncoder.hiddenSize) wide, not a multiple of CLIP's 64-wide heads, and no tensor records the head count")
        }
        let unet = try UNet2DConditionModel(configuration: unetConfig, weights: checkpoint.unet, pool: pool)
        let vae = try AutoencoderKL(configuration: vaeConfig, weights: checkpoint.vae, pool: pool)
        let textEncoder = try CLIPTextModel(configuration: layout.textEncoder, weights: checkpoint.textEncoder, pool: pool)
        return try StableDiffusionPipeline(tokenizer: CLIPTokenizer.bundled(), textEncoder: textEncoder, unet: unet, vae: vae,
                                           schedulerConfiguration: .stableDiffusion15, source: source)
    }

    /// tokenizer/vocab.json + merges.txt when present (SD 2.x pads with "!"), else the bundled vocabulary.
    static func tokenizer(_ folder: DiffusersFolder) throws -> CLIPTokenizer {
        let dir = folder.componentPath("tokenizer") as NSString
        guard let vocab = FileManager.default.contents(atPath: dir.appendingPathComponent("vocab.json")),
              let merges = FileManager.default.contents(atPath: dir.appendingPathComponent("merges.txt")) else {
            return try CLIPTokenizer.bundled()
        }
        var padding: Int?
        if let data = FileManager.default.contents(atPath: dir.appendingPathComponent("tokenizer_config.json")),
           let config = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], let pad = config["pad_token"] as? String,
           let map = (try? JSONSerialization.jsonObject(with: vocab)) as? [String: Int] {
            padding = map[pad]
        }
        return try CLIPTokenizer(vocabularyJSON: vocab, mergesText: String(decoding: merges, as: UTF8.self), padding: padding,
                                 source: dir as String)
    }

    /// scheduler/scheduler_config.json, else SD 1.5's.
    static func scheduler(_ folder: DiffusersFolder) throws -> SchedulerConfiguration {
        let file = (folder.componentPath("scheduler") as NSString).appendingPathComponent("scheduler_config.json")
        guard let data = FileManager.default.contents(atPath: file) else { return .stableDiffusion15 }
        return try SchedulerConfiguration.decode(data, source: file)
    }

    /// "sha256:<hex>" over the sorted relative paths and bytes of every .safetensors file under `path`.
    static func digest(folder path: String) throws -> String {
        let files = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? [])
            .filter { $0.hasSuffix(".safetensors") }.sorted()
        var hasher = SHA256()
        for file in files {
            hasher.update(data: Data(file.utf8))
            let mapped = try MappedFile(path: (path as NSString).appendingPathComponent(file))
            hasher.update(data: mapped.bytes)
        }
        return "sha256:" + hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
