// The BPE merge loop shared by both tokenizer families: repeatedly merge the adjacent pair with the
// best priority (ties: leftmost), using a heap and a linked list so long words stay O(n log n).

enum BPEMerger {
    struct Candidate: Comparable {
        let priority: Double
        let left: Int
        let right: Int
        let leftVersion: Int
        let rightVersion: Int
        static func < (a: Candidate, b: Candidate) -> Bool {
            a.priority != b.priority ? a.priority < b.priority : a.left < b.left
        }
    }

    /// A min-heap of merge candidates.
    struct Heap {
        private var items: [Candidate] = []
        var isEmpty: Bool { items.isEmpty }
        mutating func push(_ c: Candidate) {
            items.append(c)
            var i = items.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                if items[i] < items[parent] { items.swapAt(i, parent); i = parent } else { break }
            }
        }
        mutating func pop() -> Candidate? {
            guard let top = items.first else { return nil }
            let last = items.removeLast()
            if !items.isEmpty {
                items[0] = last
                var i = 0
                while true {
                    let l = 2 * i + 1, r = l + 1
                    var m = i
                    if l < items.count && items[l] < items[m] { m = l }
                    if r < items.count && items[r] < items[m] { m = r }
                    if m == i { break }
                    items.swapAt(i, m)
                    i = m
                }
            }
            return top
        }
    }

    /// Merges symbols 0..<count. `lookup(left, right)` gives the priority (lower merges first) and
    /// merges by calling `apply(left, right)`, or nil when the pair does not merge.
    static func run(count: Int, lookup: (Int, Int) -> Double?, apply: (Int, Int) -> Void) -> [Int] {
        if count == 0 { return [] }
        var next = (0..<count).map { $0 + 1 < count ? $0 + 1 : -1 }
        var prev = (0..<count).map { $0 - 1 }
        var version = [Int](repeating: 0, count: count)
        var alive = [Bool](repeating: true, count: count)
        var heap = Heap()
        func consider(_ l: Int, _ r: Int) {
            guard l >= 0, r >= 0, let p = lookup(l, r) else { return }
            heap.push(Candidate(priority: p, left: l, right: r, leftVersion: version[l], rightVersion: version[r]))
        }
        for i in 0..<(count - 1) { consider(i, i + 1) }
        while let c = heap.pop() {
            guard alive[c.left], alive[c.right], next[c.left] == c.right,
                  version[c.left] == c.leftVersion, version[c.right] == c.rightVersion else { continue }
            apply(c.left, c.right)
            version[c.left] += 1
            alive[c.right] = false
            next[c.left] = next[c.right]
            if next[c.right] >= 0 { prev[next[c.right]] = c.left }
            consider(prev[c.left], c.left)
            consider(c.left, next[c.left])
        }
        var order: [Int] = []
        var i = 0
        while i >= 0 { order.append(i); i = next[i] }
        return order
    }

    /// Byte-level BPE over token ids.
    static func merge(_ ids: [Int32], lookup: (Int32, Int32) -> (Double, Int32)?) -> [Int32] {
        if ids.count < 2 { return ids }
        var symbols = ids
        let order = run(count: symbols.count, lookup: { l, r in lookup(symbols[l], symbols[r])?.0 }, apply: { l, r in
            symbols[l] = lookup(symbols[l], symbols[r])!.1
        })
        return order.map { symbols[$0] }
    }

    /// SentencePiece-style BPE over strings; leaves the final pieces in `pieces` and returns the token
    /// of each piece that came from a merge (nil for pieces that were never merged).
    static func mergeStrings(_ pieces: inout [String], lookup: (String, String) -> (Double, Int32)?) -> [Int32?] {
        var symbols = pieces
        var ids = [Int32?](repeating: nil, count: symbols.count)
        let order = run(count: symbols.count, lookup: { l, r in lookup(symbols[l], symbols[r])?.0 }, apply: { l, r in
            ids[l] = lookup(symbols[l], symbols[r])!.1
            symbols[l] += symbols[r]
        })
        pieces = order.map { symbols[$0] }
        return order.map { ids[$0] }
    }
}
