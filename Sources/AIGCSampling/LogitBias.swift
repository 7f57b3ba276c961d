// LogitBias: adds a fixed bias to chosen tokens (-infinity bans a token), as OpenAI's logit_bias.

public struct LogitBias: LogitProcessor {
    public let bias: [Int: Float]
    public init(_ bias: [Int: Float]) { self.bias = bias }

    public func process(_ c: inout Candidates, context: SamplingContext) {
        if bias.isEmpty { return }
        for i in c.ids.indices { if let b = bias[Int(c.ids[i])] { c.logits[i] += b } }
        c.sorted = false
        c.dropBanned()
    }
}
