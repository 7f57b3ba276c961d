// TemplateTests: jinja2's tests, the right side of `x is name` (`is defined`, `is string`, `is mapping`,
// `is none`, `is equalto 'user'`...), with jinja2 3.1's `tests.py` semantics. `selectattr`/`rejectattr`
// and `select`/`reject` reuse them.

enum TemplateTests {
    static let names: Set<String> = [
        "defined", "undefined", "none", "boolean", "true", "false", "integer", "float", "number", "string", "mapping",
        "iterable", "sequence", "callable", "lower", "upper", "odd", "even", "divisibleby", "eq", "equalto", "==",
        "ne", "!=", "lt", "lessthan", "<", "le", "<=", "gt", "greaterthan", ">", "ge", ">=", "in", "sameas",
        "escaped", "filter", "test",
    ]

    static func validate(_ name: String, at: TemplateLocation) throws {
        guard names.contains(name) else { throw ChatTemplateError.unknownTest(name: name, at: at) }
    }

    private static func argument(_ arguments: CallArguments, _ test: String) throws -> Value {
        guard let value = arguments.value(0, "other") ?? arguments.value(0, "value") ?? arguments.value(0, "num") ?? arguments.value(0, "seq") else {
            throw ValueError.invalid("test '\(test)' needs an argument")
        }
        return value
    }

    static func apply(_ name: String, to value: Value, _ arguments: CallArguments) throws -> Bool {
        switch name {
        case "defined": return value.isDefined
        case "undefined": return !value.isDefined
        case "none": return value.isNone
        case "boolean": if case .bool = value { return true } else { return false }
        case "true": if case .bool(true) = value { return true } else { return false }
        case "false": if case .bool(false) = value { return true } else { return false }
        case "integer": if case .int = value { return true } else { return false }
        case "float": if case .double = value { return true } else { return false }
        case "number": return value.number != nil
        case "string": if case .string = value { return true } else { return false }
        case "mapping": if case .dictionary = value { return true } else { return false }
        case "iterable", "sequence":
            switch value {
            case .undefined, .string, .array, .tuple, .dictionary: return true
            default: return false
            }
        case "callable":
            switch value {
            case .callable, .undefined: return true  // Undefined defines __call__ (which raises)
            default: return false
            }
        case "lower": return value.str.contains { $0.isCased } && value.str.lowercased() == value.str
        case "upper": return value.str.contains { $0.isCased } && value.str.uppercased() == value.str
        case "odd", "even":
            // jinja2 tests `value % 2 == 1` (or `== 0`), so floats qualify too.
            let remainder = try TemplateOperators.binary("%", value, .int(2))
            return Value.equal(remainder, .int(name == "odd" ? 1 : 0))
        case "divisibleby":
            // jinja2 tests `value % num == 0`.
            return Value.equal(try TemplateOperators.binary("%", value, argument(arguments, name)), .int(0))
        case "eq", "equalto", "==": return try TemplateOperators.compare("==", value, argument(arguments, name))
        case "ne", "!=": return try TemplateOperators.compare("!=", value, argument(arguments, name))
        case "lt", "lessthan", "<": return try TemplateOperators.compare("<", value, argument(arguments, name))
        case "le", "<=": return try TemplateOperators.compare("<=", value, argument(arguments, name))
        case "gt", "greaterthan", ">": return try TemplateOperators.compare(">", value, argument(arguments, name))
        case "ge", ">=": return try TemplateOperators.compare(">=", value, argument(arguments, name))
        case "in": return try TemplateOperators.contains(argument(arguments, name), value)
        case "sameas":
            let other = try argument(arguments, name)
            switch (value, other) {
            case (.none, .none): return true
            case (.bool(let a), .bool(let b)): return a == b
            case (.namespace(let a), .namespace(let b)): return a === b
            case (.int(let a), .int(let b)): return a == b && (-5...256).contains(a)  // CPython caches small ints
            default: return false
            }
        case "escaped": return false
        case "filter": if case .string(let s) = value { return TemplateFilters.names.contains(s) } else { return false }
        case "test": if case .string(let s) = value { return names.contains(s) } else { return false }
        default: throw ValueError.invalid("unknown test '\(name)'")
        }
    }
}
