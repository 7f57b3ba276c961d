// TemplateParser: tokens -> statements. Ports the statement half of jinja2 3.1 `parser.py` (subparse,
// parse_if, parse_for, parse_set, parse_macro) plus the `break`/`continue` tags of jinja2.ext.loopcontrols
// and transformers' `{% generation %}` tag, which transformers enables for chat templates.

struct TemplateParser {
    let tokens: [Token]
    var index = 0
    /// Nesting depth of expressions and blocks; bounded so hostile input cannot overflow the stack.
    var depth = 0
    static let maxDepth = 200

    init(tokens: [Token]) { self.tokens = tokens }

    static func parse(_ source: String) throws -> [Statement] {
        var parser = TemplateParser(tokens: try TemplateLexer.tokenize(source))
        let (body, _) = try parser.parseBody(until: [], opener: nil)
        return body
    }

    // MARK: - Token stream

    var current: Token { tokens[min(index, tokens.count - 1)] }
    var next: Token { tokens[min(index + 1, tokens.count - 1)] }

    mutating func advance() { if index < tokens.count - 1 { index += 1 } }

    func isName(_ name: String) -> Bool { current.kind == .name(name) }
    func isOp(_ op: String) -> Bool { current.kind == .op(op) }

    mutating func skipName(_ name: String) -> Bool {
        guard isName(name) else { return false }
        advance()
        return true
    }

    mutating func skipOp(_ op: String) -> Bool {
        guard isOp(op) else { return false }
        advance()
        return true
    }

    func fail(_ message: String, at token: Token? = nil) -> ChatTemplateError {
        .syntax(message: message, at: (token ?? current).location)
    }

    func unexpected(_ expected: String) -> ChatTemplateError {
        fail("expected \(expected), got \(Self.describe(current.kind))")
    }

    mutating func expectOp(_ op: String) throws {
        guard skipOp(op) else { throw unexpected("'\(op)'") }
    }

    mutating func expectName() throws -> String {
        guard case .name(let name) = current.kind else { throw unexpected("a name") }
        advance()
        return name
    }

    mutating func expectBlockEnd(_ tag: String) throws {
        guard current.kind == .blockEnd else { throw unexpected("'%}' to end the '\(tag)' tag") }
        advance()
    }

    mutating func enter() throws {
        depth += 1
        if depth > Self.maxDepth { throw fail("template nests deeper than \(Self.maxDepth) levels") }
    }

    static func describe(_ kind: TokenKind) -> String {
        switch kind {
        case .data: return "template text"
        case .variableBegin: return "'{{'"
        case .variableEnd: return "'}}'"
        case .blockBegin: return "'{%'"
        case .blockEnd: return "'%}'"
        case .name(let n): return "'\(n)'"
        case .string(let s): return "string \(PythonText.repr(s))"
        case .integer(let i): return "integer \(i)"
        case .float(let d): return "number \(PythonText.floatRepr(d))"
        case .op(let o): return "'\(o)'"
        case .eof: return "end of template"
        }
    }

    // MARK: - Statements

    /// Parses template text, `{{ }}` and tags until a block tag named in `endings`; consumes `{%` and that name
    /// and returns it. `opener` names the tag being closed, for the error if the template ends first.
    mutating func parseBody(until endings: Set<String>, opener: Token?) throws -> ([Statement], String) {
        try enter()
        defer { depth -= 1 }
        var body: [Statement] = []
        while true {
            let token = current
            switch token.kind {
            case .data(let text):
                body.append(.text(text))
                advance()
            case .variableBegin:
                advance()
                body.append(.output(try parseTuple()))
                guard current.kind == .variableEnd else { throw unexpected("'}}' to end the expression") }
                advance()
            case .blockBegin:
                advance()
                if case .name(let name) = current.kind, endings.contains(name) {
                    advance()
                    return (body, name)
                }
                body.append(contentsOf: try parseStatement())
            case .eof:
                guard let opener else { return (body, "") }
                let wanted = endings.sorted().map { "'\($0)'" }.joined(separator: " or ")
                throw fail("unexpected end of template: \(Self.describe(opener.kind)) tag at \(opener.location) is never closed (expected \(wanted))", at: opener)
            default:
                throw fail("unexpected \(Self.describe(token.kind))")
            }
        }
    }

    private mutating func parseStatement() throws -> [Statement] {
        let tag = current
        guard case .name(let name) = tag.kind else { throw unexpected("a tag name such as 'if', 'for' or 'set'") }
        advance()
        switch name {
        case "if": return [try parseIf(tag)]
        case "for": return [try parseFor(tag)]
        case "set": return [try parseSet(tag)]
        case "macro": return [try parseMacro(tag)]
        case "break", "continue":
            try expectBlockEnd(name)
            return [name == "break" ? .breakLoop(at: tag.location) : .continueLoop(at: tag.location)]
        case "generation":
            try expectBlockEnd(name)
            let body = try parseBody(until: ["endgeneration"], opener: tag).0
            try expectBlockEnd("endgeneration")
            return body
        case "endif", "endfor", "endset", "endmacro", "endgeneration", "else", "elif":
            throw fail("unexpected '\(name)': no open block expects it here", at: tag)
        default:
            throw fail("unknown tag '\(name)' (supported: if, elif, else, for, set, macro, break, continue, generation, raw)", at: tag)
        }
    }

    private mutating func parseIf(_ tag: Token) throws -> Statement {
        var branches: [(condition: Expr, body: [Statement])] = []
        var otherwise: [Statement] = []
        var opener = tag
        while true {
            let condition = try parseTuple(withConditional: false)
            try expectBlockEnd("if")
            let (body, ending) = try parseBody(until: ["elif", "else", "endif"], opener: opener)
            branches.append((condition, body))
            if ending == "elif" { opener = tokens[index - 1]; continue }
            if ending == "else" {
                try expectBlockEnd("else")
                otherwise = try parseBody(until: ["endif"], opener: tag).0
            }
            try expectBlockEnd("endif")
            return .ifChain(branches: branches, otherwise: otherwise)
        }
    }

    private mutating func parseFor(_ tag: Token) throws -> Statement {
        let target = try parseAssignTarget(allowNamespace: false)
        guard skipName("in") else { throw unexpected("'in' after the loop variable") }
        let iterable = try parseTuple(withConditional: false, endNames: ["recursive"])
        var condition: Expr?
        if skipName("if") { condition = try parseExpression() }
        if isName("recursive") { throw fail("recursive for loops are not supported") }
        try expectBlockEnd("for")
        let (body, ending) = try parseBody(until: ["endfor", "else"], opener: tag)
        var otherwise: [Statement] = []
        if ending == "else" {
            try expectBlockEnd("else")
            otherwise = try parseBody(until: ["endfor"], opener: tag).0
        }
        try expectBlockEnd("endfor")
        return .forLoop(ForLoop(target: target, iterable: iterable, condition: condition, body: body, otherwise: otherwise, at: tag.location))
    }

    private mutating func parseSet(_ tag: Token) throws -> Statement {
        let target = try parseAssignTarget(allowNamespace: true)
        if skipOp("=") {
            let value = try parseTuple()
            try expectBlockEnd("set")
            return .set(target, value, at: tag.location)
        }
        var filters: [(name: String, arguments: Arguments, at: TemplateLocation)] = []
        while skipOp("|") {
            let at = current.location
            let name = try parseDottedName()
            try TemplateFilters.validate(name, at: at)
            filters.append((name, isOp("(") ? try parseArguments() : Arguments(), at))
        }
        try expectBlockEnd("set")
        let (body, _) = try parseBody(until: ["endset"], opener: tag)
        try expectBlockEnd("endset")
        return .setBlock(target, filters: filters, body: body, at: tag.location)
    }

    private mutating func parseMacro(_ tag: Token) throws -> Statement {
        let name = try expectName()
        try expectOp("(")
        var parameters: [(name: String, defaultValue: Expr?)] = []
        while !isOp(")") {
            if !parameters.isEmpty { try expectOp(","); if isOp(")") { break } }
            let parameter = try expectName()
            parameters.append((parameter, skipOp("=") ? try parseExpression() : nil))
        }
        try expectOp(")")
        try expectBlockEnd("macro")
        let (body, _) = try parseBody(until: ["endmacro"], opener: tag)
        try expectBlockEnd("endmacro")
        return .macro(Macro(name: name, parameters: parameters, body: body, at: tag.location))
    }

    /// `x`, `a, b`, `(a, b)` or (for `set`) `ns.attribute`.
    private mutating func parseAssignTarget(allowNamespace: Bool) throws -> AssignTarget {
        let parenthesised = skipOp("(")
        var names = [try expectName()]
        if allowNamespace && !parenthesised && skipOp(".") {
            return .namespaceAttribute(names[0], try expectName())
        }
        while skipOp(",") {
            if isName("in") || isOp("=") || isOp(")") { break }
            names.append(try expectName())
        }
        if parenthesised { try expectOp(")") }
        return names.count == 1 && !parenthesised ? .name(names[0]) : .names(names)
    }
}
