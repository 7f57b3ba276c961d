// MinP: keeps tokens whose probability is at least p times that of the most likely token.

public struct MinP: LogitProcessor {
    public let p: Float
    public init(_ p: Float) { self.p = p }

    public func process(_ c: inout Candidates, context: SamplingContext) {
        guard p > 0, c.count > 1, let maxLogit = c.logits.max() else { return }
        // p_i >= p * p_max  <=>  logit_i >= logit_max + log(p)
        let threshold = maxLogit + logf(p)
        let keep = c.ids.indices.filter { c.logits[$0] >= threshold }
        c = Candidates(ids: keep.map { c.ids[$0] }, logits: keep.map { c.logits[$0] }, sorted: c.sorted)
    }
}

#if canImport(Glibc)
import Glibc
#endif
