// DiffusersFolder over the tiny diffusers-layout fixture (Tests/Fixtures/sd-tiny): model_index.json,
// per-component configs and weights, the U-Net and VAE built from it, and the errors for a folder
// that is missing a file.
import AIGCFormats
import AIGCImaging
import AIGCKernels
import AIGCModels
import AIGCTestSupport
import Foundation
import Testing

@Suite struct DiffusersFolderTests {
    @Test func readsModelIndexAndBuildsUNetAndVAE() throws {
        let folder = try DiffusersFolder(path: Fixtures.fixture("sd-tiny"))
        #expect(DiffusersFolder.looksLikeFolder(folder.path))
        #expect(folder.pipelineClass == "StableDiffusionPipeline")
        #expect(folder.components["unet"] == "UNet2DConditionModel" && folder.components["vae"] == "AutoencoderKL")
        let unet = try folder.unet(pool: ComputePool(threads: 2))
        #expect(unet.config.blockOutChannels == [32, 64] && unet.config.crossAttentionDim == 32)
        let vae = try folder.vae(pool: ComputePool(threads: 2))
        #expect(vae.hasEncoder && vae.config.scalingFactor == 0.18215)
        #expect(try folder.weights("unet").contains("conv_in.weight"))
    }

    @Test func shardedAndFP16VariantWeightsAreFound() throws {
        let root = Fixtures.temporaryDirectory("diffusers-folder")
        defer { try? FileManager.default.removeItem(at: root) }
        let vae = root.appendingPathComponent("vae")
        try FileManager.default.createDirectory(at: vae, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixtures.fixture("sd-tiny/vae/config.json"), toPath: vae.appendingPathComponent("config.json").path)
        // A one-shard index in the diffusers naming.
        let source = try SafetensorsFile(path: Fixtures.fixture("sd-tiny/vae/diffusion_pytorch_model.safetensors"))
        try FileManager.default.copyItem(atPath: source.path, toPath: vae.appendingPathComponent("shard-00001.safetensors").path)
        let map = Dictionary(uniqueKeysWithValues: source.tensorNames.map { ($0, "shard-00001.safetensors") })
        try JSONSerialization.data(withJSONObject: ["weight_map": map])
            .write(to: vae.appendingPathComponent("diffusion_pytorch_model.safetensors.index.json"))
        let folder = try DiffusersFolder(path: root.path)
        #expect(folder.pipelineClass == nil)
        #expect(try folder.vae().hasEncoder)
        try FileManager.default.removeItem(at: vae.appendingPathComponent("diffusion_pytorch_model.safetensors.index.json"))
        try FileManager.default.moveItem(at: vae.appendingPathComponent("shard-00001.safetensors"), to: vae.appendingPathComponent("model.fp16.safetensors"))
        #expect(try folder.weights("vae").contains("decoder.conv_in.weight"))
    }

    @Test func missingFilesAreNamed() throws {
        let root = Fixtures.temporaryDirectory("diffusers-folder")
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(throws: FormatError.self) { try DiffusersFolder(path: root.appendingPathComponent("absent").path) }
        let folder = try DiffusersFolder(path: root.path)
        do {
            _ = try folder.unet()
            Issue.record("a folder without unet/ must not load")
        } catch {
            #expect("\(error)".contains("unet/config.json"), "\(error)")
        }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("unet"), withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: root.appendingPathComponent("unet/config.json"))
        do {
            _ = try folder.unet()
            Issue.record("a unet/ without weights must not load")
        } catch {
            #expect("\(error)".contains("diffusion_pytorch_model.safetensors"), "\(error)")
        }
    }
}
