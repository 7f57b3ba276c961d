// TemplateFilters: jinja2's filters, the right side of `x | name(...)`, with jinja2 3.1 `filters.py`
// semantics, and `tojson` as transformers overrides it (plain `json.dumps`, no HTML escaping, keys in order,
// `ensure_ascii=False`). Filters over sequences live in TemplateFilters+Sequences.swift.
import Foundation

enum TemplateFilters {
    static let names: Set<String> = [
        "trim", "length", "count", "tojson", "upper", "lower", "capitalize", "title", "default", "d", "join", "first",
        "last", "list", "string", "items", "replace", "selectattr", "rejectattr", "select", "reject", "map", "abs",
        "int", "float", "round", "reverse", "sort", "unique", "sum", "min", "max", "dictsort", "indent", "center",
        "safe", "escape", "e", "format", "wordcount", "batch",
    ]

    static func validate(_ name: String, at: TemplateLocation) throws {
        guard names.contains(name) else { throw ChatTemplateError.unknownFilter(name: name, at: at) }
    }

    static func apply(_ name: String, to value: Value, _ arguments: CallArguments, evaluator: TemplateEvaluator) throws -> Value {
        switch name {
        case "trim":
            let chars = arguments.value(0, "chars").flatMap { $0.isNone ? nil : $0.str }
            return .string(PythonText.strip(value.str, chars))
        case "length", "count":
            return .int(try length(value))
        case "tojson":
            try arguments.check("tojson", maxPositional: 0, keywords: ["indent", "ensure_ascii", "separators", "sort_keys"])
            let indent = arguments.value(0, "indent").flatMap { $0.isNone ? nil : $0 }
            if let indent, indent.integer == nil { throw ValueError.invalid("tojson indent must be an integer") }
            if let width = indent?.integer, width > 1000 { throw ValueError.limit("tojson indent \(width) is larger than 1000") }
            var separators: (String, String)?
            if let s = arguments.value(0, "separators"), !s.isNone {
                let parts = try s.iterate()
                guard parts.count == 2 else { throw ValueError.invalid("tojson separators must be a pair of strings") }
                separators = (parts[0].str, parts[1].str)
            }
            return .string(TemplateJSON.dumps(try value.json(), indent: indent?.integer,
                                              ensureASCII: arguments.value(0, "ensure_ascii")?.isTruthy ?? false,
                                              separators: separators, sortKeys: arguments.value(0, "sort_keys")?.isTruthy ?? false))
        case "upper": return .string(value.str.uppercased())
        case "lower": return .string(value.str.lowercased())
        case "capitalize": return .string(PythonText.capitalize(value.str))
        case "title": return .string(PythonText.titleFilter(value.str))
        case "default", "d":
            let fallback = arguments.value(0, "default_value") ?? .string("")
            let boolean = arguments.value(1, "boolean")?.isTruthy ?? false
            return !value.isDefined || (boolean && !value.isTruthy) ? fallback : value
        case "string": return .string(value.str)
        case "safe": return value
        case "escape", "e": return .string(escapeHTML(value.str))
        case "replace":
            guard let old = arguments.value(0, "old"), let new = arguments.value(1, "new") else {
                throw ValueError.invalid("replace needs the text to find and its replacement")
            }
            let count = arguments.value(2, "count").flatMap { $0.isNone ? nil : $0.integer } ?? -1
            let text = value.str
            try checkSize(text.utf8.count + PythonText.count(text, old.str) * new.str.utf8.count)
            return .string(PythonText.replace(text, old.str, new.str, count: count))
        case "indent":
            // jinja2 appends to the value itself, so anything but a string fails there.
            guard case .string(let text) = value else { throw ValueError.invalid("indent needs a string, got '\(value.typeName)'") }
            return .string(try indent(text, arguments))
        case "center":
            let width = arguments.value(0, "width")?.integer ?? 80
            try checkSize(width)
            let text = value.str, length = text.unicodeScalars.count
            guard width > length else { return .string(text) }
            let total = width - length, left = total / 2 + (total & width & 1)
            return .string(String(repeating: " ", count: left) + text + String(repeating: " ", count: total - left))
        case "format":
            return .string(try PercentFormat.format(value.str, arguments.positional))
        case "wordcount":
            // jinja2 counts matches of the regex \w+.
            var words = 0, inWord = false
            for c in value.str.unicodeScalars {
                let isWord = c == "_" || c.properties.isAlphabetic || c.properties.numericType != nil
                if isWord && !inWord { words += 1 }
                inWord = isWord
            }
            return .int(words)
        case "abs":
            if case .double(let d) = value { return .double(abs(d)) }
            guard let i = value.integer else { throw ValueError.invalid("bad operand type for abs(): '\(value.typeName)'") }
            return try TemplateOperators.negate(.int(i < 0 ? i : -i))
        case "int", "float":
            // int(Undefined) and float(Undefined) fail in jinja2.
            if case .undefined(let hint) = value { throw ValueError.undefined(hint) }
            if name == "int" { return integer(value, arguments) }
            let fallback = arguments.value(0, "default") ?? .double(0)
            if let n = value.number { return .double(n) }
            if case .string(let s) = value, let d = Double(PythonText.strip(s)) { return .double(d) }
            return fallback
        case "round": return try round(value, arguments)
        default:
            return try applySequenceFilter(name, to: value, arguments, evaluator: evaluator)
        }
    }

    /// Refuses to build a string past the output limit (the evaluator's default), before allocating it.
    static func checkSize(_ bytes: Int) throws {
        let limit = TemplateEvaluator.Limits().maxOutputBytes
        if bytes > limit { throw ValueError.limit("result larger than \(limit) bytes") }
    }

    /// Python `len()`.
    static func length(_ value: Value) throws -> Int {
        switch value {
        case .undefined: return 0
        case .string(let s): return s.unicodeScalars.count
        case .array(let a), .tuple(let a): return a.count
        case .dictionary(let d): return d.count
        case .namespace(let n): return n.attributes.count
        default: throw ValueError.invalid("object of type '\(value.typeName)' has no len()")
        }
    }

    private static func escapeHTML(_ text: String) -> String {
        var out = ""
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// jinja2 `indent(width=4, first=False, blank=False)`: indents every line but the first.
    private static func indent(_ text: String, _ arguments: CallArguments) throws -> String {
        let width = arguments.value(0, "width")
        let padding: String
        if case .string(let s)? = width { padding = s } else {
            let count = max(0, width?.integer ?? 4)
            try checkSize(count)
            padding = String(repeating: " ", count: count)
        }
        let first = arguments.value(1, "first")?.isTruthy ?? false
        let blank = arguments.value(2, "blank")?.isTruthy ?? false
        var lines = PythonText.split(text, separator: "\n")
        try checkSize(text.utf8.count + (lines.count + 1) * padding.utf8.count)
        for i in lines.indices where i > 0 || first {
            if blank || !PythonText.strip(lines[i]).isEmpty { lines[i] = padding + lines[i] }
        }
        return lines.joined(separator: "\n")
    }

    private static func integer(_ value: Value, _ arguments: CallArguments) -> Value {
        let fallback = arguments.value(0, "default") ?? .int(0)
        let base = arguments.value(1, "base")?.integer ?? 10
        guard (2...36).contains(base) else { return fallback }
        switch value {
        case .bool, .int: return .int(value.integer ?? 0)
        case .double(let d): return Int(exactly: d.rounded(.towardZero)).map(Value.int) ?? fallback
        case .string(let s):
            let text = PythonText.strip(s).replacingOccurrences(of: "_", with: "")
            if let i = Int(text, radix: base) { return .int(i) }
            if base == 10, let d = Double(text), let i = Int(exactly: d.rounded(.towardZero)) { return .int(i) }
            return fallback
        default: return fallback
        }
    }

    /// jinja2 `round(precision=0, method='common')`; 'common' is Python's `round`, which rounds half to even.
    private static func round(_ value: Value, _ arguments: CallArguments) throws -> Value {
        guard let n = value.number else { throw ValueError.invalid("round needs a number, got '\(value.typeName)'") }
        let precision = arguments.value(0, "precision")?.integer ?? 0
        let method = arguments.value(1, "method")?.str ?? "common"
        let scale = pow(10, Double(precision))
        switch method {
        case "common":
            // Python's round keeps integers (and bools) integers.
            if let i = value.integer { return precision >= 0 ? .int(i) : .int(Int(exactly: (n * scale).rounded(.toNearestOrEven) / scale) ?? i) }
            return .double((n * scale).rounded(.toNearestOrEven) / scale)
        case "ceil": return .double((n * scale).rounded(.up) / scale)
        case "floor": return .double((n * scale).rounded(.down) / scale)
        default: throw ValueError.invalid("method must be common, ceil or floor")
        }
    }
}
