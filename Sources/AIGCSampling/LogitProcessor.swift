// LogitProcessor: one stage of the sampling pipeline (penalties -> top-k -> top-p -> min-p -> temperature).

/// What a stage may look at besides the candidates: the tokens generated so far (and the prompt).
public struct SamplingContext: Sendable {
    public var history: [Int]
    public init(history: [Int] = []) { self.history = history }
}

public protocol LogitProcessor: Sendable {
    func process(_ candidates: inout Candidates, context: SamplingContext)
}
