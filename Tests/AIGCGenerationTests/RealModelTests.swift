// The real models: the default SmolLM2 (fetched by `make test` with `aigc pull`) and llama2.c's stories260K.
import AIGCGeneration
import AIGCSampling
import AIGCTestSupport
import Foundation
import Testing

@Suite(.serialized) struct RealModelTests {
    static func defaultModel() throws -> LoadedModel {
        let (path, _) = try ModelStore().resolve(ModelCatalog.defaultModel)
        return try ModelLoader.load(path: path)
    }

    @Test func capitalOfFranceIsParis() throws {
        let loaded = try Self.defaultModel()
        #expect(loaded.info.architecture == "llama" && loaded.info.quantization == "Q4_1")
        var r = GenerationRequest(prompt: "The capital of France is")
        r.sampling = .greedy
        r.maxTokens = 12
        let result = try TextGenerator(loaded).generate(r)
        #expect(result.text.contains("Paris"), "got \(result.text.debugDescription)")
    }

    @Test func sameSeedReproducesTheSameText() throws {
        let generator = TextGenerator(try Self.defaultModel())
        var r = GenerationRequest(prompt: "Once upon a time")
        r.sampling.seed = 1234
        r.sampling.temperature = 0.9
        r.maxTokens = 20
        let a = try generator.generate(r), b = try generator.generate(r)
        #expect(a.tokens == b.tokens && a.text == b.text && a.seed == 1234)
    }

    @Test func stories260KTellsItsKnownStory() throws {
        let folder = Fixtures.shared("models/llama2c")
        let loaded = try ModelLoader.load(path: folder + "/stories260K.bin", tokenizerPath: folder + "/tok512.bin")
        var r = GenerationRequest(prompt: "")
        r.sampling = .greedy
        r.maxTokens = 256
        let expected = try String(contentsOfFile: Fixtures.fixture("llama2c/stories260K-greedy-256.txt"), encoding: .utf8)
        #expect(try TextGenerator(loaded).generate(r).text == expected)
    }
}
