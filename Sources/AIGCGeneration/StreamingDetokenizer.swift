// StreamingDetokenizer: turns tokens into text as they arrive, never emitting half of a UTF-8
// character (a Chinese character split across two byte tokens comes out whole, once).
import AIGCTokenizers

public struct StreamingDetokenizer: Sendable {
    let tokenizer: Tokenizer
    let special: Bool
    private var pending: [UInt8] = []

    public init(tokenizer: Tokenizer, special: Bool = false) {
        self.tokenizer = tokenizer
        self.special = special
    }

    /// Text completed by `token` (possibly empty while a character is still incomplete).
    public mutating func append(_ token: Int) -> String {
        pending += tokenizer.bytes(of: token, special: special)
        let cut = Self.completePrefixLength(pending)
        if cut == 0 { return "" }
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// Whatever is left at the end (an incomplete sequence becomes U+FFFD).
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return pending.isEmpty ? "" : String(decoding: pending, as: UTF8.self)
    }

    /// Length of the longest prefix that does not end inside a UTF-8 sequence that may still complete.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        var i = n - 1
        var continuation = 0
        while i >= 0 && i >= n - 4 && bytes[i] & 0xC0 == 0x80 { continuation += 1; i -= 1 }
        guard i >= 0 && i >= n - 4 else { return n } // stray continuation bytes: nothing can complete them
        let lead = bytes[i]
        let need: Int
        switch lead {
        case 0xC2...0xDF: need = 1
        case 0xE0...0xEF: need = 2
        case 0xF0...0xF4: need = 3
        default: return n // ASCII or an invalid lead byte: complete (invalid bytes print as U+FFFD)
        }
        return continuation < need ? i : n
    }
}

/// Holds back text that may be the start of a stop string, and reports when one appears — also when
/// it spans several tokens.
struct StopStringMatcher {
    let stops: [[UInt8]]
    private var held: [UInt8] = []

    init(_ stops: [String]) { self.stops = stops.filter { !$0.isEmpty }.map { Array($0.utf8) } }

    /// Feeds new text; returns the text that is safe to show and whether a stop string was hit
    /// (the stop string and anything after it are dropped).
    mutating func feed(_ text: String) -> (emit: String, stopped: Bool) {
        if stops.isEmpty { return (text, false) }
        held += Array(text.utf8)
        var earliest: Int?
        for s in stops {
            if let at = Self.find(s, in: held), at < (earliest ?? Int.max) { earliest = at }
        }
        if let at = earliest {
            let emit = String(decoding: held[..<at], as: UTF8.self)
            held.removeAll()
            return (emit, true)
        }
        // Keep the longest suffix that is a proper prefix of some stop string.
        var keep = 0
        for s in stops {
            for length in stride(from: min(s.count - 1, held.count), to: keep, by: -1) where held.suffix(length).elementsEqual(s.prefix(length)) {
                keep = length
                break
            }
        }
        let emit = String(decoding: held[..<(held.count - keep)], as: UTF8.self)
        held.removeFirst(held.count - keep)
        return (emit, false)
    }

    mutating func flush() -> String {
        defer { held.removeAll() }
        return String(decoding: held, as: UTF8.self)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) {
            return i
        }
        return nil
    }
}
