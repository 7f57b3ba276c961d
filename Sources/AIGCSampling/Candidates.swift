// Candidates: the token ids still in play and their logits, narrowed stage by stage.

public struct Candidates: Sendable {
    public var ids: [Int32]
    public var logits: [Float]
    /// True when ids are ordered by descending logit.
    public var sorted: Bool

    /// Every token of the vocabulary with its logit.
    public init<C: Collection>(logits values: C) where C.Element == Float {
        logits = Array(values)
        ids = (0..<Int32(logits.count)).map { $0 }
        sorted = false
    }

    public init(ids: [Int32], logits: [Float], sorted: Bool = false) {
        self.ids = ids
        self.logits = logits
        self.sorted = sorted
    }

    public var count: Int { ids.count }

    /// Orders by descending logit (ties: lower id first, so results are deterministic).
    public mutating func sortDescending() {
        if sorted { return }
        let order = ids.indices.sorted { logits[$0] != logits[$1] ? logits[$0] > logits[$1] : ids[$0] < ids[$1] }
        ids = order.map { ids[$0] }
        logits = order.map { logits[$0] }
        sorted = true
    }

    /// Keeps the first `n` (after sorting).
    public mutating func keepFirst(_ n: Int) {
        sortDescending()
        if n < count {
            ids.removeSubrange(n...)
            logits.removeSubrange(n...)
        }
    }

    /// Softmax of the current logits (same order as ids).
    public func probabilities() -> [Float] {
        guard let maxLogit = logits.max(), maxLogit > -.infinity else { return Array(repeating: 1 / Float(max(1, count)), count: count) }
        var p = logits.map { expf($0 - maxLogit) }
        let sum = p.reduce(0, +)
        for i in p.indices { p[i] /= sum }
        return p
    }

    /// Drops tokens whose logit is -infinity (banned), keeping at least one.
    public mutating func dropBanned() {
        let keep = ids.indices.filter { logits[$0] > -.infinity }
        if keep.isEmpty || keep.count == count { return }
        ids = keep.map { ids[$0] }
        logits = keep.map { logits[$0] }
    }
}

#if canImport(Glibc)
import Glibc
#endif
