// TokenTable: token text -> id, keyed by a 64-bit FNV-1a hash of the UTF-8 bytes. Swift's String
// hashing normalises Unicode first, which made building a 49k-merge table take 25 ms; this table
// compares bytes (every hit is verified, colliding tokens go to an exact fallback dictionary).

struct TokenTable: Sendable {
    private var index: [UInt64: Int32] = [:]
    private var collisions: [String: Int32] = [:]
    /// All token texts' UTF-8, back to back; token i is bytes[offsets[i]..<offsets[i + 1]].
    private let bytes: [UInt8]
    private let offsets: [Int32]

    init(_ tokens: [String]) {
        var bytes: [UInt8] = []
        var offsets: [Int32] = [0]
        bytes.reserveCapacity(tokens.count * 6)
        offsets.reserveCapacity(tokens.count + 1)
        for t in tokens {
            bytes.append(contentsOf: t.utf8)
            offsets.append(Int32(bytes.count))
        }
        self.bytes = bytes
        self.offsets = offsets
        index.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() {
            let h = TokenTable.hash(t.utf8)
            if let existing = index[h] {
                // Same hash: keep the first id of identical text, send a different text to the exact dictionary.
                if !equal(Int(existing), t.utf8), collisions[t] == nil { collisions[t] = Int32(i) }
            } else {
                index[h] = Int32(i)
            }
        }
    }

    static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325

    @inline(__always) static func hash<C: Sequence>(_ utf8: C, seed: UInt64 = offsetBasis) -> UInt64 where C.Element == UInt8 {
        var h = seed
        for b in utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    private func equal<C: Collection>(_ id: Int, _ utf8: C) -> Bool where C.Element == UInt8 {
        let start = Int(offsets[id]), end = Int(offsets[id + 1])
        return end - start == utf8.count && bytes[start..<end].elementsEqual(utf8)
    }

    /// The id of the token whose text is `utf8`.
    func id<C: Collection>(utf8: C) -> Int32? where C.Element == UInt8 {
        if let i = index[TokenTable.hash(utf8)], equal(Int(i), utf8) { return i }
        return collisions.isEmpty ? nil : collisions[String(decoding: utf8, as: UTF8.self)]
    }

    func id(_ text: String) -> Int32? { id(utf8: text.utf8) }

    /// The id of the token spelled `left` followed by `right`, without building the joined text.
    func id<C: Collection>(joining left: C, _ right: C) -> Int32? where C.Element == UInt8 {
        let h = TokenTable.hash(right, seed: TokenTable.hash(left))
        if let i = index[h] {
            let start = Int(offsets[Int(i)]), end = Int(offsets[Int(i) + 1])
            if end - start == left.count + right.count && bytes[start..<(start + left.count)].elementsEqual(left)
                && bytes[(start + left.count)..<end].elementsEqual(right) {
                return i
            }
        }
        return collisions.isEmpty ? nil : collisions[String(decoding: Array(left) + Array(right), as: UTF8.self)]
    }
}
