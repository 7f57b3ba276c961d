// Finds the text of special and added tokens in raw text before the tokenizer proper runs
// (llama.cpp's tokenizer_st_partition): user-defined tokens always, control tokens on request.

struct SpecialTokenMatcher: Sendable {
    enum Fragment { case text(Substring), token(Int) }

    /// Candidate tokens by their first UTF-8 byte, longest first.
    private let byFirstByte: [UInt8: [(bytes: [UInt8], id: Int, control: Bool)]]

    init(vocabulary v: Vocabulary) {
        var table: [UInt8: [(bytes: [UInt8], id: Int, control: Bool)]] = [:]
        for (id, type) in v.types.enumerated() where type == .control || type == .userDefined || type == .unknown {
            let bytes = Array(v.tokens[id].utf8)
            guard let first = bytes.first else { continue }
            table[first, default: []].append((bytes, id, type != .userDefined))
        }
        for key in table.keys { table[key]!.sort { $0.bytes.count > $1.bytes.count } }
        byFirstByte = table
    }

    func partition(_ text: String, parseControl: Bool) -> [Fragment] {
        if byFirstByte.isEmpty { return text.isEmpty ? [] : [.text(text[...])] }
        let utf8 = Array(text.utf8)
        var fragments: [Fragment] = []
        var textStart = 0
        var i = 0
        while i < utf8.count {
            var matched: (length: Int, id: Int)?
            if let candidates = byFirstByte[utf8[i]] {
                for c in candidates where parseControl || !c.control {
                    if i + c.bytes.count <= utf8.count && utf8[i..<(i + c.bytes.count)].elementsEqual(c.bytes) {
                        matched = (c.bytes.count, c.id)
                        break
                    }
                }
            }
            if let m = matched {
                if textStart < i { fragments.append(.text(Self.slice(text, utf8Range: textStart..<i))) }
                fragments.append(.token(m.id))
                i += m.length
                textStart = i
            } else {
                i += 1
            }
        }
        if textStart < utf8.count { fragments.append(.text(Self.slice(text, utf8Range: textStart..<utf8.count))) }
        return fragments
    }

    private static func slice(_ text: String, utf8Range: Range<Int>) -> Substring {
        let start = text.utf8.index(text.utf8.startIndex, offsetBy: utf8Range.lowerBound)
        let end = text.utf8.index(start, offsetBy: utf8Range.count)
        return text[start..<end]
    }
}
