// TemplateFilters+Sequences: filters over lists and dicts — join, first, last, list, items, selectattr,
// rejectattr, select, reject, map, sort, unique, sum, min, max, dictsort, reverse, batch (jinja2 3.1
// `filters.py`). Strings count as sequences of characters, dicts as sequences of keys, as in Python.

extension TemplateFilters {
    static func applySequenceFilter(_ name: String, to value: Value, _ arguments: CallArguments, evaluator: TemplateEvaluator) throws -> Value {
        switch name {
        case "join":
            let separator = arguments.value(0, "d")?.str ?? ""
            var items = try value.iterate()
            if let attribute = arguments.value(1, "attribute"), !attribute.isNone {
                items = try items.map { try item($0, path: attribute) }
            }
            let texts = items.map(\.str)
            try checkSize(texts.reduce(0) { $0 + $1.utf8.count } + max(0, texts.count - 1) * separator.utf8.count)
            return .string(texts.joined(separator: separator))
        case "first":
            return try value.iterate().first ?? .undefined(hint: "no first item, the sequence was empty")
        case "last":
            return try value.iterate().last ?? .undefined(hint: "no last item, the sequence was empty")
        case "list":
            return .array(try value.iterate())
        case "items":
            switch value {
            case .undefined: return .array([])
            case .dictionary(let d): return .array(d.map { .tuple([.string($0.key), $0.value]) })
            default: throw ValueError.invalid("can only get item pairs from a mapping, not '\(value.typeName)'")
            }
        case "reverse":
            if case .string(let s) = value { return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed()))) }
            return .array(try value.iterate().reversed())
        case "selectattr", "rejectattr", "select", "reject":
            // jinja2 only iterates a truthy input (`if seq: for item in seq`), so None or 0 give nothing.
            return .array(value.isTruthy ? try selectOrReject(name, value, arguments, evaluator: evaluator) : [])
        case "map":
            return .array(value.isTruthy ? try map(value, arguments, evaluator: evaluator) : [])
        case "sort":
            let key = try sortKey(arguments, attributeIndex: 2)
            let sorted = try stableSort(try value.iterate(), key: key)
            return .array(arguments.value(0, "reverse")?.isTruthy ?? false ? sorted.reversed() : sorted)
        case "unique":
            let key = try sortKey(arguments, attributeIndex: 1, caseIndex: 0)
            var seen: [Value] = [], result: [Value] = []
            for element in try value.iterate() {
                let k = try key(element)
                // Python's unique uses a set, so lists and dicts (and tuples holding them) cannot be compared.
                guard k.isHashable else { throw ValueError.invalid("unhashable type: '\(k.typeName)'") }
                if !seen.contains(where: { Value.equal($0, k) }) { seen.append(k); result.append(element) }
            }
            return .array(result)
        case "min", "max":
            let key = try sortKey(arguments, attributeIndex: 1, caseIndex: 0)
            let sorted = try stableSort(try value.iterate(), key: key)
            return (name == "min" ? sorted.first : sorted.last) ?? .undefined(hint: "no \(name) item, the sequence was empty")
        case "sum":
            var total = arguments.value(1, "start") ?? .int(0)
            let attribute = arguments.value(0, "attribute")
            for element in try value.iterate() {
                let term = try attribute.map { $0.isNone ? element : try item(element, path: $0) } ?? element
                total = try TemplateOperators.binary("+", total, term)
            }
            return total
        case "dictsort":
            guard case .dictionary(let d) = value else { throw ValueError.invalid("dictsort needs a dict, got '\(value.typeName)'") }
            let caseSensitive = arguments.value(0, "case_sensitive")?.isTruthy ?? false
            let byValue = arguments.value(1, "by")?.str == "value"
            let pairs = d.map { Value.tuple([.string($0.key), $0.value]) }
            let sorted = try stableSort(pairs) { pair in
                guard case .tuple(let kv) = pair else { return pair }
                let k = kv[byValue ? 1 : 0]
                if !caseSensitive, case .string(let s) = k { return .string(s.lowercased()) }
                return k
            }
            return .array(arguments.value(2, "reverse")?.isTruthy ?? false ? sorted.reversed() : sorted)
        case "batch":
            guard let size = arguments.value(0, "linecount")?.integer, size > 0 else { throw ValueError.invalid("batch needs a positive size") }
            guard size <= Value.maxItems else { throw ValueError.limit("batch size larger than \(Value.maxItems)") }
            let items = try value.iterate()
            let fill = arguments.value(1, "fill_with")
            return .array(stride(from: 0, to: items.count, by: size).map { start in
                var chunk = Array(items[start..<min(start + size, items.count)])
                if let fill, !fill.isNone { while chunk.count < size { chunk.append(fill) } }
                return .array(chunk)
            })
        default:
            throw ValueError.invalid("unknown filter '\(name)'")
        }
    }

    /// jinja2 `make_attrgetter`: `"a.b.0"` looks up `a`, then `b`, then item 0, each by item then attribute.
    static func item(_ value: Value, path: Value) throws -> Value {
        if let index = path.integer { return try TemplateEvaluator.item(of: value, .int(index)) }
        var current = value
        for part in PythonText.split(path.str, separator: ".") {
            current = try TemplateEvaluator.item(of: current, Int(part).map(Value.int) ?? .string(part))
        }
        return current
    }

    private static func selectOrReject(_ name: String, _ value: Value, _ arguments: CallArguments, evaluator: TemplateEvaluator) throws -> [Value] {
        let byAttribute = name.hasSuffix("attr")
        var rest = arguments.positional
        var attribute: Value?
        if byAttribute {
            guard !rest.isEmpty else { throw ValueError.invalid("\(name) needs an attribute name") }
            attribute = rest.removeFirst()
        }
        let testName = rest.isEmpty ? nil : rest.removeFirst().str
        if let testName, !TemplateTests.names.contains(testName) { throw ValueError.invalid("no test named '\(testName)'") }
        let keep = !name.hasPrefix("reject")
        return try value.iterate().filter { element in
            let subject = try attribute.map { try item(element, path: $0) } ?? element
            let passed = try testName.map { try TemplateTests.apply($0, to: subject, CallArguments(positional: rest, keywords: arguments.keywords)) }
                ?? subject.isTruthy
            return passed == keep
        }
    }

    private static func map(_ value: Value, _ arguments: CallArguments, evaluator: TemplateEvaluator) throws -> [Value] {
        let items = try value.iterate()
        if let attribute = arguments.keywords.first(where: { $0.name == "attribute" })?.value {
            let fallback = arguments.keywords.first { $0.name == "default" }?.value
            return try items.map { element in
                let found = try item(element, path: attribute)
                if let fallback, !found.isDefined { return fallback }
                return found
            }
        }
        guard let filter = arguments.positional.first?.str else { throw ValueError.invalid("map needs a filter name or attribute=") }
        guard names.contains(filter) else { throw ValueError.invalid("no filter named '\(filter)'") }
        let rest = CallArguments(positional: Array(arguments.positional.dropFirst()), keywords: arguments.keywords)
        return try items.map { try apply(filter, to: $0, rest, evaluator: evaluator) }
    }

    /// The sort key of `sort`, `unique`, `min` and `max`: an optional attribute, lower-cased unless case-sensitive.
    private static func sortKey(_ arguments: CallArguments, attributeIndex: Int, caseIndex: Int = 1) throws -> (Value) throws -> Value {
        let caseSensitive = arguments.value(caseIndex, "case_sensitive")?.isTruthy ?? false
        let attribute = arguments.value(attributeIndex, "attribute").flatMap { $0.isNone ? nil : $0 }
        return { element in
            let k = try attribute.map { try item(element, path: $0) } ?? element
            if !caseSensitive, case .string(let s) = k { return .string(s.lowercased()) }
            return k
        }
    }

    /// Python's `sorted` is stable; so is this (insertion order breaks ties).
    private static func stableSort(_ items: [Value], key: (Value) throws -> Value) throws -> [Value] {
        let keyed = try items.enumerated().map { (offset: $0.offset, key: try key($0.element), value: $0.element) }
        var failure: Error?
        let sorted = keyed.sorted { a, b in
            do {
                if try Value.less(a.key, b.key, operator: "<") { return true }
                if try Value.less(b.key, a.key, operator: "<") { return false }
            } catch {
                failure = failure ?? error
            }
            return a.offset < b.offset
        }
        if let failure { throw failure }
        return sorted.map(\.value)
    }
}
