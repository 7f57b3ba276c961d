// CLIPNormalizer: the text clean-up and word split in front of CLIP's BPE. open_clip's
// SimpleTokenizer (and transformers' CLIPTokenizer before v5, with ftfy installed) runs
// `whitespace_clean(basic_clean(text)).lower()` (basic_clean: ftfy.fix_text, html.unescape twice,
// strip) and then the pattern
//   <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
// (case-insensitive), skipping whatever it does not match (whitespace).
//
// ftfy is approximated by the fixes that change ordinary prompts: HTML entities (&amp; &lt; &gt;
// &quot; &apos; &nbsp; and numeric ones; ftfy skips text holding "<", open_clip's html.unescape
// then unescapes anyway), Latin
// ligatures and full-width forms (NFKC of those characters only), curly quotes to straight ones,
// control characters removed, then NFC. Not done: ftfy's mojibake repair (text that was decoded
// with the wrong code page, e.g. "cafÃ©") and its rarer named entities; such text tokenizes as written.
import Foundation

/// CLIP's text normalisation and pre-tokenizer.
public enum CLIPNormalizer {
    /// ftfy-style fixes, whitespace runs collapsed to one space, trimmed, lower-cased.
    public static func clean(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for s in fixText(text).unicodeScalars {
            if isPythonSpace(s) {
                if let last = scalars.last, last != " " { scalars.append(" ") }
            } else {
                scalars.append(s)
            }
        }
        if scalars.last == " " { scalars.removeLast() }
        return lowercased(String(scalars))
    }

    /// The words of cleaned text, in order, as CLIP's pattern finds them.
    public static func words(_ text: String) -> [Substring] {
        let scalars = text.unicodeScalars
        var out: [Substring] = []
        var i = scalars.startIndex
        while i < scalars.endIndex {
            let s = scalars[i], cls = CharClass(s)
            var end = scalars.index(after: i)
            if s == "<", let special = [CLIPTokenizer.startText, CLIPTokenizer.endText].first(where: { scalars[i...].starts(with: $0.unicodeScalars) }) {
                end = scalars.index(i, offsetBy: special.unicodeScalars.count)
            } else if s == "'", let n = contraction(scalars[end...]) {
                end = scalars.index(end, offsetBy: n)
            } else if cls.contains(.letter) {
                while end < scalars.endIndex && CharClass(scalars[end]).contains(.letter) { end = scalars.index(after: end) }
            } else if cls.contains(.number) {
                // one digit per word
            } else if cls.contains(.space) {
                i = end
                continue
            } else {
                while end < scalars.endIndex && CharClass(scalars[end]).isOther { end = scalars.index(after: end) }
            }
            out.append(Substring(text.unicodeScalars[i..<end]))
            i = end
        }
        return out
    }

    /// Length after the apostrophe of s, t, re, ve, m, ll or d (case-insensitive), or nil.
    private static func contraction(_ rest: Substring.UnicodeScalarView) -> Int? {
        let next = rest.prefix(2).map { Character($0).lowercased() }
        guard let first = next.first else { return nil }
        if ["s", "t", "m", "d"].contains(first) { return 1 }
        if next.count == 2, ["re", "ve", "ll"].contains(next[0] + next[1]) { return 2 }
        return nil
    }

    /// Python's str.isspace, which `re.sub(r"\s+", " ", ...)` uses: Unicode White_Space plus the
    /// information separators U+001C-U+001F.
    static func isPythonSpace(_ s: Unicode.Scalar) -> Bool {
        s.properties.isWhitespace || (0x1C...0x1F).contains(s.value)
    }

    /// Python's str.lower(): full lower-case mappings, with capital sigma becoming final sigma at the
    /// end of a word (Swift's lowercased() maps it to σ everywhere).
    static func lowercased(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        for (i, s) in scalars.enumerated() {
            if s == "\u{03A3}" {
                let after = scalars[(i + 1)...].first { !$0.properties.isCaseIgnorable }
                let before = scalars[..<i].last { !$0.properties.isCaseIgnorable }
                if before?.properties.isCased == true && after?.properties.isCased != true {
                    out.append("\u{03C2}")
                    continue
                }
            }
            out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
        }
        return String(out)
    }

    // MARK: ftfy approximation

    /// ftfy.fix_text, then html.unescape twice, as open_clip's basic_clean does.
    static func fixText(_ text: String) -> String {
        var text = text
        if !text.contains("<") { text = unescapeEntities(text) }
        return unescapeEntities(unescapeEntities(fixCharacters(text)))
    }

    static func fixCharacters(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            switch s.value {
            case 0x02BC, 0x2018...0x201B: out.append("'")
            case 0x201C...0x201F: out.append("\"")
            case 0x00...0x08, 0x0B, 0x0E...0x1F, 0x7F, 0x206A...0x206F, 0xFEFF, 0xFFF9...0xFFFC: continue
            case 0x3000: out.append(" ")
            case 0xFF01...0xFFEF where ligatureOrWidth(s):
                out.append(contentsOf: String(s).precomposedStringWithCompatibilityMapping.unicodeScalars)
            default:
                if ligatures.contains(s) {
                    out.append(contentsOf: String(s).precomposedStringWithCompatibilityMapping.unicodeScalars)
                } else {
                    out.append(s)
                }
            }
        }
        return String(out).precomposedStringWithCanonicalMapping
    }

    /// ftfy's fix_latin_ligatures set.
    static let ligatures = Set("ĲĳĿŀŉǄǅǆǇǈǉǊǋǌǱǲǳﬀﬁﬂﬃﬄﬅﬆ".unicodeScalars)

    /// Whether a half- or full-width form has a different NFKC form (ftfy's fix_character_width table).
    static func ligatureOrWidth(_ s: Unicode.Scalar) -> Bool {
        String(s).precomposedStringWithCompatibilityMapping != String(s)
    }

    static let namedEntities: [String: String] = ["amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{00A0}"]

    /// `&name;`, `&#123;` and `&#x7B;` replaced by their characters (unknown names are kept).
    static func unescapeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var out = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            if let semi = after.prefix(26).firstIndex(of: ";"), let char = entity(after[..<semi]) {
                out += char
                rest = after[after.index(after: semi)...]
            } else {
                out += "&"
                rest = after
            }
        }
        return out + rest
    }

    private static func entity(_ name: Substring) -> String? {
        if name.hasPrefix("#") {
            let digits = name.dropFirst()
            let value = digits.first == "x" || digits.first == "X" ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
            return value.flatMap(Unicode.Scalar.init).map { String($0) }
        }
        return namedEntities[String(name)]
    }
}
