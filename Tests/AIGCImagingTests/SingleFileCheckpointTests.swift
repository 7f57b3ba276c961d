// A single-file Stable Diffusion checkpoint (CompVis/LDM names) against the diffusers folder it was made
// from: Tests/Fixtures/sd-tiny-single-file.safetensors is Tests/Fixtures/sd-tiny renamed by
// scripts/reference/make_sd_single_file_fixture.py (the inverse of diffusers' convert_ldm_* rules, written
// apart from StableDiffusionCheckpointMap, so each checks the other), with the VAE attention as 1x1
// convolutions and the schedule buffers and position ids LDM files carry. Every tensor must come back
// under its folder name with the folder's bytes, the layout must be read from the shapes, a guided
// txt2img run must give the folder's pixels, and a cut-short file must be refused by name.
//
// Two things a single file does not hold and the test supplies from the folder: the tiny CLIP's head
// count (4: no tensor records it, and 32 is not a multiple of CLIP's 64-wide heads, so the loader the CLI
// uses refuses to guess) and its tokenizer (the bundled CLIP vocabulary has ids past the tiny encoder's
// 1000). Both runs use the scheduler settings the single-file path uses (SD 1.5's).
@testable import AIGCImaging
import AIGCFormats
import AIGCKernels
import AIGCModels
import AIGCTensor
import AIGCTestSupport
import Foundation
import Testing

@Suite(.serialized) struct SingleFileCheckpointTests {
    static let file = Fixtures.fixture("sd-tiny-single-file.safetensors")
    static let folderPath = Fixtures.fixture("sd-tiny")
    static let prompt = "a red fox in the snow at dawn", negative = "blurry"
    /// The tiny text encoder's heads (Tests/Fixtures/sd-tiny/text_encoder/config.json).
    static let tinyTextHeads = 4

    static func shapes(_ weights: any WeightSource) -> [String: [Int]] {
        Dictionary(uniqueKeysWithValues: weights.tensorNames.compactMap { n in weights.tensorIfPresent(n).map { (n, $0.shape) } })
    }

    /// The layout read from the file's shapes, with the head count it cannot hold.
    static func layout(_ weights: any WeightSource) throws -> StableDiffusionLayout {
        var layout = try StableDiffusionLayout(inferringFrom: shapes(weights), source: file)
        layout.textEncoder.heads = tinyTextHeads
        return layout
    }

    /// The single file through the loader `aigc image -m FILE.safetensors --arch sd` reaches.
    static func singleFilePipeline() throws -> StableDiffusionPipeline {
        let weights = try SafetensorsFile(path: file)
        return try StableDiffusionLoader.load(checkpoint: weights, source: file, layout: layout(weights), pool: .shared)
    }

    static func folderPipeline() throws -> StableDiffusionPipeline {
        try #require(try ImageModelLoader.load(path: folderPath).pipeline as? StableDiffusionPipeline)
    }

    static func message(_ body: () throws -> Void) -> String {
        do { try body(); return "" } catch { return "\(error)" }
    }

    @Test func theLayoutIsReadFromTheShapesAndTheModelsMatchTheFolderConfigs() throws {
        let weights = try SafetensorsFile(path: Self.file)
        #expect(StableDiffusionCheckpoint.matches(tensorNames: weights.tensorNames))
        let inferred = try StableDiffusionLayout(inferringFrom: Self.shapes(weights), source: Self.file)
        // Tests/Fixtures/sd-tiny/{unet,vae,text_encoder}/config.json, heads aside.
        var clip = CLIPTextConfiguration(hiddenSize: 32, intermediateSize: 37, heads: 0, layers: 5, maxPositions: 77, vocabularySize: 1000)
        clip.activation = .quickGELU
        #expect(inferred == StableDiffusionLayout(unetInChannels: 4, unetBlockChannels: [32, 64], unetLayersPerBlock: 1,
                                                  unetAttentionLevels: [true, false], crossAttentionDim: 32,
                                                  vaeBlockChannels: [32, 64], vaeLayersPerBlock: 1, textEncoder: clip))

        // The path the CLI takes cannot know the tiny CLIP's heads and says so, naming the file.
        let refused = Self.message { _ = try ImageModelLoader.load(path: Self.file, architecture: .sd) }
        #expect(refused.contains(Self.file) && refused.contains("head count"), "\(refused)")

        let single = try Self.singleFilePipeline(), folder = try Self.folderPipeline()
        var unet = folder.unet.config
        unet.sampleSize = single.unet.config.sampleSize  // not in the weights: the single-file path takes SD's 64
        #expect(single.unet.config == unet)
        var vae = folder.vae.config
        vae.sampleSize = single.vae.config.sampleSize
        #expect(single.vae.config == vae)
        #expect(single.textEncoder.config == folder.textEncoder.config)
        #expect(single.schedulerConfiguration == .stableDiffusion15)
    }

    @Test func everyTensorComesBackUnderItsFolderNameWithTheFolderBytes() throws {
        let weights = try SafetensorsFile(path: Self.file)
        let checkpoint = try StableDiffusionCheckpoint(weights: weights, layout: Self.layout(weights))
        let folder = try DiffusersFolder(path: Self.folderPath)
        let ignored = ["betas", "alphas_cumprod", "alphas_cumprod_prev", "sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod",
                       "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod", "sqrt_recipm1_alphas_cumprod", "posterior_variance",
                       "posterior_log_variance_clipped", "posterior_mean_coef1", "posterior_mean_coef2",
                       "cond_stage_model.transformer.text_model.embeddings.position_ids"]
        #expect(checkpoint.map.ignored.sorted() == ignored.sorted())
        var compared = 0
        for (component, mapped) in [(StableDiffusionComponent.unet, checkpoint.unet), (.vae, checkpoint.vae), (.textEncoder, checkpoint.textEncoder)] {
            let expected = try folder.weights(component.rawValue)
            #expect(mapped.tensorNames.count == expected.tensorNames.count, "\(component): \(mapped.tensorNames.count) vs \(expected.tensorNames.count)")
            for name in Set(mapped.tensorNames).symmetricDifference(expected.tensorNames).sorted().prefix(5) {
                Issue.record("\(component) \(name) is in only one of the single file and the folder")
            }
            for name in expected.tensorNames {
                guard let a = mapped.tensorIfPresent(name), let b = expected.tensorIfPresent(name) else { continue }
                guard a.dtype == b.dtype, a.shape == b.shape, a.byteCount == b.byteCount else {
                    Issue.record("\(component) \(name): \(a.dtype) \(a.shape) in the single file, \(b.dtype) \(b.shape) in the folder")
                    continue
                }
                if memcmp(a.data, b.data, a.byteCount) != 0 { Issue.record("\(component) \(name): the values differ") }
                compared += 1
            }
        }
        #expect(compared == 208 + 124 + 84)
        // The VAE attention is stored as LDM's 1x1 convolutions and served as diffusers' matrices.
        #expect(weights.tensorIfPresent("first_stage_model.decoder.mid.attn_1.q.weight")?.shape == [64, 64, 1, 1])
        #expect(checkpoint.vae.tensorIfPresent("decoder.mid_block.attentions.0.to_q.weight")?.shape == [64, 64])
    }

    @Test(arguments: ["euler-a", "ddim"])
    func aGuidedRunGivesTheFoldersPixels(_ scheduler: String) throws {
        let single = try Self.singleFilePipeline(), folder = try Self.folderPipeline()
        var request = ImageRequest(count: 1, seed: 20261123, steps: 2)
        request.prompt = Self.prompt
        request.negativePrompt = Self.negative
        request.guidanceScale = 7.5
        request.scheduler = scheduler
        request.width = 32
        request.height = 24
        // The bundled CLIP vocabulary (49408 ids) does not fit the tiny encoder's 1000.
        #expect(throws: ModelError.self) { _ = try single.generate(request) { _ in } }

        let fromFile = try StableDiffusionPipeline(tokenizer: folder.tokenizer, textEncoder: single.textEncoder, unet: single.unet, vae: single.vae,
                                                   schedulerConfiguration: single.schedulerConfiguration, source: Self.file)
        let fromFolder = try StableDiffusionPipeline(tokenizer: folder.tokenizer, textEncoder: folder.textEncoder, unet: folder.unet, vae: folder.vae,
                                                     schedulerConfiguration: single.schedulerConfiguration, source: Self.folderPath)
        var steps = 0
        let a = try fromFile.generate(request) { steps = $0.step }
        let b = try fromFolder.generate(request) { _ in }
        #expect(steps == 2)
        #expect(a.values.count == 3 * 24 * 32 && a.values.count == b.values.count)
        // Same bytes through the same code: the pixels are bit-identical, not merely close.
        let difference = zip(a.values, b.values).map { abs($0 - $1) }.max() ?? .infinity
        #expect(a.values == b.values, "the single file's pixels differ from the folder's by up to \(difference)")
        // Not a blank image: the comparison means something.
        #expect(a.values.allSatisfy { $0.isFinite })
        let mean = a.values.reduce(0, +) / Float(a.values.count)
        #expect(a.values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(a.values.count) > 1e-4)
    }

    @Test func aTruncatedFileIsRefusedByName() throws {
        let dir = Fixtures.temporaryDirectory("aigc-single-file")
        defer { try? FileManager.default.removeItem(at: dir) }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Self.file))
        // Cut inside the tensor data, and inside the JSON header.
        for (name, length) in [("cut-data.safetensors", bytes.count - 1000), ("cut-header.safetensors", 200)] {
            let path = dir.appendingPathComponent(name).path
            try bytes.prefix(length).write(to: URL(fileURLWithPath: path))
            let refused = Self.message { _ = try ImageModelLoader.load(path: path, architecture: .sd) }
            #expect(refused.contains(path), "\(name): \(refused)")
        }
    }
}
