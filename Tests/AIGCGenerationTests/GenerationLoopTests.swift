// The generation loop on tiny models: stop strings across tokens, EOS, limits, seeds, log-probabilities,
// best-of-N, beam search against the numpy reference of Hugging Face's algorithm.
import AIGCGeneration
import AIGCSampling
import AIGCTestSupport
import Foundation
import Testing

func tinyGenerator(_ name: String = "llama") throws -> TextGenerator {
    TextGenerator(try ModelLoader.load(path: TinyModels.gguf(name)))
}

func request(_ tokens: [Int], maxTokens: Int = 24, _ configure: (inout GenerationRequest) -> Void = { _ in }) -> GenerationRequest {
    var r = GenerationRequest(prompt: "")
    r.promptTokens = tokens
    r.sampling = .greedy
    r.maxTokens = maxTokens
    configure(&r)
    return r
}

@Suite struct GenerationLoopTests {
    let reference: TinyReference

    init() throws { reference = try TinyModels.reference("llama") }

    @Test func stopStringSpanningTokensEndsTheText() throws {
        // Greedy continues with bytes 0x8A 'y' 'P' 'o' ...: one token per byte, so "Po" spans two tokens.
        #expect(Array(reference.greedy.prefix(4)) == [138, 121, 80, 111])
        var streamed = ""
        let result = try tinyGenerator().generate(request(reference.prompt) { $0.stop = ["Po"] }) { streamed += $0; return true }
        #expect(result.text == "\u{FFFD}y")
        #expect(streamed == result.text, "nothing past the stop string was streamed")
        #expect(result.finishReason == .stop)
    }

    @Test func maxTokensEndsWithLength() throws {
        let result = try tinyGenerator().generate(request(reference.prompt, maxTokens: 5))
        #expect(result.tokens == Array(reference.greedy.prefix(5)))
        #expect(result.finishReason == .length)
    }

    @Test func endOfSequenceStopsUnlessIgnored() throws {
        let generator = try tinyGenerator()
        let stopped = try generator.generate(request(reference.prompt) { $0.sampling.logitBias = [0: 100] })
        #expect(stopped.tokens.isEmpty && stopped.finishReason == .stop)
        let ignored = try generator.generate(request(reference.prompt, maxTokens: 3) { $0.sampling.logitBias = [0: 100]; $0.ignoreEOS = true })
        #expect(ignored.tokens == [0, 0, 0] && ignored.finishReason == .length)
    }

    @Test func promptLongerThanTheContextIsAnError() throws {
        let generator = try tinyGenerator()
        #expect(throws: GenerationError.promptTooLong(tokens: 128, context: 128)) {
            try generator.generate(request(Array(repeating: 65, count: 128)))
        }
        #expect(throws: GenerationError.emptyPrompt) { try generator.generate(request([])) }
        // Generation itself stops at the end of the context instead of failing.
        let result = try generator.generate(request(Array(repeating: 65, count: 120), maxTokens: 50))
        #expect(result.tokens.count == 8 && result.finishReason == .length)
    }

    @Test func sameSeedSameTextDifferentSeedDifferentText() throws {
        let generator = try tinyGenerator()
        func sample(_ seed: UInt64) throws -> [Int] {
            try generator.generate(request(reference.prompt, maxTokens: 16) {
                $0.sampling = SamplingParameters()
                $0.sampling.temperature = 1.5
                $0.sampling.topK = 0
                $0.sampling.minP = 0
                $0.sampling.seed = seed
            }).tokens
        }
        let a = try sample(42), b = try sample(42), c = try sample(43)
        #expect(a == b)
        #expect(a != c)
        #expect(a != reference.greedy.prefix(16).map { $0 }, "temperature 1.5 sampling is not greedy")
    }

    @Test func logprobsAreTheModelsLogSoftmax() throws {
        let result = try tinyGenerator().generate(request(reference.prompt, maxTokens: 3) { $0.logprobs = 5 })
        let logprobs = try #require(result.logprobs)
        #expect(logprobs.count == 3)
        // First generated token: log_softmax of the reference logits after the prompt.
        let last = reference.logits[reference.logits.count - 1]
        let m = last.max()!
        let normaliser = m + log(last.reduce(0) { $0 + exp($1 - m) })
        #expect(abs(logprobs[0].logprob - (last[reference.greedy[0]] - normaliser)) < 1e-3)
        for lp in logprobs {
            #expect(lp.top.count == 5)
            #expect(lp.top[0].token == lp.token, "greedy picks the top alternative")
            #expect(zip(lp.top, lp.top.dropFirst()).allSatisfy { $0.logprob >= $1.logprob })
            #expect(lp.top.reduce(0) { $0 + exp($1.logprob) } <= 1.0001)
        }
    }

    @Test func bestOfNKeepsTheHighestMeanLogprob() throws {
        let generator = try tinyGenerator()
        var base = request(reference.prompt, maxTokens: 8)
        base.sampling = SamplingParameters()
        base.sampling.temperature = 1.2
        base.sampling.seed = 7
        var best = base
        best.bestOf = 4
        let chosen = try generator.generate(best)
        var scores: [Double] = []
        for i in 0..<4 {
            var single = base
            single.sampling.seed = 7 + UInt64(i)
            single.logprobs = 0
            let r = try generator.generate(single)
            scores.append(Double(r.logprobs!.map(\.logprob).reduce(0, +)) / Double(r.logprobs!.count))
        }
        #expect(abs(try #require(chosen.score) - scores.max()!) < 1e-9)
        // A reranker replaces the default score.
        generator.reranker = { _, completion in -Double(completion.tokens.first ?? 0) }
        let reranked = try generator.generate(best)
        #expect(reranked.score != nil)
    }

    @Test func streamedTextEqualsTheResult() throws {
        var pieces: [String] = []
        let result = try tinyGenerator("gpt2").generate(request(reference.prompt, maxTokens: 12)) { pieces.append($0); return true }
        #expect(pieces.joined() == result.text)
        var count = 0
        let cancelled = try tinyGenerator("gpt2").generate(request(reference.prompt, maxTokens: 12)) { _ in count += 1; return count < 3 }
        #expect(cancelled.finishReason == .cancelled)
    }
}

@Suite struct BeamSearchTests {
    @Test func matchesTheReferenceImplementation() throws {
        let reference = try TinyModels.reference("gpt2")
        let generator = try tinyGenerator("gpt2")
        for beam in try #require(reference.beamSearch) {
            let result = try generator.generate(request(reference.prompt, maxTokens: beam.maxNew) {
                $0.beams = beam.beams
                $0.lengthPenalty = beam.lengthPenalty
                $0.earlyStopping = beam.earlyStopping
                $0.noRepeatNgramSize = beam.noRepeatNgram
            })
            #expect(result.tokens == beam.tokens, "beams \(beam.beams)")
            #expect(abs((result.score ?? 0) - beam.score) < 1e-3)
            #expect((result.finishReason == .stop) == beam.endedWithEOS)
        }
    }

    @Test func noRepeatNgramIsRespected() throws {
        let reference = try TinyModels.reference("gpt2")
        let result = try tinyGenerator("gpt2").generate(request(reference.prompt, maxTokens: 30) { $0.beams = 4; $0.noRepeatNgramSize = 2 })
        let sequence = reference.prompt + result.tokens
        var seen = Set<[Int]>()
        for i in 0..<(sequence.count - 1) { #expect(seen.insert([sequence[i], sequence[i + 1]]).inserted, "bigram at \(i) repeats") }
    }
}

@Suite struct JSONModeTests {
    @Test func outputIsAlwaysAJSONPrefixAndStopsWhenTheObjectCloses() throws {
        // The tiny model is random: only the constraint makes its output JSON.
        let reference = try TinyModels.reference("llama")
        for seed in 1...5 as ClosedRange<UInt64> {
            let result = try tinyGenerator().generate(request(reference.prompt, maxTokens: 60) {
                $0.jsonObject = true
                $0.sampling = SamplingParameters()
                $0.sampling.seed = seed
            })
            var grammar = JSONGrammar()
            let accepted = grammar.feed(Array(result.text.utf8))
            #expect(accepted, "seed \(seed): \(result.text.debugDescription)")
            if result.finishReason == .stop {
                #expect(grammar.complete)
                #expect(try JSONSerialization.jsonObject(with: Data(result.text.utf8)) is [String: Any])
            }
        }
    }

    @Test func theRealModelWritesParseableJSON() throws {
        let loaded = try ModelLoader.load(path: ModelStore().resolve(ModelCatalog.defaultModel).path)
        var r = GenerationRequest(prompt: "<|im_start|>user\nDescribe Paris as a JSON object with keys name and country.<|im_end|>\n<|im_start|>assistant\n")
        r.jsonObject = true
        r.sampling = .greedy
        r.maxTokens = 80
        let result = try TextGenerator(loaded).generate(r)
        #expect(result.finishReason == .stop, "\(result.text)")
        #expect(try JSONSerialization.jsonObject(with: Data(result.text.utf8)) is [String: Any], "\(result.text)")
    }
}
