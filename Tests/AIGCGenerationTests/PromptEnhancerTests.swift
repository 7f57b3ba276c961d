// Prompt enhancement with the real default model: a short idea becomes a longer, single-line prompt
// that keeps the subject, the same idea gives the same rewrite, and replies are cleaned of labels.
@testable import AIGCGeneration
import AIGCTestSupport
import Foundation
import Testing

@Suite(.serialized) struct PromptEnhancerTests {
    @Test func rewritesAShortIdeaIntoALongerPromptReproducibly() throws {
        let loaded = try ChatSessionTests.defaultModel()
        let enhancer = PromptEnhancer(loaded, maxTokens: 64)
        let idea = "a red fox in the snow"
        let first = try enhancer.enhance(idea)
        #expect(first.count > idea.count + 20, "a detailed prompt: \(first)")
        #expect(first.lowercased().contains("fox"), "the subject survives: \(first)")
        #expect(!first.contains("\n"))
        #expect(try enhancer.enhance(idea) == first, "greedy: same idea, same prompt")
        #expect(throws: GenerationError.self) { try enhancer.enhance("   ") }
    }

    @Test func cleansLabelsQuotesAndLineBreaks() {
        #expect(PromptEnhancer.clean("Prompt: \"A fox,\n  snowy forest\"") == "A fox, snowy forest")
        #expect(PromptEnhancer.clean("  “misty harbour at dawn”  ") == "misty harbour at dawn")
        #expect(PromptEnhancer.clean("\n\n") == "")
    }
}
