// TemplateEvaluator+Expressions: evaluating expressions — names, literals, attribute and item access with
// jinja2's fallbacks (`a.b` tries the attribute then the item, `a[b]` the item then the attribute, and a miss
// gives Undefined rather than an error), slices, calls, filters, tests, boolean logic and comparisons.

extension TemplateEvaluator {
    func evaluate(_ expr: Expr) throws -> Value {
        let at = expr.at
        switch expr.kind {
        case .constant(let constant):
            return Value(constant)
        case .name(let name):
            return lookup(name)
        case .list(let items):
            let value = Value.array(try items.map(evaluate))
            try located(at) { try value.checkNesting() }
            return value
        case .tuple(let items):
            let value = Value.tuple(try items.map(evaluate))
            try located(at) { try value.checkNesting() }
            return value
        case .dict(let pairs):
            var dictionary = TemplateDictionary<Value>()
            for pair in pairs {
                let key = try evaluate(pair.key)
                guard case .string(let name) = key else {
                    throw ChatTemplateError.invalidOperation(message: "dictionary keys must be strings, got '\(key.typeName)'", at: pair.key.at)
                }
                dictionary[name] = try evaluate(pair.value)
            }
            try located(at) { try Value.dictionary(dictionary).checkNesting() }
            return .dictionary(dictionary)
        case .attribute(let object, let name):
            let value = try evaluate(object)
            return try located(at) { try TemplateMethods.attribute(of: value, name) }
        case .item(let object, let index):
            let value = try evaluate(object), key = try evaluate(index)
            return try located(at) { try Self.item(of: value, key) }
        case .slice(let object, let start, let stop, let step):
            let value = try evaluate(object)
            let bounds = try [start, stop, step].map { try $0.map(evaluate) }
            return try located(at) { try Self.slice(value, bounds[0], bounds[1], bounds[2]) }
        case .call(let callee, let arguments):
            let function = try evaluate(callee)
            let values = try evaluate(arguments)
            return try located(at) {
                switch function {
                case .callable(let callable): return try callable.call(values)
                case .undefined(let hint): throw ValueError.undefined(hint)
                default: throw ValueError.invalid("'\(function.typeName)' object is not callable")
                }
            }
        case .filter(let input, let name, let arguments):
            let value = try evaluate(input)
            let values = try evaluate(arguments)
            return try located(at) { try TemplateFilters.apply(name, to: value, values, evaluator: self) }
        case .test(let input, let name, let arguments, let negated):
            let value = try evaluate(input)
            let values = try evaluate(arguments)
            let result = try located(at) { try TemplateTests.apply(name, to: value, values) }
            return .bool(result != negated)
        case .negate(let operand):
            let value = try evaluate(operand)
            return try located(at) { try TemplateOperators.negate(value) }
        case .plus(let operand):
            let value = try evaluate(operand)
            return try located(at) { try TemplateOperators.binary("+", .int(0), value) }
        case .not(let operand):
            return .bool(!(try evaluate(operand).isTruthy))
        case .and(let left, let right):
            let l = try evaluate(left)
            return l.isTruthy ? try evaluate(right) : l
        case .or(let left, let right):
            let l = try evaluate(left)
            return l.isTruthy ? l : try evaluate(right)
        case .binary(let op, let left, let right):
            let l = try evaluate(left), r = try evaluate(right)
            return try located(at) { try TemplateOperators.binary(op, l, r, maxBytes: limits.maxOutputBytes) }
        case .concat(let parts):
            let texts = try parts.map { try evaluate($0).str }
            if texts.reduce(0, { $0 + $1.utf8.count }) > limits.maxOutputBytes {
                throw ChatTemplateError.limitExceeded(message: "string longer than \(limits.maxOutputBytes) bytes", at: at)
            }
            return .string(texts.joined())
        case .compare(let first, let operations):
            var left = try evaluate(first)
            for operation in operations {
                let right = try evaluate(operation.right)
                let holds = try located(at) { try TemplateOperators.compare(operation.op, left, right) }
                if !holds { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .conditional(let condition, let then, let otherwise):
            if try evaluate(condition).isTruthy { return try evaluate(then) }
            guard let otherwise else { return .undefined(hint: "the inline if-expression at \(at) has no else branch") }
            return try evaluate(otherwise)
        }
    }

    func evaluate(_ arguments: Arguments) throws -> CallArguments {
        CallArguments(positional: try arguments.positional.map(evaluate),
                      keywords: try arguments.keywords.map { ($0.name, try evaluate($0.value)) })
    }

    /// `value[key]`: items first, then attributes (so `d['items']` finds a key named "items").
    static func item(of value: Value, _ key: Value) throws -> Value {
        switch (value, key) {
        case (.undefined(let hint), _):
            throw ValueError.undefined(hint)
        case (.array(let items), _), (.tuple(let items), _):
            guard let i = key.integer else { break }
            let index = i < 0 ? i + items.count : i
            if index >= 0 && index < items.count { return items[index] }
            return .undefined(hint: "\(value.typeName) index \(i) is out of range (length \(items.count))")
        case (.string(let text), _):
            guard let i = key.integer else { break }
            let scalars = Array(text.unicodeScalars)
            let index = i < 0 ? i + scalars.count : i
            if index >= 0 && index < scalars.count { return .string(String(scalars[index])) }
            return .undefined(hint: "string index \(i) is out of range (length \(scalars.count))")
        case (.dictionary(let d), .string(let name)):
            if let found = d[name] { return found }
        case (.namespace(let n), .string(let name)):
            if let found = n.attributes[name] { return found }
        default:
            break
        }
        if case .string(let name) = key { return try TemplateMethods.attribute(of: value, name, itemFallback: false) }
        return .undefined(hint: "'\(value.typeName) object' has no element \(key.repr)")
    }

    /// Python slicing of lists, tuples and strings: `value[start:stop:step]`.
    static func slice(_ value: Value, _ start: Value?, _ stop: Value?, _ step: Value?) throws -> Value {
        func bound(_ v: Value?) throws -> Int? {
            guard let v, !(v.isNone) else { return nil }
            guard let i = v.integer else { throw ValueError.invalid("slice indices must be integers or None, not '\(v.typeName)'") }
            return i
        }
        let stride = try bound(step) ?? 1
        guard stride != 0 else { throw ValueError.invalid("slice step cannot be zero") }
        func indices(_ count: Int) throws -> [Int] {
            func clamp(_ i: Int?, _ defaultValue: Int) -> Int {
                guard var i else { return defaultValue }
                if i < 0 { i += count }
                return stride > 0 ? min(max(i, 0), count) : min(max(i, -1), count - 1)
            }
            let lo = clamp(try bound(start), stride > 0 ? 0 : count - 1)
            let hi = clamp(try bound(stop), stride > 0 ? count : -1)
            return Array(Swift.stride(from: lo, to: hi, by: stride))
        }
        switch value {
        case .undefined(let hint): throw ValueError.undefined(hint)
        case .array(let items): return .array(try indices(items.count).map { items[$0] })
        case .tuple(let items): return .tuple(try indices(items.count).map { items[$0] })
        case .string(let text):
            let scalars = Array(text.unicodeScalars)
            return .string(String(String.UnicodeScalarView(try indices(scalars.count).map { scalars[$0] })))
        default:
            return .undefined(hint: "'\(value.typeName)' object cannot be sliced")
        }
    }
}

extension Value {
    var isNone: Bool { if case .none = self { return true } else { return false } }
}
