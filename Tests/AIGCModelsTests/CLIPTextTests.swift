// CLIP text encoder against a numpy forward pass of a tiny random one (Tests/Fixtures/sd-tiny/
// text_encoder and Tests/Fixtures/sd-text, made by scripts/reference/make_sd_text_fixtures.py).
import AIGCFormats
import AIGCModels
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
}
