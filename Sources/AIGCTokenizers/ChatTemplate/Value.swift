// Value: what a template computes with at run time — TemplateValue plus the things only templates make:
// jinja2's Undefined, tuples, namespace() objects and callables (builtins, bound methods, macros). Printing,
// truthiness and equality follow Python, because jinja2 delegates them to Python.

enum Value {
    /// Literals that can appear in template source.
    enum Constant: Sendable { case none, bool(Bool), int(Int), double(Double), string(String) }

    /// A missing variable or attribute; `hint` is the message shown if it is used where a value is needed.
    case undefined(hint: String)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([Value])
    case tuple([Value])
    case dictionary(TemplateDictionary<Value>)
    case namespace(Namespace)
    case callable(Callable)

    init(_ constant: Constant) {
        switch constant {
        case .none: self = .none
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        }
    }

    init(_ value: TemplateValue) {
        switch value {
        case .null: self = .none
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let a): self = .array(a.map(Value.init))
        case .dictionary(let d): self = .dictionary(d.mapValues(Value.init))
        }
    }

    /// Python's name for the type, used in error messages the way Python words them.
    var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .array: return "list"
        case .tuple: return "tuple"
        case .dictionary: return "dict"
        case .namespace: return "Namespace"
        case .callable: return "function"
        }
    }

    var isDefined: Bool { if case .undefined = self { return false } else { return true } }

    /// Python truthiness (Undefined is false).
    var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .array(let a), .tuple(let a): return !a.isEmpty
        case .dictionary(let d): return !d.isEmpty
        case .namespace, .callable: return true
        }
    }

    /// The value as a number, with bools counting as 0 and 1 (bool is an int in Python).
    var number: Double? {
        switch self {
        case .bool(let b): return b ? 1 : 0
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    var integer: Int? {
        switch self {
        case .bool(let b): return b ? 1 : 0
        case .int(let i): return i
        default: return nil
        }
    }

    /// Python `str(value)`, which is what `{{ value }}` prints. Containers print at most `Value.printBudget`
    /// bytes (the evaluator's output limit then stops the render), so a huge value cannot exhaust memory.
    var str: String {
        if case .string(let s) = self { return s }
        var out = "", budget = Value.printBudget
        write(into: &out, budget: &budget, quoted: false)
        return out
    }

    /// Python `repr(value)`, used inside printed lists and dicts.
    var repr: String {
        var out = "", budget = Value.printBudget
        write(into: &out, budget: &budget, quoted: true)
        return out
    }

    /// Items when iterating: list and tuple elements, dict keys, string characters.
    func iterate() throws -> [Value] {
        switch self {
        case .undefined: return []
        case .array(let a), .tuple(let a): return a
        case .dictionary(let d): return d.keys.map(Value.string)
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        default: throw ValueError.invalid("'\(typeName)' object is not iterable")
        }
    }

    /// Python `==`.
    static func equal(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let x), .string(let y)): return x.unicodeScalars.elementsEqual(y.unicodeScalars)
        case (.array(let x), .array(let y)), (.tuple(let x), .tuple(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.dictionary(let x), .dictionary(let y)):
            return x.count == y.count && x.allSatisfy { pair in y[pair.key].map { equal(pair.value, $0) } ?? false }
        case (.namespace(let x), .namespace(let y)): return x === y
        default:
            if let x = a.integer, let y = b.integer { return x == y }
            if let x = a.number, let y = b.number { return x == y }
            return false
        }
    }

    /// Python ordering (`<`): numbers with numbers, strings by code point, sequences element by element.
    static func less(_ a: Value, _ b: Value, operator op: String) throws -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)):
            return x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars)
        case (.array(let x), .array(let y)), (.tuple(let x), .tuple(let y)):
            for (l, r) in zip(x, y) where !equal(l, r) { return try less(l, r, operator: op) }
            return x.count < y.count
        default:
            if let x = a.integer, let y = b.integer { return x < y }
            if let x = a.number, let y = b.number { return x < y }
            throw ValueError.invalid("'\(op)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
        }
    }

    /// The JSON form for `tojson`; templates' own objects (Undefined, namespaces, functions) have none.
    func json() throws -> TemplateValue {
        var budget = Value.jsonBudget
        return try json(budget: &budget)
    }

    private func json(budget: inout Int) throws -> TemplateValue {
        budget -= 1
        if budget < 0 { throw ValueError.limit("value too large to convert to JSON") }
        switch self {
        case .none: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .array(let a), .tuple(let a): return .array(try a.map { try $0.json(budget: &budget) })
        case .dictionary(let d): return .dictionary(try d.mapValues { try $0.json(budget: &budget) })
        case .undefined(let hint): throw ValueError.undefined(hint)
        default: throw ValueError.invalid("Object of type \(typeName) is not JSON serializable")
        }
    }
}

/// The object `namespace(...)` returns: attributes that `{% set ns.x = ... %}` may change from inside loops,
/// so it is shared by reference.
final class Namespace {
    var attributes: TemplateDictionary<Value>
    init(_ attributes: TemplateDictionary<Value>) { self.attributes = attributes }
}

/// Arguments as a builtin receives them.
struct CallArguments {
    var positional: [Value] = []
    var keywords: [(name: String, value: Value)] = []

    /// The argument at `index`, or the keyword `name`.
    func value(_ index: Int, _ name: String) -> Value? {
        if index < positional.count { return positional[index] }
        return keywords.first { $0.name == name }?.value
    }

    /// Rejects arguments beyond the known parameters, as Python does.
    func check(_ function: String, maxPositional: Int, keywords allowed: Set<String> = []) throws {
        if positional.count > maxPositional {
            throw ValueError.invalid("\(function)() takes at most \(maxPositional) positional arguments (\(positional.count) given)")
        }
        if let bad = keywords.first(where: { !allowed.contains($0.name) }) {
            throw ValueError.invalid("\(function)() got an unexpected keyword argument '\(bad.name)'")
        }
    }
}

/// A function a template can call: a builtin global, a bound method such as `'x'.strip`, or a macro.
struct Callable {
    let name: String
    let call: (CallArguments) throws -> Value
}

/// Errors raised below the evaluator, which adds the template location when it catches them.
enum ValueError: Error {
    case undefined(String)
    case invalid(String)
    case raised(String)
    case limit(String)
}
