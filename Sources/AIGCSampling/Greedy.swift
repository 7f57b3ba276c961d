// Greedy: the most likely token (lowest id on ties).

public enum Greedy {
    public static func pick(_ c: Candidates) -> Int {
        var best = 0
        for i in c.ids.indices.dropFirst() where c.logits[i] > c.logits[best] || (c.logits[i] == c.logits[best] && c.ids[i] < c.ids[best]) {
            best = i
        }
        return Int(c.ids[best])
    }

    /// Index of the largest value of a logits row.
    public static func argmax<C: Collection>(_ logits: C) -> Int where C.Element == Float, C.Index == Int {
        var best = logits.startIndex
        for i in logits.indices where logits[i] > logits[best] { best = i }
        return best - logits.startIndex
    }
}
