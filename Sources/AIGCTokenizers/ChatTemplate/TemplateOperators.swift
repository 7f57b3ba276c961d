// TemplateOperators: arithmetic and comparison with Python's rules (jinja2 hands them to Python): int and
// float mix, `/` is true division, `//` and `%` floor toward negative infinity, `+` and `*` also join and
// repeat strings and lists. Python integers never overflow; ours are 64-bit, so overflow is an error.
import Foundation

enum TemplateOperators {
    static func negate(_ value: Value) throws -> Value {
        switch value {
        case .undefined(let hint): throw ValueError.undefined(hint)
        case .double(let d): return .double(-d)
        default:
            guard let i = value.integer else { throw ValueError.invalid("bad operand type for unary -: '\(value.typeName)'") }
            return try checked(0.subtractingReportingOverflow(i))
        }
    }

    /// Joined sequences are bounded like everything a template builds.
    private static func items(_ joined: @autoclosure () -> [Value], count: Int) throws -> [Value] {
        guard count <= Value.maxItems else { throw ValueError.limit("sequence longer than \(Value.maxItems) items") }
        return joined()
    }

    private static func checked(_ result: (partialValue: Int, overflow: Bool)) throws -> Value {
        if result.overflow { throw ValueError.invalid("integer overflow: the result does not fit in 64 bits") }
        return .int(result.partialValue)
    }

    private static func unsupported(_ op: String, _ a: Value, _ b: Value) -> ValueError {
        if case .string = a, op == "+" { return .invalid("can only concatenate str (not \"\(b.typeName)\") to str") }
        return .invalid("unsupported operand type(s) for \(op): '\(a.typeName)' and '\(b.typeName)'")
    }

    static func binary(_ op: String, _ a: Value, _ b: Value, maxBytes: Int = 32 << 20) throws -> Value {
        if case .undefined(let hint) = a { throw ValueError.undefined(hint) }
        if case .string(let format) = a, op == "%" {
            if case .tuple(let values) = b { return .string(try PercentFormat.format(format, values)) }
            // Python treats any right operand with __getitem__ (list, dict, even Undefined) as a mapping.
            return .string(try PercentFormat.format(format, [b], mapping: b.isContainer || !b.isDefined))
        }
        if case .undefined(let hint) = b { throw ValueError.undefined(hint) }
        switch (op, a, b) {
        case ("+", .string(let x), .string(let y)):
            guard x.utf8.count + y.utf8.count <= maxBytes else { throw ValueError.limit("string longer than \(maxBytes) bytes") }
            return .string(x + y)
        case ("+", .array(let x), .array(let y)): return .array(try items(x + y, count: x.count + y.count))
        case ("+", .tuple(let x), .tuple(let y)): return .tuple(try items(x + y, count: x.count + y.count))
        case ("*", .string(let text), _), ("*", _, .string(let text)):
            guard let n = (a.integer ?? b.integer) else { throw unsupported(op, a, b) }
            guard n > 0, !text.isEmpty else { return .string("") }
            guard text.utf8.count <= maxBytes / n else { throw ValueError.limit("string repetition larger than \(maxBytes) bytes") }
            return .string(String(repeating: text, count: n))
        case ("*", .array(let list), _), ("*", _, .array(let list)), ("*", .tuple(let list), _), ("*", _, .tuple(let list)):
            guard let n = (a.integer ?? b.integer) else { throw unsupported(op, a, b) }
            let isTuple = a.isTuple || b.isTuple
            guard n > 0, !list.isEmpty else { return isTuple ? .tuple([]) : .array([]) }
            guard list.count <= Value.maxItems / n else { throw ValueError.limit("sequence repetition longer than \(Value.maxItems) items") }
            let repeated = Array([[Value]](repeating: list, count: n).joined())
            return isTuple ? .tuple(repeated) : .array(repeated)
        default:
            break
        }
        if let x = a.integer, let y = b.integer { return try integerArithmetic(op, x, y, a, b) }
        guard let x = a.number, let y = b.number else { throw unsupported(op, a, b) }
        switch op {
        case "+": return .double(x + y)
        case "-": return .double(x - y)
        case "*": return .double(x * y)
        case "/":
            guard y != 0 else { throw ValueError.invalid("division by zero") }
            return .double(x / y)
        case "//", "%":
            guard y != 0 else { throw ValueError.invalid(op == "%" ? "float modulo" : "float floor division by zero") }
            let (quotient, remainder) = floatDivMod(x, y)
            return .double(op == "//" ? quotient : remainder)
        case "**": return .double(pow(x, y))
        default: throw unsupported(op, a, b)
        }
    }

    /// CPython's `float_divmod`, so `2.5 // 0.1` is 24.0 as in Python, not the 25.0 that floor(2.5 / 0.1) gives.
    private static func floatDivMod(_ x: Double, _ y: Double) -> (Double, Double) {
        var remainder = fmod(x, y)
        var quotient = (x - remainder) / y
        if remainder != 0 {
            if (y < 0) != (remainder < 0) { remainder += y; quotient -= 1 }
        } else {
            remainder = copysign(0, y)
        }
        var floored = quotient.rounded(.down)
        if quotient != 0 {
            if quotient - floored > 0.5 { floored += 1 }
        } else {
            floored = copysign(0, x / y)
        }
        return (floored, remainder)
    }

    private static func integerArithmetic(_ op: String, _ x: Int, _ y: Int, _ a: Value, _ b: Value) throws -> Value {
        switch op {
        case "+": return try checked(x.addingReportingOverflow(y))
        case "-": return try checked(x.subtractingReportingOverflow(y))
        case "*": return try checked(x.multipliedReportingOverflow(by: y))
        case "/":
            guard y != 0 else { throw ValueError.invalid("division by zero") }
            return .double(Double(x) / Double(y))
        case "//", "%":
            guard y != 0 else { throw ValueError.invalid("integer division or modulo by zero") }
            if x == Int.min && y == -1 { return op == "%" ? .int(0) : try checked((0, true)) }
            var quotient = x / y, remainder = x % y
            if remainder != 0 && (remainder < 0) != (y < 0) { quotient -= 1; remainder += y }
            return .int(op == "//" ? quotient : remainder)
        case "**":
            if y < 0 { return .double(pow(Double(x), Double(y))) }
            var result = 1, base = x, exponent = y
            while exponent > 0 {
                if exponent & 1 == 1 { result = try checked(result.multipliedReportingOverflow(by: base)).integer ?? 0 }
                exponent >>= 1
                if exponent > 0 { base = try checked(base.multipliedReportingOverflow(by: base)).integer ?? 0 }
            }
            return .int(result)
        default:
            throw unsupported(op, a, b)
        }
    }

    /// `==`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `notin` (Python semantics).
    static func compare(_ op: String, _ a: Value, _ b: Value) throws -> Bool {
        switch op {
        case "==": return Value.equal(a, b)
        case "!=": return !Value.equal(a, b)
        case "<": return try Value.less(a, b, operator: op)
        case ">": return try Value.less(b, a, operator: op)
        case "<=": return try Value.less(a, b, operator: op) || Value.equal(a, b)
        case ">=": return try Value.less(b, a, operator: op) || Value.equal(a, b)
        case "in": return try contains(b, a)
        case "notin": return !(try contains(b, a))
        default: throw ValueError.invalid("unknown comparison '\(op)'")
        }
    }

    /// `item in container`; a dict's keys are strings here, so only hashable non-strings can miss.
    static func contains(_ container: Value, _ item: Value) throws -> Bool {
        switch container {
        case .undefined: return false
        case .string(let text):
            guard case .string(let needle) = item else {
                throw ValueError.invalid("'in <string>' requires string as left operand, not \(item.typeName)")
            }
            return PythonText.find(text, needle) != nil
        case .array(let items), .tuple(let items): return items.contains { Value.equal($0, item) }
        case .dictionary(let d):
            if case .string(let key) = item { return d[key] != nil }
            if item.isContainer && !(item.isTuple) { throw ValueError.invalid("unhashable type: '\(item.typeName)'") }
            return false
        case .namespace(let n):
            if case .string(let key) = item { return n.attributes[key] != nil }
            return false
        default:
            throw ValueError.invalid("argument of type '\(container.typeName)' is not iterable")
        }
    }
}
