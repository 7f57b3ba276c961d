// The real models: the default SmolLM2 (fetched by `make test` with `aigc pull`) and llama2.c's stories260K.
import AIGCGeneration
import AIGCKernels
import CKernels
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

    /// Greedy output of the real model is the same on the portable kernels (row-major weights, scalar
    /// C) and the fast ones (AVX2, weights interleaved four rows at a time). One thread, so that the
    /// test thread's SIMD level governs every kernel. The float sums differ in order, so a near-tie
    /// can flip a token (seen on "Once upon a time" after 4 tokens); these prompts have none.
    @Test func greedyOutputIsTheSameOnThePortableAndTheFastKernels() throws {
        guard aigc_cpu_simd_level() >= AIGC_SIMD_AVX2.rawValue else { return }
        let (path, _) = try ModelStore().resolve(ModelCatalog.defaultModel)
        let prompts = ["<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
                       + "<|im_start|>user\nName the capital of France.<|im_end|>\n<|im_start|>assistant\n", "def fibonacci(n):"]
        var outputs: [[[Int]]] = []
        for level in [AIGC_SIMD_SCALAR, AIGC_SIMD_AVX2] {
            defer { aigc_set_simd_level(aigc_cpu_simd_level()) }
            aigc_set_simd_level(Int32(level.rawValue))
            let generator = TextGenerator(try ModelLoader.load(path: path, pool: ComputePool(threads: 1)))
            var tokens: [[Int]] = []
            for prompt in prompts {
                var r = GenerationRequest(prompt: prompt)
                r.sampling = .greedy
                r.maxTokens = 16
                tokens.append(try generator.generate(r).tokens)
            }
            outputs.append(tokens)
        }
        #expect(outputs[0] == outputs[1])
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
