// Prompt-lookup decoding: drafts come from the context, and the output is exactly that of plain decoding.
import AIGCGeneration
import AIGCSampling
import AIGCTestSupport
import Foundation
import Testing

@Suite struct PromptLookupTests {
    @Test func draftsFollowTheMostRecentEarlierMatch() {
        #expect(PromptLookup.draft([1, 2, 3, 9, 9, 1, 2, 3], count: 3) == [9, 9, 1])
        #expect(PromptLookup.draft([5, 1, 2, 7, 1, 2, 8, 1, 2], count: 2) == [8, 1], "most recent occurrence wins")
        #expect(PromptLookup.draft([4, 5, 6, 7], count: 3) == [], "no repeated suffix")
        #expect(PromptLookup.draft([3, 1, 3], count: 5) == [1, 3], "falls back to a 1-gram")
        #expect(PromptLookup.draft([1, 2, 1, 2], count: 0) == [])
    }

    @Test(arguments: [0.0 as Float, 0.9])
    func outputIsUnchangedOnTinyModels(_ temperature: Float) throws {
        let generator = TextGenerator(try ModelLoader.load(path: TinyModels.gguf("gpt2")))
        let reference = try TinyModels.reference("gpt2")
        for lookup in [1, 4, 10] {
            var r = GenerationRequest(prompt: "")
            r.promptTokens = reference.prompt + reference.prompt
            r.sampling = temperature == 0 ? .greedy : SamplingParameters()
            r.sampling.temperature = temperature
            r.sampling.seed = 11
            r.maxTokens = 40
            r.logprobs = 2
            let plain = try generator.generate(r)
            r.lookup = lookup
            let fast = try generator.generate(r)
            #expect(fast.tokens == plain.tokens, "lookup \(lookup), temperature \(temperature)")
            // A batched verification step may sum in another order than single steps: last-bit differences.
            let a = fast.logprobs?.map(\.logprob) ?? [], b = plain.logprobs?.map(\.logprob) ?? []
            #expect(a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) < 1e-4 })
            #expect(fast.finishReason == plain.finishReason)
        }
    }

    @Test func realModelGreedyOutputIsUnchangedAndStepsAreFewer() throws {
        let (path, _) = try ModelStore().resolve(ModelCatalog.defaultModel)
        let generator = TextGenerator(try ModelLoader.load(path: path))
        let text = "The quick brown fox jumps over the lazy dog. The five boxing wizards jump quickly."
        var r = GenerationRequest(prompt: "<|im_start|>user\nRepeat exactly: \(text)<|im_end|>\n<|im_start|>assistant\n")
        r.sampling = .greedy
        r.maxTokens = 40
        let plain = try generator.generate(r)
        r.lookup = 8
        let fast = try generator.generate(r)
        #expect(fast.tokens == plain.tokens)
        #expect(fast.text == plain.text)
    }
}
