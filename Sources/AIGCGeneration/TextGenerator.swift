// TextGenerator: the autoregressive loop — tokenize, prefill in chunks, then sample one token per
// step, streaming text as it completes; stops at end-of-sequence, a stop string, or the token limit.
// After mlx-swift-examples' TokenIterator (Libraries/MLXLMCommon/Evaluate.swift @ b071763).
import AIGCLayers
import AIGCModels
import AIGCSampling
import AIGCTokenizers
import Foundation

public final class TextGenerator: @unchecked Sendable {
    public let loaded: LoadedModel
    /// Prompt tokens per forward step during prefill (bounds the activation memory).
    public var prefillChunk = 512
    /// Ranks best-of-N candidates (default: mean token log-probability).
    public var reranker: CompletionReranker = TextGenerator.meanLogprobReranker

    public init(_ loaded: LoadedModel) { self.loaded = loaded }

    var model: any TextModel { loaded.model }
    var tokenizer: Tokenizer { loaded.tokenizer }

    /// Generates a completion. `onText` receives text as it becomes final; return false to stop.
    /// With a `PromptCache`, the longest prefix the cache already holds is not evaluated again
    /// (multi-turn chat), and the cache keeps this turn for the next one.
    public func generate(_ request: GenerationRequest, cache reuse: PromptCache? = nil, onText: (String) -> Bool = { _ in true }) throws -> GenerationResult {
        if let problem = request.sampling.problem() { throw GenerationError.invalidParameter(problem) }
        guard request.beams >= 1, request.bestOf >= 1, request.maxTokens.map({ $0 >= 0 }) ?? true, request.noRepeatNgramSize >= 0 else {
            throw GenerationError.invalidParameter("beams, best-of and max tokens must be positive")
        }
        if let n = request.logprobs, n < 0 || n > 20 { throw GenerationError.invalidParameter("logprobs must be 0...20 (got \(n))") }
        if request.beams > 1 { return try beamSearch(request, onText: onText) }
        if request.bestOf > 1 { return try bestOfN(request, onText: onText) }
        return try sample(request, seed: request.sampling.seed ?? SeededRandom.randomSeed(), reuse: reuse, onText: onText)
    }

    /// The prompt's token ids, checked against the context.
    public func promptTokens(_ request: GenerationRequest) throws -> [Int] {
        let tokens = request.promptTokens ?? tokenizer.encode(request.prompt, addSpecial: request.addSpecial, parseSpecial: request.parseSpecial)
        if tokens.isEmpty { throw GenerationError.emptyPrompt }
        if tokens.count >= model.contextLength { throw GenerationError.promptTooLong(tokens: tokens.count, context: model.contextLength) }
        return tokens
    }

    /// Runs the prompt through the model in chunks; returns the logits after its last token.
    func prefill(_ tokens: [Int], cache: KVCache, sequence: Int = 0, start: Int = 0) throws -> [Float] {
        var logits: [Float] = []
        var offset = 0
        while offset < tokens.count {
            let chunk = Array(tokens[offset..<min(tokens.count, offset + prefillChunk)])
            let isLast = offset + chunk.count == tokens.count
            var batch = TokenBatch.prompt(chunk, startingAt: start + offset, sequence: sequence)
            if !isLast { batch.wantsLogits = Array(repeating: false, count: chunk.count) }
            let out = try model.forward(batch, cache: cache)
            if isLast { logits = out.values }
            offset += chunk.count
        }
        return logits
    }

    func sample(_ request: GenerationRequest, seed: UInt64, reuse: PromptCache? = nil, onText: (String) -> Bool) throws -> GenerationResult {
        let prompt = try promptTokens(request)
        let cache = reuse?.cache ?? model.makeCache(sequences: 1, contextLength: nil)
        // Keep what the cache already holds of this prompt, but evaluate at least its last token.
        let kept = min(reuse?.commonPrefix(with: prompt) ?? 0, prompt.count - 1)
        cache.truncate(sequence: 0, to: kept)
        // Until this call succeeds the cache's contents are unknown (a throw leaves it empty, which is safe).
        reuse?.tokens = []
        var clock = Stopwatch()
        let logits = try prefill(Array(prompt[kept...]), cache: cache, start: kept)
        let promptMs = clock.lap()

        var state = DecodeState(request: request, prompt: prompt, tokenizer: tokenizer, contextLength: model.contextLength, seed: seed)
        let emit: (String, TokenLogprob?) -> Bool = { piece, _ in piece.isEmpty || onText(piece) }
        // Rows of logits still to sample from: one per position of the last forward step; with
        // prompt lookup, row i + 1 is valid only if the token sampled from row i equals draft[i].
        var rows: [ArraySlice<Float>] = [logits[...]]
        var draft: [Int] = []
        var position = prompt.count - 1
        var validPrefix = prompt.count
        while !state.isFinished {
            var last = -1
            for (i, row) in rows.enumerated() {
                validPrefix = position + 1 + i
                guard let token = state.accept(row, emit: emit), !state.isFinished else { break }
                last = token
                if i >= draft.count || token != draft[i] { break }
            }
            if state.isFinished { break }
            // The cache keeps the positions before `last`; `last` and a new draft follow it.
            position = prompt.count + state.generated.count - 1
            cache.truncate(sequence: 0, to: position)
            let room = min(state.limit - state.generated.count - 1, model.contextLength - position - 1)
            draft = request.lookup > 0 ? PromptLookup.draft(state.history, count: min(request.lookup, room)) : []
            let out = try model.forward(TokenBatch.prompt([last] + draft, startingAt: position, allLogits: true), cache: cache)
            rows = (0..<out.rows).map { out.row($0) }
        }
        let generationMs = clock.lap()
        reuse?.tokens = Array((prompt + state.generated).prefix(validPrefix))
        let generated = state.generated
        let timings = GenerationTimings(loadMs: loaded.loadMilliseconds, promptMs: promptMs,
                                        promptTokensPerSecond: Double(prompt.count - kept) / max(promptMs, 1e-9) * 1000,
                                        generationMs: generationMs,
                                        generationTokensPerSecond: Double(max(generated.count, 1)) / max(generationMs, 1e-9) * 1000)
        let mean = state.logprobs.isEmpty ? nil : Double(state.logprobs.map(\.logprob).reduce(0, +)) / Double(state.logprobs.count)
        return GenerationResult(text: state.text, tokens: generated, promptTokens: prompt, logprobs: request.logprobs == nil ? nil : state.logprobs,
                                finishReason: state.finish ?? .length, seed: seed, timings: timings, score: mean, cachedPromptTokens: kept)
    }

    /// log softmax(logits)[token] and the `top` most likely alternatives.
    static func logprob(of token: Int, in logits: ArraySlice<Float>, top: Int, tokenizer: Tokenizer) -> TokenLogprob {
        let normaliser = logSumExp(logits)
        var best: [(Int, Float)] = []
        let base = logits.startIndex
        if top > 0 {
            for (i, l) in logits.enumerated() where best.count < top || l > best[best.count - 1].1 {
                let at = best.firstIndex { l > $0.1 } ?? best.count
                best.insert((i, l), at: at)
                if best.count > top { best.removeLast() }
            }
        }
        return TokenLogprob(token: token, text: tokenizer.piece(token), logprob: logits[base + token] - normaliser,
                            top: best.map { TokenAlternative(token: $0.0, text: tokenizer.piece($0.0), logprob: $0.1 - normaliser) })
    }

    static func logSumExp<C: Collection>(_ values: C) -> Float where C.Element == Float {
        guard let m = values.max(), m > -.infinity else { return -.infinity }
        var sum: Double = 0
        for v in values { sum += Double(expf(v - m)) }
        return m + Float(log(sum))
    }
}

/// Milliseconds between laps.
struct Stopwatch {
    private var last = DispatchTime.now().uptimeNanoseconds
    mutating func lap() -> Double {
        let now = DispatchTime.now().uptimeNanoseconds
        defer { last = now }
        return Double(now - last) / 1e6
    }
}
