// TemplateLexer+Literals: number and string literals inside tags, with jinja2's rules (`float_re`,
// `integer_re`, and Python `unicode-escape` decoding of string literals).

extension TemplateLexer {
    private func isDigit(_ i: Int) -> Bool { i < s.count && s[i].value >= 48 && s[i].value <= 57 }

    /// `(\d+_)*\d+` starting at `i`: the end offset, or nil when there is no digit.
    private func digitRun(_ i: Int) -> Int? {
        guard isDigit(i) else { return nil }
        var j = i
        while isDigit(j) || (j < s.count && s[j] == "_" && isDigit(j + 1)) { j += 1 }
        return j
    }

    private func text(_ lo: Int, _ hi: Int) -> String {
        String(String.UnicodeScalarView(s[lo..<hi])).replacingOccurrences(of: "_", with: "")
    }

    /// A float (tried first, as in jinja2) or an integer literal at `i`.
    mutating func number(at i: Int) throws -> (TokenKind, Int)? {
        guard isDigit(i) else { return nil }
        if i == 0 || s[i - 1] != ".", let intEnd = digitRun(i) {
            var j = intEnd
            var isFloat = false
            if j < s.count, s[j] == ".", let fractionEnd = digitRun(j + 1) { j = fractionEnd; isFloat = true }
            if j < s.count, s[j] == "e" || s[j] == "E" {
                var k = j + 1
                if k < s.count, s[k] == "+" || s[k] == "-" { k += 1 }
                if let exponentEnd = digitRun(k) { j = exponentEnd; isFloat = true }
            }
            if isFloat {
                guard let value = Double(text(i, j)) else { throw fail("invalid float literal", i) }
                return (.float(value), j)
            }
        }
        return try integer(at: i)
    }

    private func integer(at i: Int) throws -> (TokenKind, Int)? {
        if s[i] == "0", i + 1 < s.count {
            let radixes: [Unicode.Scalar: Int] = ["b": 2, "B": 2, "o": 8, "O": 8, "x": 16, "X": 16]
            if let radix = radixes[s[i + 1]] {
                var j = i + 2
                while j < s.count, s[j] == "_" || Character(s[j]).hexDigitValue.map({ $0 < radix }) == true { j += 1 }
                guard j > i + 2, let value = Int(text(i + 2, j), radix: radix) else { throw fail("invalid integer literal", i) }
                return (.integer(value), j)
            }
        }
        if s[i] == "0" {
            // `0(_?0)*`: a leading zero only continues with zeros.
            var j = i + 1
            while j < s.count, s[j] == "0" || (s[j] == "_" && j + 1 < s.count && s[j + 1] == "0") { j += 1 }
            return (.integer(0), j)
        }
        guard let end = digitRun(i) else { return nil }
        guard let value = Int(text(i, end)) else { throw fail("integer literal \(text(i, end)) is too large", i) }
        return (.integer(value), end)
    }

    /// A quoted string; escapes decoded as Python's `unicode-escape` codec does (jinja2 `Lexer.wrap`).
    mutating func string(quote: Unicode.Scalar) throws {
        let start = pos
        var out = String.UnicodeScalarView()
        var i = pos + 1
        while i < s.count, s[i] != quote {
            guard s[i] == "\\" else { out.append(s[i]); i += 1; continue }
            guard i + 1 < s.count else { break }
            let e = s[i + 1]
            i += 2
            switch e {
            case "\n": break
            case "\\", "'", "\"": out.append(e)
            case "a": out.append("\u{07}")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "t": out.append("\t")
            case "v": out.append("\u{0B}")
            case "0"..."7":
                var value = Int(e.value - 48), count = 1
                while count < 3, i < s.count, s[i].value >= 48, s[i].value <= 55 { value = value * 8 + Int(s[i].value - 48); i += 1; count += 1 }
                out.append(Unicode.Scalar(UInt32(value)) ?? "\u{FFFD}")
            case "x", "u", "U":
                let width = e == "x" ? 2 : e == "u" ? 4 : 8
                guard i + width <= s.count, let code = UInt32(String(String.UnicodeScalarView(s[i..<i + width])), radix: 16),
                      let scalar = Unicode.Scalar(code) else {
                    throw fail("invalid \\\(e) escape in string literal: expected \(width) hex digits", i - 2)
                }
                out.append(scalar)
                i += width
            case "N":
                throw fail("\\N{...} escapes are not supported in string literals", i - 2)
            default:
                out.append("\\"); out.append(e)
            }
        }
        guard i < s.count else { throw fail("unterminated string literal: expected closing \(quote)", start) }
        emit(.string(String(out)), start)
        pos = i + 1
    }
}
