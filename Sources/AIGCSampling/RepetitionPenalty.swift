// Penalties on tokens seen in the last `window` tokens: CTRL's repetition penalty (divide positive
// logits, multiply negative ones) and OpenAI's presence/frequency penalties, as llama.cpp applies them.

public struct RepetitionPenalty: LogitProcessor {
    public let repetition: Float
    public let presence: Float
    public let frequency: Float
    /// How many of the latest tokens count (0: none, -1: all).
    public let window: Int

    public init(repetition: Float = 1, presence: Float = 0, frequency: Float = 0, window: Int = 64) {
        self.repetition = repetition
        self.presence = presence
        self.frequency = frequency
        self.window = window
    }

    public var isIdentity: Bool { (repetition == 1 && presence == 0 && frequency == 0) || window == 0 }

    public func process(_ c: inout Candidates, context: SamplingContext) {
        if isIdentity { return }
        let recent = window < 0 ? context.history[...] : context.history.suffix(window)
        var counts: [Int32: Int] = [:]
        for t in recent { counts[Int32(t), default: 0] += 1 }
        if counts.isEmpty { return }
        for i in c.ids.indices {
            guard let n = counts[c.ids[i]] else { continue }
            var l = c.logits[i]
            l = l > 0 ? l / repetition : l * repetition
            l -= Float(n) * frequency + presence
            c.logits[i] = l
        }
        c.sorted = false
    }
}
