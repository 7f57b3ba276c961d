// CLIP text encoder against a numpy forward pass of a tiny random one (Tests/Fixtures/sd-tiny/
// text_encoder and Tests/Fixtures/sd-text, made by scripts/reference/make_sd_text_fixtures.py).
import AIGCFormats
import AIGCModels
import AIGCTensor
import AIGCTestSupport
import Foundation
import Testing

@Suite struct CLIPTextTests {
    static let folder = Fixtures.fixture("sd-tiny/text_encoder")

    func load(activation: CLIPTextConfiguration.Activation? = nil) throws -> CLIPTextModel {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.folder + "/config.json"))
        var config = try JSONDecoder().decode(CLIPTextConfiguration.self, from: data)
        if let activation { config.activation = activation }
        return try CLIPTextModel(configuration: config, weights: SafetensorsFile(path: Self.folder + "/model.safetensors"))
    }

    func tokens() throws -> [[Int]] {
        try JSONDecoder().decode([[Int]].self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.fixture("sd-text/tokens.json"))))
    }

    @Test func decodesHuggingFaceConfig() throws {
        let model = try load()
        #expect(model.config == CLIPTextConfiguration(hiddenSize: 32, intermediateSize: 37, heads: 4, layers: 5, maxPositions: 77,
                                                      vocabularySize: 1000, activation: .quickGELU, layerNormEps: 1e-5))
        let sd1 = try JSONDecoder().decode(CLIPTextConfiguration.self, from: Data(#"{"hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12}"#.utf8))
        #expect(sd1 == CLIPTextConfiguration())
    }

    @Test func lastHiddenStateMatchesReference() throws {
        let hidden = try load().encode(try tokens())
        expectClose(hidden, try Fixtures.floats("sd-text/last_hidden_state.f32"), atol: 1e-4, rtol: 1e-4, "last_hidden_state")
    }

    @Test func clipSkipMatchesReference() throws {
        let hidden = try load().encode(try tokens(), skipLayers: 1)
        expectClose(hidden, try Fixtures.floats("sd-text/clip_skip1.f32"), atol: 1e-4, rtol: 1e-4, "clip skip 1")
    }

    @Test func geluVariantMatchesReference() throws {
        let hidden = try load(activation: .gelu).encode(try tokens())
        expectClose(hidden, try Fixtures.floats("sd-text/gelu_last_hidden_state.f32"), atol: 1e-4, rtol: 1e-4, "gelu")
    }

    @Test func promptsAreIndependentOfTheirBatch() throws {
        let model = try load(), all = try tokens()
        let both = try model.encode(all)
        let second = try model.encode([all[1]])
        #expect(Array(both[(77 * 32)...]) == second)
    }

    @Test func refusesBadInput() throws {
        let model = try load()
        #expect(throws: ModelError.tokenOutOfRange(token: 1000, vocabularySize: 1000)) { try model.encode([[1000]]) }
        #expect(throws: ModelError.self) { try model.encode([[Int]](repeating: [1, 2], count: 1) + [[1]]) }
        #expect(throws: ModelError.self) { try model.encode([[Int]](repeating: Array(repeating: 1, count: 78), count: 1)) }
        #expect(throws: ModelError.self) { try model.encode([[1]], skipLayers: 5) }
    }

    /// SD 1.x's encoder size (12 x 768, vocabulary 49,408) with synthetic weights (one random layer
    /// shared by all twelve): shapes load and a cond + uncond pair encodes; prints the time.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["AIGC_SLOW_TESTS"] == "1"))
    func fullSizeEncoderRuns() throws {
        let config = CLIPTextConfiguration()
        var random = TestRandom(seed: 6)
        let C = config.hiddenSize, F = config.intermediateSize
        func tensor(_ shape: [Int], scale: Float) -> Tensor {
            Tensor(shape: shape, floats: random.floats(shape.reduce(1, *), scale: scale))
        }
        let square = tensor([C, C], scale: 0.03), up = tensor([F, C], scale: 0.03), down = tensor([C, F], scale: 0.015)
        let ones = Tensor(shape: [C], floats: [Float](repeating: 1, count: C)), bias = tensor([C], scale: 0.01), upBias = tensor([F], scale: 0.01)
        var tensors: [String: Tensor] = [
            // A cheap pattern: drawing 38M random values dominated the test's time.
            "text_model.embeddings.token_embedding.weight": Tensor(shape: [config.vocabularySize, C],
                                                                   floats: (0..<(config.vocabularySize * C)).map { Float($0 % 977) * 4e-5 - 0.02 }),
            "text_model.embeddings.position_embedding.weight": tensor([config.maxPositions, C], scale: 0.01),
            "text_model.final_layer_norm.weight": ones, "text_model.final_layer_norm.bias": bias,
        ]
        for i in 0..<config.layers {
            let p = "text_model.encoder.layers.\(i)."
            for proj in ["q_proj", "k_proj", "v_proj", "out_proj"] {
                tensors[p + "self_attn.\(proj).weight"] = square
                tensors[p + "self_attn.\(proj).bias"] = bias
            }
            for norm in ["layer_norm1", "layer_norm2"] { tensors[p + norm + ".weight"] = ones; tensors[p + norm + ".bias"] = bias }
            tensors[p + "mlp.fc1.weight"] = up; tensors[p + "mlp.fc1.bias"] = upBias
            tensors[p + "mlp.fc2.weight"] = down; tensors[p + "mlp.fc2.bias"] = bias
        }
        let model = try CLIPTextModel(configuration: config, weights: DictionaryWeights(tensors))
        let prompt = [49406, 320, 1125, 539, 550, 18376, 6765, 320, 4558, 49407] + [Int](repeating: 49407, count: 67)
        let unconditional = [49406] + [Int](repeating: 49407, count: 76)
        let start = Date()
        let hidden = try model.encode([prompt, unconditional])
        print("CLIP text encoder, SD 1.x size, 2 x 77 tokens: \(Date().timeIntervalSince(start)) s")
        #expect(hidden.count == 2 * 77 * 768 && hidden.allSatisfy(\.isFinite))
    }
}
