// TemplateLexer: Jinja source -> tokens, with jinja2's whitespace rules for chat templates (trim_blocks and
// lstrip_blocks on, as transformers sets them). Ports jinja2 3.1 `lexer.py` (Lexer.tokeniter); the comments
// name the jinja2 rule each branch mirrors.

/// One token of a template: raw text between tags, tag delimiters, or a piece of an expression.
enum TokenKind: Equatable, Sendable {
    case data(String)
    case variableBegin, variableEnd, blockBegin, blockEnd
    case name(String)
    case string(String)
    case integer(Int)
    case float(Double)
    /// Operators and punctuation: + - * / // % ** ~ == != < <= > >= = . , : | ( ) [ ] { } ;
    case op(String)
    case eof
}

struct Token: Sendable {
    let kind: TokenKind
    let location: TemplateLocation
}

struct TemplateLexer {
    let s: [Unicode.Scalar]
    private let lineStarts: [Int]
    var pos = 0
    private var tokens: [Token] = []
    /// jinja2's `line_starting`: the previous match ended with a newline (or nothing was matched yet).
    private var lineStarting = true

    /// Splits `source` into tokens. Newlines are normalised first and one trailing newline dropped, as jinja2
    /// does with `keep_trailing_newline=False`.
    static func tokenize(_ source: String) throws -> [Token] {
        var lexer = TemplateLexer(normalizing: source)
        try lexer.run()
        return lexer.tokens
    }

    private init(normalizing source: String) {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(source.unicodeScalars.count)
        var previousWasCR = false
        for c in source.unicodeScalars {
            if c == "\r" { scalars.append("\n"); previousWasCR = true; continue }
            if c == "\n" && previousWasCR { previousWasCR = false; continue }
            previousWasCR = false
            scalars.append(c)
        }
        if scalars.last == "\n" { scalars.removeLast() }
        s = scalars
        var starts = [0]
        for (i, c) in scalars.enumerated() where c == "\n" { starts.append(i + 1) }
        lineStarts = starts
    }

    func location(_ offset: Int) -> TemplateLocation {
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        return TemplateLocation(line: lo + 1, column: offset - lineStarts[lo] + 1)
    }

    func fail(_ message: String, _ offset: Int) -> ChatTemplateError {
        .syntax(message: message, at: location(offset))
    }

    func at(_ i: Int, _ text: String) -> Bool {
        var j = i
        for c in text.unicodeScalars {
            guard j < s.count, s[j] == c else { return false }
            j += 1
        }
        return true
    }

    private func skipWhitespace(_ i: Int) -> Int {
        var j = i
        while j < s.count, PythonText.isSpace(s[j]) { j += 1 }
        return j
    }

    mutating func emit(_ kind: TokenKind, _ offset: Int) {
        tokens.append(Token(kind: kind, location: location(offset)))
    }

    private mutating func run() throws {
        while pos < s.count {
            guard let start = nextTagStart(from: pos) else {
                emitData(pos, s.count, stripSign: nil, isVariable: true)
                break
            }
            let opener = s[start + 1]
            let sign: Unicode.Scalar? = start + 2 < s.count && (s[start + 2] == "-" || s[start + 2] == "+") ? s[start + 2] : nil
            if opener == "%", let rawEnd = rawBegin(at: start) {
                emitData(pos, start, stripSign: sign, isVariable: false)
                try lexRaw(contentStart: rawEnd, tagStart: start)
                continue
            }
            emitData(pos, start, stripSign: sign, isVariable: opener == "{")
            lineStarting = false
            pos = start + 2 + (sign == nil ? 0 : 1)
            switch opener {
            case "#": try lexComment(start)
            case "{": emit(.variableBegin, start); try lexTag(isBlock: false, tagStart: start)
            default: emit(.blockBegin, start); try lexTag(isBlock: true, tagStart: start)
            }
        }
        emit(.eof, s.count)
    }

    /// The next `{{`, `{%` or `{#` at or after `from`.
    private func nextTagStart(from: Int) -> Int? {
        var i = from
        while i + 1 < s.count {
            if s[i] == "{", s[i + 1] == "{" || s[i + 1] == "%" || s[i + 1] == "#" { return i }
            i += 1
        }
        return nil
    }

    /// Emits the text in `lo..<hi` after the whitespace control of the tag that follows it: `-` strips all
    /// trailing whitespace; otherwise lstrip_blocks removes spaces between a line start and a block or comment tag
    /// (jinja2 `OptionalLStrip`).
    private mutating func emitData(_ lo: Int, _ hi: Int, stripSign: Unicode.Scalar?, isVariable: Bool) {
        var end = hi
        if stripSign == "-" {
            while end > lo, PythonText.isSpace(s[end - 1]) { end -= 1 }
        } else if stripSign != "+" && !isVariable {
            var lineStart = hi
            while lineStart > lo, s[lineStart - 1] != "\n" { lineStart -= 1 }
            let hasNewline = lineStart > lo
            if (hasNewline || lineStarting) && lineStart < hi && (lineStart..<hi).allSatisfy({ PythonText.isSpace(s[$0]) }) {
                end = lineStart
            }
        }
        if end > lo { emit(.data(String(String.UnicodeScalarView(s[lo..<end]))), lo) }
    }

    /// `{%-? raw -?%}`: returns the offset just after the tag, or nil if the tag is not `raw`.
    private func rawBegin(at start: Int) -> Int? {
        var i = start + 2
        if i < s.count, s[i] == "-" || s[i] == "+" { i += 1 }
        i = skipWhitespace(i)
        guard at(i, "raw") else { return nil }
        i = skipWhitespace(i + 3)
        if at(i, "-%}") { return skipWhitespace(i + 3) }
        if at(i, "%}") { return i + 2 }
        return nil
    }

    /// The body of `{% raw %}` up to `{% endraw %}` is plain text.
    private mutating func lexRaw(contentStart: Int, tagStart: Int) throws {
        lineStarting = contentStart > 0 && s[contentStart - 1] == "\n"
        var i = contentStart
        while let j = nextTagStart(from: i) {
            if s[j + 1] == "%" {
                var k = j + 2
                let sign: Unicode.Scalar? = k < s.count && (s[k] == "-" || s[k] == "+") ? s[k] : nil
                if sign != nil { k += 1 }
                k = skipWhitespace(k)
                if at(k, "endraw") {
                    k = skipWhitespace(k + 6)
                    if let end = blockEnd(at: k) {
                        emitData(contentStart, j, stripSign: sign, isVariable: false)
                        pos = end
                        lineStarting = end > 0 && s[end - 1] == "\n"
                        return
                    }
                }
            }
            i = j + 1
        }
        throw fail("missing end of raw directive: expected '{% endraw %}'", tagStart)
    }

    /// A block end at `i` (`+%}`, `-%}` plus whitespace, or `%}` plus one newline): the offset after it.
    private func blockEnd(at i: Int) -> Int? {
        if at(i, "+%}") { return i + 3 }
        if at(i, "-%}") { return skipWhitespace(i + 3) }
        if at(i, "%}") { return i + 2 < s.count && s[i + 2] == "\n" ? i + 3 : i + 2 }
        return nil
    }

    private mutating func lexComment(_ tagStart: Int) throws {
        var i = pos
        while i < s.count {
            if at(i, "+#}") { pos = i + 3; break }
            if at(i, "-#}") { pos = skipWhitespace(i + 3); break }
            if at(i, "#}") { pos = i + 2 < s.count && s[i + 2] == "\n" ? i + 3 : i + 2; break }
            i += 1
        }
        guard i < s.count else { throw fail("missing end of comment tag: expected '#}'", tagStart) }
        lineStarting = s[pos - 1] == "\n"
    }

    private mutating func lexTag(isBlock: Bool, tagStart: Int) throws {
        var brackets: [(close: Unicode.Scalar, offset: Int)] = []
        while pos < s.count {
            if brackets.isEmpty {
                if isBlock, let end = blockEnd(at: pos) {
                    emit(.blockEnd, pos); pos = end; lineStarting = s[end - 1] == "\n"; return
                }
                if !isBlock && at(pos, "-}}") {
                    emit(.variableEnd, pos); pos = skipWhitespace(pos + 3); lineStarting = s[pos - 1] == "\n"; return
                }
                if !isBlock && at(pos, "}}") {
                    emit(.variableEnd, pos); pos += 2; lineStarting = false; return
                }
            }
            let c = s[pos]
            if PythonText.isSpace(c) { pos += 1; continue }
            if let (kind, end) = try number(at: pos) { emit(kind, pos); pos = end; continue }
            if c == "_" || c.properties.isAlphabetic {
                var j = pos + 1
                while j < s.count, s[j] == "_" || s[j].properties.isAlphabetic || s[j].properties.numericType != nil { j += 1 }
                emit(.name(String(String.UnicodeScalarView(s[pos..<j]))), pos); pos = j; continue
            }
            if c == "'" || c == "\"" { try string(quote: c); continue }
            guard let op = TemplateLexer.operators.first(where: { at(pos, $0) }) else {
                throw fail("unexpected character '\(c)' inside a tag", pos)
            }
            switch op {
            case "(": brackets.append((")", pos))
            case "[": brackets.append(("]", pos))
            case "{": brackets.append(("}", pos))
            case ")", "]", "}":
                guard let open = brackets.popLast() else { throw fail("unexpected '\(op)'", pos) }
                if String(open.close) != op { throw fail("unexpected '\(op)', expected '\(open.close)'", pos) }
            default: break
            }
            emit(.op(op), pos)
            pos += op.unicodeScalars.count
        }
        // End of input inside a tag: the parser reports what it expected.
        if let open = brackets.last { throw fail("unclosed bracket: expected '\(open.close)'", open.offset) }
    }

    /// Longest first, as jinja2 sorts its operator regex.
    static let operators = ["//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")",
                            "{", "}", "<", ">", "=", ".", ":", "|", ",", ";"]
}
