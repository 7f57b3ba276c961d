// Temperature: divides logits by t (t < 1 sharpens, t > 1 flattens; t = 0 is handled as greedy).

public struct Temperature: LogitProcessor {
    public let t: Float
    public init(_ t: Float) { self.t = t }

    public func process(_ c: inout Candidates, context: SamplingContext) {
        guard t > 0, t != 1 else { return }
        for i in c.logits.indices { c.logits[i] /= t }
    }
}
