// TemplateMethods: attribute access and the Python methods templates call on values — `message.content`,
// `content.strip()`, `text.split('\n')`, `tool.items()`, `d.get('k', default)`. As in jinja2's
// ImmutableSandboxedEnvironment, methods that would modify a list or dict are refused.

enum TemplateMethods {
    /// `value.name`: a method or attribute first, then (for dicts) the key `name`; a miss is Undefined.
    static func attribute(of value: Value, _ name: String, itemFallback: Bool = true) throws -> Value {
        switch value {
        case .undefined(let hint):
            throw ValueError.undefined(hint)
        case .dictionary(let d):
            if let method = dictionaryMethod(d, name) { return .callable(method) }
            if itemFallback, let found = d[name] { return found }
        case .string(let text):
            if let method = stringMethod(text, name) { return .callable(method) }
        case .array(let items), .tuple(let items):
            if let method = listMethod(items, name) { return .callable(method) }
        case .namespace(let namespace):
            if let found = namespace.attributes[name] { return found }
        default:
            break
        }
        if unsafeMethods.contains(name), value.isContainer {
            return .undefined(hint: "access to attribute '\(name)' of '\(value.typeName)' object is unsafe: templates may not modify their inputs")
        }
        return .undefined(hint: "'\(value.typeName) object' has no attribute '\(name)'")
    }

    private static let unsafeMethods: Set<String> = [
        "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "update", "setdefault", "popitem",
    ]

    private static func method(_ name: String, _ body: @escaping (CallArguments) throws -> Value) -> Callable {
        Callable(name: name, call: body)
    }

    private static func string(_ arguments: CallArguments, _ index: Int, _ name: String, method: String) throws -> String? {
        guard let value = arguments.value(index, name), !value.isNone else { return nil }
        guard case .string(let text) = value else {
            throw ValueError.invalid("\(method)() argument must be str or None, not \(value.typeName)")
        }
        return text
    }

    private static func dictionaryMethod(_ d: TemplateDictionary<Value>, _ name: String) -> Callable? {
        switch name {
        case "items":
            return method(name) { _ in .array(d.map { .tuple([.string($0.key), $0.value]) }) }
        case "keys":
            return method(name) { _ in .array(d.keys.map(Value.string)) }
        case "values":
            return method(name) { _ in .array(d.values) }
        case "get":
            return method(name) { arguments in
                try arguments.check("get", maxPositional: 2)
                guard let key = arguments.value(0, "key") else { throw ValueError.invalid("get expected at least 1 argument, got 0") }
                if case .string(let k) = key, let found = d[k] { return found }
                return arguments.value(1, "default") ?? .none
            }
        case "copy":
            return method(name) { _ in .dictionary(d) }
        default:
            return nil
        }
    }

    private static func listMethod(_ items: [Value], _ name: String) -> Callable? {
        switch name {
        case "index":
            return method(name) { arguments in
                guard let target = arguments.value(0, "value"), let i = items.firstIndex(where: { Value.equal($0, target) }) else {
                    throw ValueError.invalid("list.index(x): x not in list")
                }
                return .int(i)
            }
        case "count":
            return method(name) { arguments in
                guard let target = arguments.value(0, "value") else { throw ValueError.invalid("count() takes exactly one argument") }
                return .int(items.filter { Value.equal($0, target) }.count)
            }
        default:
            return nil
        }
    }

    private static func stringMethod(_ text: String, _ name: String) -> Callable? {
        switch name {
        case "strip", "lstrip", "rstrip":
            return method(name) { arguments in
                let chars = try string(arguments, 0, "chars", method: name)
                return .string(PythonText.strip(text, chars, leading: name != "rstrip", trailing: name != "lstrip"))
            }
        case "split", "rsplit":
            return method(name) { arguments in
                let separator = try string(arguments, 0, "sep", method: name)
                if separator == "" { throw ValueError.invalid("empty separator") }
                let maxSplit = arguments.value(1, "maxsplit")?.integer ?? -1
                if name == "rsplit" && maxSplit >= 0 {
                    // Split from the right: reverse, split, reverse back.
                    let reversed = String(String.UnicodeScalarView(text.unicodeScalars.reversed()))
                    let sep = separator.map { String(String.UnicodeScalarView($0.unicodeScalars.reversed())) }
                    return .array(PythonText.split(reversed, separator: sep, maxSplit: maxSplit).reversed()
                        .map { .string(String(String.UnicodeScalarView($0.unicodeScalars.reversed()))) })
                }
                return .array(PythonText.split(text, separator: separator, maxSplit: maxSplit).map(Value.string))
            }
        case "splitlines":
            return method(name) { _ in
                var lines = PythonText.split(text, separator: "\n")
                if lines.last == "" { lines.removeLast() }
                return .array(lines.map(Value.string))
            }
        case "startswith", "endswith":
            return method(name) { arguments in
                guard let prefix = arguments.value(0, "prefix") else { throw ValueError.invalid("\(name)() takes at least 1 argument (0 given)") }
                let candidates: [Value]
                switch prefix {
                case .tuple(let items): candidates = items
                case .string: candidates = [prefix]
                default: throw ValueError.invalid("\(name) first arg must be str or a tuple of str, not \(prefix.typeName)")
                }
                return .bool(try candidates.contains { candidate in
                    guard case .string(let s) = candidate else { throw ValueError.invalid("tuple for \(name) must only contain str") }
                    return name == "startswith" ? PythonText.hasPrefix(text, s) : PythonText.hasSuffix(text, s)
                })
            }
        case "upper": return method(name) { _ in .string(text.uppercased()) }
        case "lower": return method(name) { _ in .string(text.lowercased()) }
        case "title": return method(name) { _ in .string(PythonText.title(text)) }
        case "capitalize": return method(name) { _ in .string(PythonText.capitalize(text)) }
        case "replace":
            return method(name) { arguments in
                guard let old = try string(arguments, 0, "old", method: name), let new = try string(arguments, 1, "new", method: name) else {
                    throw ValueError.invalid("replace() takes at least 2 arguments")
                }
                return .string(PythonText.replace(text, old, new, count: arguments.value(2, "count")?.integer ?? -1))
            }
        case "find", "rfind":
            return method(name) { arguments in
                let needle = try string(arguments, 0, "sub", method: name) ?? ""
                return .int(PythonText.find(text, needle, last: name == "rfind") ?? -1)
            }
        case "count":
            return method(name) { arguments in .int(PythonText.count(text, try string(arguments, 0, "sub", method: name) ?? "")) }
        case "join":
            return method(name) { arguments in
                let items = try (arguments.value(0, "iterable") ?? .array([])).iterate()
                return .string(try items.map { item in
                    guard case .string(let s) = item else { throw ValueError.invalid("sequence item: expected str instance, \(item.typeName) found") }
                    return s
                }.joined(separator: text))
            }
        case "isdigit": return method(name) { _ in .bool(!text.isEmpty && text.unicodeScalars.allSatisfy { $0.properties.numericType == .decimal || $0.properties.numericType == .digit }) }
        case "isspace": return method(name) { _ in .bool(!text.isEmpty && text.unicodeScalars.allSatisfy(PythonText.isSpace)) }
        case "isalpha": return method(name) { _ in .bool(!text.isEmpty && text.unicodeScalars.allSatisfy(\.properties.isAlphabetic)) }
        case "islower": return method(name) { _ in .bool(text.contains { $0.isCased } && text.lowercased() == text) }
        case "isupper": return method(name) { _ in .bool(text.contains { $0.isCased } && text.uppercased() == text) }
        default: return nil
        }
    }
}

extension Value {
    var isTuple: Bool { if case .tuple = self { return true } else { return false } }

    /// Whether Python could put the value in a set: not lists or dicts, nor tuples holding them.
    var isHashable: Bool {
        switch self {
        case .array, .dictionary: return false
        case .tuple(let items): return items.allSatisfy(\.isHashable)
        default: return true
        }
    }

    var isContainer: Bool {
        switch self {
        case .array, .tuple, .dictionary: return true
        default: return false
        }
    }
}
