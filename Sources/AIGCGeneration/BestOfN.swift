// Best-of-N: draw N completions with consecutive seeds and keep the one a reranker scores highest —
// by default the mean log-probability of its tokens; a safety or quality classifier can replace it.

/// Scores a finished completion (higher is better); nil rejects it.
public typealias CompletionReranker = @Sendable (_ prompt: String, _ completion: GenerationResult) -> Double?

extension TextGenerator {
    /// Mean log-probability of the completion's tokens under the model.
    public static let meanLogprobReranker: CompletionReranker = { _, completion in completion.score }

    func bestOfN(_ request: GenerationRequest, onText: (String) -> Bool) throws -> GenerationResult {
        let seed = request.sampling.seed ?? SeededRandom.randomSeed()
        var single = request
        single.bestOf = 1
        if single.logprobs == nil { single.logprobs = 0 }
        var best: (GenerationResult, Double)?
        for i in 0..<request.bestOf {
            let candidate = try sample(single, seed: seed &+ UInt64(i), onText: { _ in true })
            guard let score = reranker(request.prompt, candidate) else { continue }
            if best == nil || score > best!.1 { best = (candidate, score) }
        }
        guard var (result, score) = best else { throw GenerationError.invalidParameter("the reranker rejected all \(request.bestOf) candidates") }
        result.score = score
        if request.logprobs == nil { result.logprobs = nil }
        _ = onText(result.text)
        return result
    }
}

import AIGCSampling
