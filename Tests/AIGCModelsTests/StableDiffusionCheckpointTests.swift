// The LDM -> diffusers renaming of single-file SD 1.x checkpoints, checked against the two name lists
// scripts/reference/make_synthetic_sd15.py derives independently: the CompVis state dict of
// v1-5-pruned-emaonly (ldm-tensors.json) and what diffusers' UNet2DConditionModel, AutoencoderKL and
// CLIPTextModel hold (diffusers-tensors.json).
import AIGCFormats
import AIGCModels
import AIGCTensor
import AIGCTestSupport
import Foundation
import Testing

private func namedShapes(_ json: Any?) -> [String: [Int]] {
    var out: [String: [Int]] = [:]
    for case let pair as [Any] in (json as? [Any]) ?? [] {
        if let name = pair.first as? String, let shape = pair.last as? [Int] { out[name] = shape }
    }
    return out
}

private func fixtureJSON(_ name: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Fixtures.fixture("sd15-names/" + name))))
}

/// Zero-filled f32 tensors under `names`, for checking the wrapper without a real checkpoint.
private func zeros(_ shapes: [String: [Int]]) -> DictionaryWeights {
    DictionaryWeights(Dictionary(uniqueKeysWithValues: shapes.map { name, shape in
        (name, Tensor(name: name, shape: shape, floats: [Float](repeating: 0, count: shape.reduce(1, *))))
    }), sourceName: "test.safetensors")
}

@Suite struct StableDiffusionCheckpointTests {
    let ldm: [String: [Int]]
    let diffusers: [String: [String: [Int]]]

    init() throws {
        ldm = namedShapes(try fixtureJSON("ldm-tensors.json"))
        let parts = try fixtureJSON("diffusers-tensors.json") as? [String: Any] ?? [:]
        diffusers = parts.mapValues(namedShapes)
    }

    @Test func layoutIsInferredFromShapes() throws {
        #expect(ldm.count == 1143)
        let layout = try StableDiffusionLayout(inferringFrom: ldm)
        #expect(layout == .sd1)
        var inpainting = ldm
        inpainting["model.diffusion_model.input_blocks.0.0.weight"] = [320, 9, 3, 3]
        #expect(try StableDiffusionLayout(inferringFrom: inpainting).unetInChannels == 9)
    }

    @Test func everyNameMapsOnceAndMatchesTheDiffusersLayout() throws {
        let map = try StableDiffusionCheckpointMap(tensorNames: Array(ldm.keys))
        #expect(map.ignored.count == 13, "12 DDPM schedule buffers and CLIP's position_ids")
        #expect(map.entries.count + map.ignored.count == ldm.count)
        for component in StableDiffusionComponent.allCases {
            var mapped: [String: [Int]] = [:]
            for entry in map.entries(for: component) {
                #expect(mapped[entry.name] == nil, "two tensors map to \(component.rawValue)/\(entry.name)")
                let shape = ldm[entry.checkpointName]!
                mapped[entry.name] = entry.dropsUnitSpatialDimensions ? Array(shape.prefix(2)) : shape
            }
            let expected = try #require(diffusers[component.rawValue])
            // Compared by counts and the first differences: a set-equality expectation would print ~700 names.
            #expect(mapped.count == expected.count, "\(component): \(mapped.count) mapped names, diffusers has \(expected.count)")
            for name in Set(mapped.keys).subtracting(expected.keys).sorted().prefix(5) { Issue.record("extra \(component) name \(name)") }
            for name in Set(expected.keys).subtracting(mapped.keys).sorted().prefix(5) { Issue.record("missing \(component) name \(name)") }
            for (name, shape) in mapped where expected[name] != nil && expected[name] != shape {
                Issue.record("\(component) \(name): mapped shape \(shape), diffusers \(expected[name]!)")
            }
        }
    }

    @Test func knownRenamings() throws {
        let cases: [(String, StableDiffusionComponent, String)] = [
            ("model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight", .unet, "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight"),
            ("model.diffusion_model.input_blocks.3.0.op.weight", .unet, "down_blocks.0.downsamplers.0.conv.weight"),
            ("model.diffusion_model.input_blocks.4.0.skip_connection.weight", .unet, "down_blocks.1.resnets.0.conv_shortcut.weight"),
            ("model.diffusion_model.input_blocks.11.0.emb_layers.1.bias", .unet, "down_blocks.3.resnets.1.time_emb_proj.bias"),
            ("model.diffusion_model.middle_block.2.out_layers.3.weight", .unet, "mid_block.resnets.1.conv2.weight"),
            ("model.diffusion_model.output_blocks.2.1.conv.weight", .unet, "up_blocks.0.upsamplers.0.conv.weight"),
            ("model.diffusion_model.output_blocks.5.2.conv.bias", .unet, "up_blocks.1.upsamplers.0.conv.bias"),
            ("model.diffusion_model.output_blocks.11.1.proj_out.weight", .unet, "up_blocks.3.attentions.2.proj_out.weight"),
            ("model.diffusion_model.time_embed.2.weight", .unet, "time_embedding.linear_2.weight"),
            ("model.diffusion_model.out.0.bias", .unet, "conv_norm_out.bias"),
            ("first_stage_model.decoder.up.3.block.2.conv1.weight", .vae, "decoder.up_blocks.0.resnets.2.conv1.weight"),
            ("first_stage_model.decoder.up.1.upsample.conv.weight", .vae, "decoder.up_blocks.2.upsamplers.0.conv.weight"),
            ("first_stage_model.encoder.down.1.block.0.nin_shortcut.weight", .vae, "encoder.down_blocks.1.resnets.0.conv_shortcut.weight"),
            ("first_stage_model.encoder.mid.attn_1.proj_out.weight", .vae, "encoder.mid_block.attentions.0.to_out.0.weight"),
            ("first_stage_model.decoder.mid.attn_1.norm.bias", .vae, "decoder.mid_block.attentions.0.group_norm.bias"),
            ("first_stage_model.encoder.norm_out.weight", .vae, "encoder.conv_norm_out.weight"),
            ("cond_stage_model.transformer.text_model.encoder.layers.11.mlp.fc2.weight", .textEncoder, "text_model.encoder.layers.11.mlp.fc2.weight"),
        ]
        for (ldmName, component, diffusersName) in cases {
            let entry = try StableDiffusionCheckpointMap.entry(for: ldmName)
            #expect(entry?.component == component && entry?.name == diffusersName, "\(ldmName) -> \(String(describing: entry))")
        }
        let qkv = try StableDiffusionCheckpointMap.entry(for: "first_stage_model.decoder.mid.attn_1.q.weight")
        #expect(qkv?.dropsUnitSpatialDimensions == true)
        let qkvBias = try StableDiffusionCheckpointMap.entry(for: "first_stage_model.decoder.mid.attn_1.q.bias")
        #expect(qkvBias?.dropsUnitSpatialDimensions == false)
    }

    @Test(arguments: [
        "model.diffusion_model.input_blocks.12.0.in_layers.0.weight",   // past the last level
        "model.diffusion_model.input_blocks.10.1.proj_in.weight",       // the deepest level has no attention
        "model.diffusion_model.input_blocks.1.0.in_layers.1.weight",    // not a ResBlock layer
        "model.diffusion_model.output_blocks.11.2.conv.weight",         // the last up level has no upsampler
        "first_stage_model.decoder.up.0.upsample.conv.weight",          // nor the VAE's full-size level
        "first_stage_model.encoder.down.0.block.2.conv1.weight",        // encoder levels have 2 res blocks
        "cond_stage_model.transformer.text_model.encoder.layers.0.mlp.fc3.weight",
        "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn3.to_q.weight",
        "lora_unet_down_blocks_0.alpha",
    ])
    func unknownNamesAreErrorsNamingTheTensor(name: String) {
        #expect { try StableDiffusionCheckpointMap(tensorNames: Array(ldm.keys) + [name], source: "x.safetensors") } throws: { error in
            "\(error)".contains("x.safetensors: tensor '\(name)'")
        }
    }

    /// A two-level UNet with one res block per level and a one-level VAE: the index arithmetic must
    /// follow the layout it is given, not SD 1.x's numbers.
    @Test func smallerLayoutsAndTheWrapper() throws {
        let u = "model.diffusion_model.", v = "first_stage_model."
        func res(_ p: String, _ cin: Int, _ cout: Int) -> [String: [Int]] {
            var r = [p + "in_layers.0.weight": [cin], p + "in_layers.2.weight": [cout, cin, 3, 3], p + "out_layers.3.weight": [cout, cout, 3, 3]]
            if cin != cout { r[p + "skip_connection.weight"] = [cout, cin, 1, 1] }
            return r
        }
        var shapes: [String: [Int]] = [u + "input_blocks.0.0.weight": [8, 4, 3, 3], u + "input_blocks.2.0.op.weight": [8, 8, 3, 3],
                                       u + "input_blocks.1.1.proj_in.weight": [8, 8, 1, 1], u + "output_blocks.1.1.conv.weight": [16, 16, 3, 3],
                                       v + "encoder.down.0.block.0.conv1.weight": [4, 4, 3, 3], v + "decoder.up.0.block.1.conv1.weight": [4, 4, 3, 3],
                                       v + "decoder.mid.attn_1.q.weight": [4, 4, 1, 1]]
        shapes.merge(res(u + "input_blocks.1.0.", 8, 8)) { a, _ in a }
        shapes.merge(res(u + "input_blocks.3.0.", 8, 16)) { a, _ in a }
        shapes.merge(res(u + "output_blocks.0.0.", 32, 16)) { a, _ in a }
        shapes.merge(res(u + "output_blocks.3.0.", 24, 8)) { a, _ in a }
        let layout = try StableDiffusionLayout(inferringFrom: shapes)
        #expect(layout == StableDiffusionLayout(unetBlockChannels: [8, 16], unetLayersPerBlock: 1, unetAttentionLevels: [true, false],
                                                vaeBlockChannels: [4], vaeLayersPerBlock: 1))
        let checkpoint = try StableDiffusionCheckpoint(weights: zeros(shapes))
        #expect(checkpoint.unet.tensorNames.contains("down_blocks.1.resnets.0.conv_shortcut.weight"))
        #expect(checkpoint.unet.tensorNames.contains("up_blocks.0.resnets.0.conv2.weight"))
        #expect(checkpoint.unet.tensorNames.contains("up_blocks.1.resnets.1.conv1.weight"))
        #expect(checkpoint.unet.tensorNames.contains("down_blocks.0.attentions.0.proj_in.weight"))
        // Up level 0 mirrors the deepest level, which has no attention, so its upsampler is layer 1, not 2.
        #expect(checkpoint.unet.tensorNames.contains("up_blocks.0.upsamplers.0.conv.weight"))
        #expect(checkpoint.map.entries.count == shapes.count && checkpoint.map.ignored.isEmpty)
        let q = try checkpoint.vae.tensor("decoder.mid_block.attentions.0.to_q.weight", shape: [4, 4])
        #expect(q.dtype == .f32 && q.elementCount == 16)
        #expect(checkpoint.vae.sourceName == "test.safetensors (vae)")
        #expect(checkpoint.vae.tensorIfPresent("decoder.up_blocks.0.resnets.1.conv1.weight")?.shape == [4, 4, 3, 3])
    }

    /// The full-size synthetic checkpoint, when make_synthetic_sd15.py has written it (2.1 GB, never committed).
    @Test(.enabled(if: FileManager.default.fileExists(atPath: syntheticCheckpointPath)))
    func syntheticCheckpointOpensAsThreeComponents() throws {
        let file = try SafetensorsFile(path: syntheticCheckpointPath)
        #expect(StableDiffusionCheckpoint.matches(tensorNames: file.tensorNames))
        let checkpoint = try StableDiffusionCheckpoint(weights: file)
        #expect(checkpoint.layout == .sd1)
        #expect(checkpoint.unet.tensorNames.count == 686 && checkpoint.vae.tensorNames.count == 248 && checkpoint.textEncoder.tensorNames.count == 196)
        let toK = try checkpoint.unet.tensor("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight", shape: [320, 768])
        #expect(toK.dtype == .f16)
        _ = try checkpoint.vae.tensor("encoder.mid_block.attentions.0.to_out.0.weight", shape: [512, 512])
        _ = try checkpoint.textEncoder.tensor("text_model.embeddings.token_embedding.weight", shape: [49408, 768])
    }
}

private let syntheticCheckpointPath = ProcessInfo.processInfo.environment["AIGC_SD15_SYNTHETIC"] ?? "/work/sd-synth/sd15-synthetic-f16.safetensors"
