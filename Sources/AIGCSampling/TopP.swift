// TopP (nucleus): keeps the smallest set of most likely tokens whose probabilities sum to at least p.

public struct TopP: LogitProcessor {
    public let p: Float
    public let minimumKeep: Int
    public init(_ p: Float, minimumKeep: Int = 1) {
        self.p = p
        self.minimumKeep = minimumKeep
    }

    public func process(_ c: inout Candidates, context: SamplingContext) {
        guard p < 1, c.count > 1 else { return }
        c.sortDescending()
        let probabilities = c.probabilities()
        var cumulative: Float = 0
        var keep = c.count
        for (i, q) in probabilities.enumerated() {
            cumulative += q
            if cumulative >= p && i + 1 >= minimumKeep {
                keep = i + 1
                break
            }
        }
        c.keepFirst(keep)
    }
}
