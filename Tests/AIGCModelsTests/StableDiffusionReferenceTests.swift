// UNet2DConditionModel and AutoencoderKL against the numpy reference of
// scripts/reference/make_sd_unet_fixtures.py (tiny random F16 weights in diffusers layout under
// Tests/Fixtures/sd-tiny): the noise prediction of an SD 1.x-style and an SD 2.x-style U-Net, VAE
// decode and encode, old VAE attention names, the same answers on one thread and two and for an
// image alone or in a batch, and load errors that name the tensor and the file.
import AIGCFormats
import AIGCKernels
import AIGCLayers
import AIGCModels
import AIGCTensor
import AIGCTestSupport
import Foundation
import Testing

/// Old diffusers names for the VAE's attention (query/key/value/proj_attn) over a file with the new ones.
struct LegacyAttentionNames: WeightSource {
    let base: any WeightSource
    static let renames = ["query": "to_q", "key": "to_k", "value": "to_v", "proj_attn": "to_out.0"]
    var sourceName: String { base.sourceName }
    var tensorNames: [String] { base.tensorNames }
    func tensorIfPresent(_ name: String) -> Tensor? {
        for (_, new) in Self.renames where name.contains(".attentions.0.\(new).") { return nil }
        var mapped = name
        for (old, new) in Self.renames where name.contains(".attentions.0.\(old).") { mapped = name.replacingOccurrences(of: ".\(old).", with: ".\(new).") }
        return base.tensorIfPresent(mapped)
    }
}

enum SDFixtures {
    static func folder(_ component: String) -> String { Fixtures.fixture("sd-tiny/" + component) }
    static func weights(_ component: String) throws -> SafetensorsFolder { try SafetensorsFolder(path: folder(component), stem: "diffusion_pytorch_model") }
    static func config<T: Decodable>(_ type: T.Type, _ component: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(contentsOf: URL(fileURLWithPath: folder(component) + "/config.json")))
    }
    static func reference(_ name: String) throws -> SafetensorsFile { try SafetensorsFile(path: folder("reference/\(name).safetensors")) }
    static func image(_ t: Tensor) -> ImageTensor {
        ImageTensor(batch: t.shape[0], channels: t.shape[1], height: t.shape[2], width: t.shape[3], values: t.floats())
    }
}

@Suite struct StableDiffusionReferenceTests {
    @Test(arguments: ["unet", "unet-linear-projection"])
    func unetMatchesNumpy(_ name: String) throws {
        let config = try SDFixtures.config(UNet2DConfiguration.self, name)
        let reference = try SDFixtures.reference(name)
        let sample = SDFixtures.image(try reference.tensor("sample"))
        let c = try reference.tensor("encoder_hidden_states")
        let context = ConditioningTokens(batch: c.shape[0], tokens: c.shape[1], channels: c.shape[2], values: c.floats())
        let expected = try reference.tensor("noise_pred").floats()
        var outputs: [[Float]] = []
        for threads in [1, 2] {
            let unet = try UNet2DConditionModel(configuration: config, weights: SDFixtures.weights(name), pool: ComputePool(threads: threads))
            let out = unet.forward(sample, timesteps: try reference.tensor("timesteps").floats(), context: context)
            #expect(out.shape == sample.shape)
            expectClose(out.values, expected, atol: 1e-4, rtol: 1e-4, "\(name) on \(threads) threads")
            outputs.append(out.values)
        }
        expectClose(outputs[0], outputs[1], atol: 1e-5, rtol: 1e-5, "\(name): one thread against two")
    }

    @Test func unetGivesAnImageTheSameAnswerAloneAndInABatch() throws {
        let config = try SDFixtures.config(UNet2DConfiguration.self, "unet")
        let reference = try SDFixtures.reference("unet")
        let unet = try UNet2DConditionModel(configuration: config, weights: SDFixtures.weights("unet"), pool: ComputePool(threads: 2))
        let sample = SDFixtures.image(try reference.tensor("sample")), c = try reference.tensor("encoder_hidden_states")
        let half = sample.count / 2, contextHalf = c.elementCount / 2
        let second = ImageTensor(batch: 1, channels: 4, height: sample.height, width: sample.width, values: Array(sample.values[half...]))
        let context = ConditioningTokens(batch: 1, tokens: c.shape[1], channels: c.shape[2], values: Array(c.floats()[contextHalf...]))
        let alone = unet.forward(second, timesteps: [421], context: context)
        expectClose(alone.values, Array(try reference.tensor("noise_pred").floats()[half...]), atol: 1e-4, rtol: 1e-4, "second image alone")
    }

    @Test func vaeDecodesAndEncodesLikeNumpy() throws {
        let config = try SDFixtures.config(AutoencoderKLConfiguration.self, "vae")
        #expect(config.scalingFactor == 0.18215 && config.downscale == 2)
        let reference = try SDFixtures.reference("vae")
        for (source, label) in [(try SDFixtures.weights("vae") as any WeightSource, "to_q names"),
                                (LegacyAttentionNames(base: try SDFixtures.weights("vae")), "query names")] {
            let vae = try AutoencoderKL(configuration: config, weights: source, pool: ComputePool(threads: 2))
            #expect(vae.hasEncoder)
            let decoded = vae.decode(SDFixtures.image(try reference.tensor("latents")))
            #expect(decoded.shape == [2, 3, 16, 16])
            expectClose(decoded.values, try reference.tensor("decoded").floats(), atol: 1e-4, rtol: 1e-4, "decode, \(label)")
            let (mean, logVariance) = try vae.encode(SDFixtures.image(try reference.tensor("image")))
            #expect(mean.shape == [1, 4, 16, 16])
            expectClose(mean.values, try reference.tensor("mean").floats(), atol: 1e-4, rtol: 1e-4, "encode mean, \(label)")
            expectClose(logVariance.values, try reference.tensor("logvar").floats(), atol: 1e-4, rtol: 1e-4, "encode log-variance, \(label)")
        }
    }

    @Test func vaeWithoutEncoderWeightsDecodesAndRefusesToEncode() throws {
        let full = try SDFixtures.weights("vae")
        let decoderOnly = DictionaryWeights(Dictionary(uniqueKeysWithValues: full.tensorNames.filter { !$0.hasPrefix("encoder.") && !$0.hasPrefix("quant_conv") }
            .map { ($0, full.tensorIfPresent($0)!) }), sourceName: "decoder-only")
        let vae = try AutoencoderKL(configuration: try SDFixtures.config(AutoencoderKLConfiguration.self, "vae"), weights: decoderOnly)
        #expect(!vae.hasEncoder)
        #expect(throws: ModelError.self) { try vae.encode(ImageTensor(batch: 1, channels: 3, height: 8, width: 8)) }
    }

    @Test func loadErrorsNameTheTensorAndTheFile() throws {
        var config = try SDFixtures.config(UNet2DConfiguration.self, "unet")
        config.crossAttentionDim = 48
        do {
            _ = try UNet2DConditionModel(configuration: config, weights: SDFixtures.weights("unet"))
            Issue.record("a wrong cross_attention_dim must not load")
        } catch {
            let message = "\(error)"
            #expect(message.contains("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight"), "\(message)")
            #expect(message.contains("sd-tiny/unet") && message.contains("[32, 32]") && message.contains("[32, 48]"), "\(message)")
        }
        let json = #"{"block_out_channels": [32, 64], "norm_num_groups": 32, "addition_embed_type": "text_time", "time_cond_proj_dim": 256}"#
        #expect(throws: ModelError.self) { try JSONDecoder().decode(UNet2DConfiguration.self, from: Data(json.utf8)) }
    }

    @Test func sd15ConfigurationDecodesWithHeadsFromAttentionHeadDim() throws {
        let json = #"""
        {"_class_name": "UNet2DConditionModel", "act_fn": "silu", "attention_head_dim": 8, "block_out_channels": [320, 640, 1280, 1280],
         "center_input_sample": false, "cross_attention_dim": 768, "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
         "CrossAttnDownBlock2D", "DownBlock2D"], "downsample_padding": 1, "flip_sin_to_cos": true, "freq_shift": 0, "in_channels": 4,
         "layers_per_block": 2, "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": 32, "out_channels": 4, "sample_size": 64,
         "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]}
        """#
        let config = try JSONDecoder().decode(UNet2DConfiguration.self, from: Data(json.utf8))
        #expect(config == UNet2DConfiguration.stableDiffusion1)
        try config.validate()
        let sd2 = try JSONDecoder().decode(UNet2DConfiguration.self, from: Data(#"{"attention_head_dim": [5, 10, 20, 20], "use_linear_projection": true, "cross_attention_dim": 1024}"#.utf8))
        #expect(sd2.attentionHeads == [5, 10, 20, 20] && sd2.useLinearProjection)
        let roundTrip = try JSONDecoder().decode(UNet2DConfiguration.self, from: JSONEncoder().encode(sd2))
        #expect(roundTrip == sd2)
    }
}
