// Sampler: the configured pipeline of stages plus the final draw, in llama.cpp's default order:
// logit bias -> penalties -> top-k -> top-p -> min-p -> temperature -> draw (or argmax at t = 0).

/// Every knob of token selection. Defaults follow llama.cpp's (temperature 0.8, top-k 40,
/// top-p 0.95, min-p 0.05, no repetition penalty).
public struct SamplingParameters: Sendable, Codable, Equatable {
    public var temperature: Float = 0.8
    public var topK: Int = 40
    public var topP: Float = 0.95
    public var minP: Float = 0.05
    public var repeatPenalty: Float = 1.0
    public var repeatLastN: Int = 64
    public var presencePenalty: Float = 0
    public var frequencyPenalty: Float = 0
    public var logitBias: [Int: Float] = [:]
    /// nil: a random seed (reported back with the result so the run can be repeated).
    public var seed: UInt64?

    public init() {}

    /// Greedy decoding (temperature 0).
    public static var greedy: SamplingParameters {
        var p = SamplingParameters()
        p.temperature = 0
        return p
    }

    public var isGreedy: Bool { temperature <= 0 }

    /// Checks ranges; returns a message naming the bad parameter, or nil.
    public func problem() -> String? {
        if !(temperature >= 0) || !temperature.isFinite { return "temperature must be >= 0 (got \(temperature))" }
        if topK < 0 { return "top-k must be >= 0 (got \(topK))" }
        if !(topP > 0 && topP <= 1) { return "top-p must be in (0, 1] (got \(topP))" }
        if !(minP >= 0 && minP <= 1) { return "min-p must be in [0, 1] (got \(minP))" }
        if !(repeatPenalty > 0) || !repeatPenalty.isFinite { return "repeat penalty must be > 0 (got \(repeatPenalty))" }
        if repeatLastN < -1 { return "repeat-last-n must be >= -1 (got \(repeatLastN))" }
        if !presencePenalty.isFinite || !frequencyPenalty.isFinite { return "penalties must be finite numbers" }
        return nil
    }
}

/// Picks tokens from logits. Stateful only through its random generator.
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    public private(set) var random: SeededRandom
    let stages: [any LogitProcessor]

    public init(_ parameters: SamplingParameters, seed: UInt64) {
        self.parameters = parameters
        random = SeededRandom(seed: seed)
        var stages: [any LogitProcessor] = [LogitBias(parameters.logitBias)]
        let penalty = RepetitionPenalty(repetition: parameters.repeatPenalty, presence: parameters.presencePenalty,
                                        frequency: parameters.frequencyPenalty, window: parameters.repeatLastN)
        if !penalty.isIdentity { stages.append(penalty) }
        if !parameters.isGreedy {
            stages.append(TopK(parameters.topK))
            stages.append(TopP(parameters.topP))
            stages.append(MinP(parameters.minP))
            stages.append(Temperature(parameters.temperature))
        }
        self.stages = stages
    }

    /// The candidates after every stage (what the draw chooses from).
    public func candidates(_ logits: ArraySlice<Float>, context: SamplingContext) -> Candidates {
        var c = Candidates(logits: logits)
        for stage in stages { stage.process(&c, context: context) }
        return c
    }

    /// Chooses the next token.
    public mutating func sample(_ logits: ArraySlice<Float>, context: SamplingContext) -> Int {
        let c = candidates(logits, context: context)
        if parameters.isGreedy { return Greedy.pick(c) }
        return draw(c)
    }

    /// Chooses the next token among those `allowed` admits (constrained decoding). When no candidate
    /// left by the truncation stages is allowed, the most likely allowed token of the whole vocabulary
    /// is taken.
    public mutating func sample(_ logits: ArraySlice<Float>, context: SamplingContext, allowed: (Int) -> Bool) -> Int {
        var c = candidates(logits, context: context)
        let keep = c.ids.indices.filter { allowed(Int(c.ids[$0])) }
        if !keep.isEmpty {
            c = Candidates(ids: keep.map { c.ids[$0] }, logits: keep.map { c.logits[$0] }, sorted: c.sorted)
            return parameters.isGreedy ? Greedy.pick(c) : draw(c)
        }
        let order = logits.indices.sorted { logits[$0] > logits[$1] }
        return (order.first { allowed($0 - logits.startIndex) } ?? order[0]) - logits.startIndex
    }

    /// A weighted random draw from the candidates' softmax.
    public mutating func draw(_ c: Candidates) -> Int {
        let p = c.probabilities()
        let u = random.nextUnit()
        var cumulative: Float = 0
        for (i, q) in p.enumerated() {
            cumulative += q
            if u < cumulative { return Int(c.ids[i]) }
        }
        return Int(c.ids[c.count - 1])
    }
}
