// Beam search with Hugging Face transformers' semantics (generation/beam_search.py, v4.46): 2×beams
// candidates per step, finished hypotheses scored sum_logprobs / generated_length^length_penalty,
// early stopping, and the no-repeat-n-gram ban.
import AIGCLayers
import AIGCModels
import AIGCSampling

/// The finished hypotheses of one beam search (HF's BeamHypotheses).
struct BeamHypotheses {
    let beams: Int
    let lengthPenalty: Double
    let earlyStopping: Bool
    private(set) var items: [(score: Double, tokens: [Int], endedWithEOS: Bool)] = []
    private var worst = 1e9

    init(beams: Int, lengthPenalty: Double, earlyStopping: Bool) {
        self.beams = beams
        self.lengthPenalty = lengthPenalty
        self.earlyStopping = earlyStopping
    }

    mutating func add(_ tokens: [Int], sumLogprobs: Double, generatedLength: Int, endedWithEOS: Bool) {
        let score = sumLogprobs / pow(Double(max(generatedLength, 1)), lengthPenalty)
        guard items.count < beams || score > worst else { return }
        items.append((score, tokens, endedWithEOS))
        if items.count > beams {
            let worstIndex = items.indices.min { items[$0].score < items[$1].score }!
            items.remove(at: worstIndex)
            worst = items.map(\.score).min()!
        } else {
            worst = min(score, worst)
        }
    }

    func isDone(bestSumLogprobs: Double, generatedLength: Int) -> Bool {
        if items.count < beams { return false }
        if earlyStopping { return true }
        return worst >= bestSumLogprobs / pow(Double(max(generatedLength, 1)), lengthPenalty)
    }

    /// The highest score; among equal scores the one added last (as Python's sorted(...).pop()).
    var best: (score: Double, tokens: [Int], endedWithEOS: Bool)? {
        items.indices.max { items[$0].score < items[$1].score || (items[$0].score == items[$1].score && $0 < $1) }.map { items[$0] }
    }
}

extension TextGenerator {
    func beamSearch(_ request: GenerationRequest, onText: (String) -> Bool) throws -> GenerationResult {
        let prompt = try promptTokens(request)
        let B = request.beams
        let cache = model.makeCache(sequences: 2 * B, contextLength: nil)
        var clock = Stopwatch()
        let first = try prefill(prompt, cache: cache, sequence: 0)
        let promptMs = clock.lap()
        var slots = [0]
        var spare = Array((1..<(2 * B)).reversed())
        for _ in 1..<B { let s = spare.removeLast(); cache.copy(from: 0, to: s); slots.append(s) }
        var tokens = [[Int]](repeating: [], count: B)
        var scores = [0.0] + [Double](repeating: -1e9, count: B - 1)
        var logits = [[Float]](repeating: first, count: B)
        var hypotheses = BeamHypotheses(beams: B, lengthPenalty: Double(request.lengthPenalty), earlyStopping: request.earlyStopping)
        let eos = request.ignoreEOS ? [] : tokenizer.stopTokens
        let maxNew = min(request.maxTokens ?? Int.max, model.contextLength - prompt.count)
        var done = false
        var step = 0
        while step < maxNew {
            // The 2B best (beam, token) continuations by total log-probability.
            var candidates: [(score: Double, beam: Int, token: Int)] = []
            for b in 0..<B {
                var lp = logSoftmax(logits[b])
                if request.noRepeatNgramSize > 0 {
                    for t in bannedNgramTokens(prompt + tokens[b], n: request.noRepeatNgramSize) { lp[t] = -.infinity }
                }
                for (v, l) in lp.enumerated() where l > -.infinity {
                    let s = scores[b] + l
                    if candidates.count < 2 * B || s > candidates[candidates.count - 1].score {
                        let at = candidates.firstIndex { s > $0.score } ?? candidates.count
                        candidates.insert((s, b, v), at: at)
                        if candidates.count > 2 * B { candidates.removeLast() }
                    }
                }
            }
            var next: [(score: Double, beam: Int, token: Int)] = []
            for (rank, c) in candidates.enumerated() {
                if eos.contains(c.token) {
                    if rank < B { hypotheses.add(tokens[c.beam], sumLogprobs: c.score, generatedLength: step + 1, endedWithEOS: true) }
                } else {
                    next.append(c)
                }
                if next.count == B { break }
            }
            step += 1
            done = hypotheses.isDone(bestSumLogprobs: candidates.first?.score ?? -.infinity, generatedLength: step)
            if done || next.count < B { done = true; break }
            slots = reorder(cache: cache, slots: slots, parents: next.map(\.beam), spare: &spare, length: prompt.count + step - 1)
            tokens = next.map { tokens[$0.beam] + [$0.token] }
            scores = next.map(\.score)
            if step == maxNew { break }
            let batch = TokenBatch(tokens: next.map(\.token), positions: Array(repeating: prompt.count + step - 1, count: B),
                                   sequences: slots, wantsLogits: Array(repeating: true, count: B))
            let out = try model.forward(batch, cache: cache)
            logits = (0..<B).map { Array(out.row($0)) }
        }
        if !done {
            for b in 0..<B { hypotheses.add(tokens[b], sumLogprobs: scores[b], generatedLength: tokens[b].count, endedWithEOS: false) }
        }
        let best = hypotheses.best ?? (0, [], false)
        let text = tokenizer.decode(best.tokens)
        _ = onText(text)
        let generationMs = clock.lap()
        let timings = GenerationTimings(loadMs: loaded.loadMilliseconds, promptMs: promptMs,
                                        promptTokensPerSecond: Double(prompt.count) / max(promptMs, 1e-9) * 1000, generationMs: generationMs,
                                        generationTokensPerSecond: Double(step * B) / max(generationMs, 1e-9) * 1000)
        return GenerationResult(text: text, tokens: best.tokens, promptTokens: prompt, logprobs: nil,
                                finishReason: best.endedWithEOS ? .stop : .length, seed: 0, timings: timings, score: best.score)
    }

    /// Gives each new beam the cache of its parent: the first child takes the parent's slot, others
    /// get a copy in a free slot; slots of parents without children are freed.
    private func reorder(cache: KVCache, slots: [Int], parents: [Int], spare: inout [Int], length: Int) -> [Int] {
        var taken = Set<Int>()
        var result = [Int](repeating: -1, count: parents.count)
        for (i, p) in parents.enumerated() where !taken.contains(p) {
            taken.insert(p)
            result[i] = slots[p]
        }
        for (i, p) in parents.enumerated() where result[i] < 0 {
            let s = spare.removeLast()
            cache.copy(from: slots[p], to: s, count: length)
            result[i] = s
        }
        for (b, slot) in slots.enumerated() where !taken.contains(b) {
            cache.truncate(sequence: slot, to: 0)
            spare.append(slot)
        }
        return result
    }

    func logSoftmax(_ logits: [Float]) -> [Double] {
        let normaliser = Double(TextGenerator.logSumExp(logits))
        return logits.map { Double($0) - normaliser }
    }

    /// Tokens that would repeat an n-gram already in `sequence` (HF NoRepeatNGramLogitsProcessor).
    func bannedNgramTokens(_ sequence: [Int], n: Int) -> [Int] {
        guard n > 0, sequence.count + 1 >= n else { return [] }
        if n == 1 { return Array(Set(sequence)) }
        let prefix = Array(sequence.suffix(n - 1))
        var banned: [Int] = []
        for i in 0...(sequence.count - n) where Array(sequence[i..<(i + n - 1)]) == prefix { banned.append(sequence[i + n - 1]) }
        return banned
    }
}

#if canImport(Glibc)
import Glibc
#endif
