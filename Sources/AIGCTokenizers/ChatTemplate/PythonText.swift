// PythonText: the Python string behaviour jinja2 templates see — `str.isspace`, `strip`, `split`, `title`,
// `capitalize`, `repr` of strings and floats — so rendered prompts match transformers byte for byte.
import Foundation

enum PythonText {
    /// Python's `str.isspace` for one code point: Unicode White_Space plus the separators U+001C...U+001F.
    static func isSpace(_ c: Unicode.Scalar) -> Bool {
        c.properties.isWhitespace || (c.value >= 0x1C && c.value <= 0x1F)
    }

    static func strip(_ text: String, _ chars: String? = nil, leading: Bool = true, trailing: Bool = true) -> String {
        let set = chars.map { Set($0.unicodeScalars) }
        let remove: (Unicode.Scalar) -> Bool = { c in set.map { $0.contains(c) } ?? isSpace(c) }
        let scalars = Array(text.unicodeScalars)
        var lo = 0, hi = scalars.count
        if leading { while lo < hi, remove(scalars[lo]) { lo += 1 } }
        if trailing { while hi > lo, remove(scalars[hi - 1]) { hi -= 1 } }
        return String(String.UnicodeScalarView(scalars[lo..<hi]))
    }

    /// `str.split(sep, maxsplit)`; with no separator, runs of whitespace split and empty parts are dropped.
    static func split(_ text: String, separator: String?, maxSplit: Int = -1) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var parts: [String] = []
        guard let separator, !separator.isEmpty else {
            var i = 0
            while i < scalars.count {
                while i < scalars.count, isSpace(scalars[i]) { i += 1 }
                guard i < scalars.count else { break }
                if maxSplit >= 0 && parts.count == maxSplit {
                    parts.append(strip(String(String.UnicodeScalarView(scalars[i...])), leading: false))
                    break
                }
                var j = i
                while j < scalars.count, !isSpace(scalars[j]) { j += 1 }
                parts.append(String(String.UnicodeScalarView(scalars[i..<j])))
                i = j
            }
            return parts
        }
        let sep = Array(separator.unicodeScalars)
        var start = 0, i = 0
        while i + sep.count <= scalars.count {
            if (maxSplit < 0 || parts.count < maxSplit) && Array(scalars[i..<i + sep.count]) == sep {
                parts.append(String(String.UnicodeScalarView(scalars[start..<i])))
                i += sep.count
                start = i
            } else {
                i += 1
            }
        }
        parts.append(String(String.UnicodeScalarView(scalars[start...])))
        return parts
    }

    /// `str.capitalize`: first character upper-cased, the rest lower-cased.
    static func capitalize(_ text: String) -> String {
        guard let first = text.first else { return text }
        return first.uppercased() + text.dropFirst().lowercased()
    }

    /// `str.title`: a letter after a non-letter starts a word.
    static func title(_ text: String) -> String {
        var out = "", previousCased = false
        for c in text {
            out += previousCased ? c.lowercased() : c.uppercased()
            previousCased = c.isCased
        }
        return out
    }

    /// jinja2's `title` filter: words start after whitespace, `-`, or an opening bracket.
    static func titleFilter(_ text: String) -> String {
        var out = "", atWordStart = true
        for c in text {
            out += atWordStart ? c.uppercased() : c.lowercased()
            atWordStart = c.isWhitespace || "-([{<".contains(c)
        }
        return out
    }

    /// `repr(str)`: single quotes unless the text holds a single quote and no double quote.
    static func repr(_ text: String) -> String {
        let quote: Unicode.Scalar = text.contains("'") && !text.contains("\"") ? "\"" : "'"
        var out = String.UnicodeScalarView([quote])
        for c in text.unicodeScalars {
            switch c {
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            case quote: out.append("\\"); out.append(c)
            default:
                if c.value < 0x20 || c.value == 0x7F || (c.value >= 0x80 && c.value < 0xA0) {
                    out.append(contentsOf: hex(c.value, prefix: "\\x", width: 2).unicodeScalars)
                } else {
                    out.append(c)
                }
            }
        }
        out.append(quote)
        return String(out)
    }

    static func hex(_ value: UInt32, prefix: String, width: Int) -> String {
        let digits = String(value, radix: 16)
        return prefix + String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// `repr(float)`: the shortest round-tripping digits, positional when the exponent is in -4..<16,
    /// otherwise `d.ddde+XX`.
    static func floatRepr(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        // Swift's description is also shortest-round-trip; only its layout rule differs, so re-lay the digits.
        var text = value.description
        let negative = text.hasPrefix("-")
        if negative { text.removeFirst() }
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let whole = parts.first.map(String.init) ?? "0"
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        var digits = whole + fraction
        var pointAt = whole.count + exponent  // the decimal point sits after this many digits
        while digits.count > 1, digits.first == "0" { digits.removeFirst(); pointAt -= 1 }
        while digits.count > 1, digits.last == "0" { digits.removeLast() }
        if digits == "0" { return negative ? "-0.0" : "0.0" }
        let sign = negative ? "-" : ""
        let decimalExponent = pointAt - 1
        if decimalExponent >= -4 && decimalExponent < 16 {
            if pointAt <= 0 { return sign + "0." + String(repeating: "0", count: -pointAt) + digits }
            if pointAt >= digits.count { return sign + digits + String(repeating: "0", count: pointAt - digits.count) + ".0" }
            let split = digits.index(digits.startIndex, offsetBy: pointAt)
            return sign + digits[..<split] + "." + digits[split...]
        }
        let mantissa = digits.count == 1 ? digits : String(digits.first ?? "0") + "." + digits.dropFirst()
        let exponentText = String(abs(decimalExponent))
        return sign + mantissa + "e" + (decimalExponent < 0 ? "-" : "+") + (exponentText.count < 2 ? "0" : "") + exponentText
    }
}

extension PythonText {
    /// Code-point search (Swift's String search compares by canonical equivalence; Python compares code points).
    static func find(_ text: String, _ needle: String, from start: Int = 0, last: Bool = false) -> Int? {
        let h = Array(text.unicodeScalars), n = Array(needle.unicodeScalars)
        guard n.count <= h.count, max(0, start) <= h.count - n.count else { return nil }
        let positions = Array(max(0, start)...(h.count - n.count))
        for i in last ? positions.reversed() : positions where h[i..<i + n.count].elementsEqual(n) { return i }
        return nil
    }

    static func hasPrefix(_ text: String, _ prefix: String) -> Bool { text.unicodeScalars.starts(with: prefix.unicodeScalars) }

    static func hasSuffix(_ text: String, _ suffix: String) -> Bool {
        text.unicodeScalars.reversed().starts(with: suffix.unicodeScalars.reversed())
    }

    /// `str.replace(old, new, count)`.
    static func replace(_ text: String, _ old: String, _ new: String, count: Int = -1) -> String {
        if old.isEmpty {
            // Python inserts `new` between every character (and at both ends).
            var parts = text.unicodeScalars.map { String($0) }
            let limit = count < 0 ? parts.count + 1 : min(count, parts.count + 1)
            var out = "", inserted = 0
            parts.append("")
            for part in parts {
                if inserted < limit { out += new; inserted += 1 }
                out += part
            }
            return out
        }
        let pieces = split(text, separator: old, maxSplit: count)
        return pieces.joined(separator: new)
    }

    static func count(_ text: String, _ needle: String) -> Int {
        needle.isEmpty ? text.unicodeScalars.count + 1 : split(text, separator: needle).count - 1
    }
}

/// Python's printf-style `format % values` for the common conversions (%s %r %d %i %f %%), used by the
/// `format` filter and the `%` operator on strings.
enum PercentFormat {
    /// `mapping`: the single argument counts as a mapping, so unused arguments are not an error (Python's rule).
    static func format(_ format: String, _ values: [Value], mapping: Bool = false) throws -> String {
        var out = "", index = 0
        var scalars = format.unicodeScalars.makeIterator()
        while let c = scalars.next() {
            guard c == "%" else { out.unicodeScalars.append(c); continue }
            var precision: Int?
            var spec = scalars.next()
            if spec == "." {
                var digits = ""
                while let d = spec, d == "." || (d.value >= 48 && d.value <= 57) { if d != "." { digits.unicodeScalars.append(d) }; spec = scalars.next() }
                precision = Int(digits)
            }
            guard let conversion = spec else { throw ValueError.invalid("incomplete format") }
            if conversion == "%" { out += "%"; continue }
            guard index < values.count else { throw ValueError.invalid("not enough arguments for format string") }
            let value = values[index]
            index += 1
            switch conversion {
            case "s": out += value.str
            case "r": out += value.repr
            case "d", "i":
                guard let n = value.number else { throw ValueError.invalid("%\(conversion) format: a real number is required, not \(value.typeName)") }
                out += value.integer.map(String.init) ?? String(Int(exactly: n.rounded(.towardZero)) ?? 0)
            case "f":
                guard let n = value.number else { throw ValueError.invalid("%f format: a real number is required, not \(value.typeName)") }
                out += String(format: "%.\(min(precision ?? 6, 50))f", n)
            default:
                throw ValueError.invalid("unsupported format character '\(conversion)'")
            }
        }
        if index < values.count && !mapping { throw ValueError.invalid("not all arguments converted during string formatting") }
        return out
    }
}
