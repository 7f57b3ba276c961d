// TemplateParser+Expressions: the expression grammar of jinja2 3.1 `parser.py`, precedence lowest first:
// conditional (`a if b else c`), or, and, not, comparisons (chained, `in`, `not in`), + -, ~, * / // %, **,
// unary - +, then postfix `.attr`, `[index]`, `[a:b:c]`, calls, `| filter` and `is test`.

extension TemplateParser {
    /// Expressions separated by commas form a tuple (`{{ a, b }}`, `{% set a, b = 1, 2 %}`).
    mutating func parseTuple(withConditional: Bool = true, endNames: Set<String> = [], explicitParentheses: Bool = false) throws -> Expr {
        let at = current.location
        var items: [Expr] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expectOp(",") }
            if isTupleEnd(endNames) { break }
            items.append(try parseExpression(withConditional: withConditional))
            if isOp(",") { isTuple = true } else { break }
        }
        if !isTuple {
            if let only = items.first { return only }
            if !explicitParentheses { throw unexpected("an expression") }
        }
        return Expr(kind: .tuple(items), at: at)
    }

    private func isTupleEnd(_ endNames: Set<String>) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd, .op(")"): return true
        case .name(let name): return endNames.contains(name)
        default: return false
        }
    }

    mutating func parseExpression(withConditional: Bool = true) throws -> Expr {
        try enter()
        defer { depth -= 1 }
        return withConditional ? try parseConditional() : try parseOr()
    }

    private mutating func parseConditional() throws -> Expr {
        var expr = try parseOr()
        while isName("if") {
            let at = current.location
            advance()
            let condition = try parseOr()
            let otherwise = skipName("else") ? try parseExpression() : nil
            expr = Expr(kind: .conditional(condition: condition, then: expr, otherwise: otherwise), at: at)
        }
        return expr
    }

    private mutating func parseOr() throws -> Expr {
        var left = try parseAnd()
        while isName("or") {
            let at = current.location
            advance()
            left = Expr(kind: .or(left, try parseAnd()), at: at)
        }
        return left
    }

    private mutating func parseAnd() throws -> Expr {
        var left = try parseNot()
        while isName("and") {
            let at = current.location
            advance()
            left = Expr(kind: .and(left, try parseNot()), at: at)
        }
        return left
    }

    private mutating func parseNot() throws -> Expr {
        guard isName("not") else { return try parseCompare() }
        let at = current.location
        advance()
        try enter()
        defer { depth -= 1 }
        return Expr(kind: .not(try parseNot()), at: at)
    }

    private mutating func parseCompare() throws -> Expr {
        let at = current.location
        let left = try parseMath1()
        var operations: [(op: String, right: Expr)] = []
        while true {
            if case .op(let op) = current.kind, ["==", "!=", "<", "<=", ">", ">="].contains(op) {
                advance()
                operations.append((op, try parseMath1()))
            } else if skipName("in") {
                operations.append(("in", try parseMath1()))
            } else if isName("not"), next.kind == .name("in") {
                advance(); advance()
                operations.append(("notin", try parseMath1()))
            } else {
                break
            }
        }
        return operations.isEmpty ? left : Expr(kind: .compare(left, operations), at: at)
    }

    private mutating func parseMath1() throws -> Expr {
        var left = try parseConcat()
        while case .op(let op) = current.kind, op == "+" || op == "-" {
            let at = current.location
            advance()
            left = Expr(kind: .binary(op, left, try parseConcat()), at: at)
        }
        return left
    }

    private mutating func parseConcat() throws -> Expr {
        let at = current.location
        var parts = [try parseMath2()]
        while skipOp("~") { parts.append(try parseMath2()) }
        return parts.count == 1 ? parts[0] : Expr(kind: .concat(parts), at: at)
    }

    private mutating func parseMath2() throws -> Expr {
        var left = try parsePow()
        while case .op(let op) = current.kind, ["*", "/", "//", "%"].contains(op) {
            let at = current.location
            advance()
            left = Expr(kind: .binary(op, left, try parsePow()), at: at)
        }
        return left
    }

    /// jinja2 makes `**` left-associative, unlike Python.
    private mutating func parsePow() throws -> Expr {
        var left = try parseUnary()
        while isOp("**") {
            let at = current.location
            advance()
            left = Expr(kind: .binary("**", left, try parseUnary()), at: at)
        }
        return left
    }

    /// A unary minus binds tighter than filters: `-x|abs` is `(-x)|abs`.
    private mutating func parseUnary(withFilter: Bool = true) throws -> Expr {
        try enter()
        defer { depth -= 1 }
        let at = current.location
        var node: Expr
        if skipOp("-") {
            node = Expr(kind: .negate(try parseUnary(withFilter: false)), at: at)
        } else if skipOp("+") {
            node = Expr(kind: .plus(try parseUnary(withFilter: false)), at: at)
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        return withFilter ? try parseFilterExpression(node) : node
    }

    private mutating func parsePrimary() throws -> Expr {
        let token = current
        let at = token.location
        switch token.kind {
        case .name(let name):
            advance()
            switch name {
            case "true", "True": return Expr(kind: .constant(.bool(true)), at: at)
            case "false", "False": return Expr(kind: .constant(.bool(false)), at: at)
            case "none", "None": return Expr(kind: .constant(.none), at: at)
            default: return Expr(kind: .name(name), at: at)
            }
        case .string(var text):
            advance()
            // Adjacent string literals concatenate, as in Python.
            while case .string(let more) = current.kind { text += more; advance() }
            return Expr(kind: .constant(.string(text)), at: at)
        case .integer(let i):
            advance()
            return Expr(kind: .constant(.int(i)), at: at)
        case .float(let d):
            advance()
            return Expr(kind: .constant(.double(d)), at: at)
        case .op("("):
            advance()
            let inner = try parseTuple(explicitParentheses: true)
            try expectOp(")")
            return inner
        case .op("["):
            advance()
            var items: [Expr] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(","); if isOp("]") { break } }
                items.append(try parseExpression())
            }
            try expectOp("]")
            return Expr(kind: .list(items), at: at)
        case .op("{"):
            advance()
            var pairs: [(key: Expr, value: Expr)] = []
            while !isOp("}") {
                if !pairs.isEmpty { try expectOp(","); if isOp("}") { break } }
                let key = try parseExpression()
                try expectOp(":")
                pairs.append((key, try parseExpression()))
            }
            try expectOp("}")
            return Expr(kind: .dict(pairs), at: at)
        default:
            throw unexpected("an expression")
        }
    }

    private mutating func parsePostfix(_ start: Expr) throws -> Expr {
        var node = start
        while true {
            let at = current.location
            if skipOp(".") {
                switch current.kind {
                case .name(let name):
                    advance()
                    node = Expr(kind: .attribute(node, name), at: at)
                case .integer(let i):
                    advance()
                    node = Expr(kind: .item(node, Expr(kind: .constant(.int(i)), at: at)), at: at)
                default:
                    throw unexpected("an attribute name or number after '.'")
                }
            } else if skipOp("[") {
                node = try parseSubscript(node, at: at)
            } else if isOp("(") {
                node = Expr(kind: .call(node, try parseArguments()), at: node.at)
            } else {
                return node
            }
        }
    }

    /// `[i]`, `[a:b]`, `[a:b:c]` with any part optional; the `[` is already consumed.
    private mutating func parseSubscript(_ node: Expr, at: TemplateLocation) throws -> Expr {
        var parts: [Expr?] = []
        var sawColon = false
        var currentPart: Expr?
        while !isOp("]") {
            if skipOp(":") {
                sawColon = true
                parts.append(currentPart)
                currentPart = nil
                if parts.count > 2 { throw fail("a slice takes at most three parts") }
            } else {
                if currentPart != nil { throw unexpected("']' or ':'") }
                currentPart = try parseExpression()
            }
        }
        try expectOp("]")
        parts.append(currentPart)
        guard sawColon else {
            guard let index = parts[0] else { throw fail("empty subscript: expected an index inside '[]'", at: nil) }
            return Expr(kind: .item(node, index), at: at)
        }
        return Expr(kind: .slice(node, start: parts[0], stop: parts.count > 1 ? parts[1] : nil, step: parts.count > 2 ? parts[2] : nil), at: at)
    }

    /// `(a, b, key=value)`; the current token is `(`.
    mutating func parseArguments() throws -> Arguments {
        try expectOp("(")
        var arguments = Arguments()
        while !isOp(")") {
            if !arguments.positional.isEmpty || !arguments.keywords.isEmpty {
                try expectOp(",")
                if isOp(")") { break }
            }
            if isOp("*") || isOp("**") { throw fail("*args and **kwargs in calls are not supported") }
            if case .name(let name) = current.kind, next.kind == .op("=") {
                advance(); advance()
                arguments.keywords.append((name, try parseExpression()))
            } else {
                if !arguments.keywords.isEmpty { throw fail("positional argument follows keyword argument") }
                arguments.positional.append(try parseExpression())
            }
        }
        try expectOp(")")
        return arguments
    }

    mutating func parseDottedName() throws -> String {
        var name = try expectName()
        while skipOp(".") { name += "." + (try expectName()) }
        return name
    }

    private mutating func parseFilterExpression(_ start: Expr) throws -> Expr {
        var node = start
        while true {
            if skipOp("|") {
                let at = current.location
                let name = try parseDottedName()
                try TemplateFilters.validate(name, at: at)
                node = Expr(kind: .filter(node, name: name, isOp("(") ? try parseArguments() : Arguments()), at: at)
            } else if isName("is") {
                node = try parseTest(node)
            } else if isOp("(") {
                node = Expr(kind: .call(node, try parseArguments()), at: node.at)
            } else {
                return node
            }
        }
    }

    /// `x is [not] name`, `x is name(args)` or `x is name arg` (one argument without parentheses).
    private mutating func parseTest(_ node: Expr) throws -> Expr {
        advance()
        let negated = skipName("not")
        let at = current.location
        let name = try parseDottedName()
        try TemplateTests.validate(name, at: at)
        var arguments = Arguments()
        if isOp("(") {
            arguments = try parseArguments()
        } else if startsBareTestArgument {
            if isName("is") { throw fail("you cannot chain tests with 'is'") }
            arguments.positional = [try parsePostfix(try parsePrimary())]
        }
        return Expr(kind: .test(node, name: name, arguments, negated: negated), at: at)
    }

    private var startsBareTestArgument: Bool {
        switch current.kind {
        case .name(let n): return !["else", "or", "and"].contains(n)
        case .string, .integer, .float, .op("["), .op("{"): return true
        default: return false
        }
    }
}
