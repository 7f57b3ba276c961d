// TemplateValue: the values a caller hands to a chat template (messages, tools, extra variables) — the JSON
// data model. Dictionaries keep insertion order because `tojson` must print keys in the order the caller gave
// them, as Python dicts do in transformers.

/// A value passed into a template: JSON's data model with integers kept apart from doubles.
public enum TemplateValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([TemplateValue])
    case dictionary(TemplateDictionary<TemplateValue>)
}

/// A string-keyed dictionary that remembers insertion order (like a Python dict).
public struct TemplateDictionary<Element>: Sequence {
    /// The keys in insertion order.
    public private(set) var keys: [String] = []
    private var storage: [String: Element] = [:]

    /// An empty dictionary.
    public init() {}

    /// A dictionary of `pairs` in order; a repeated key keeps its first position and its last value.
    public init(_ pairs: [(String, Element)]) {
        for (key, value) in pairs { self[key] = value }
    }

    /// The number of keys.
    public var count: Int { keys.count }
    /// Whether there are no keys.
    public var isEmpty: Bool { keys.isEmpty }

    /// Setting an existing key keeps its position; setting nil removes it.
    public subscript(key: String) -> Element? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    /// The values in key order.
    public var values: [Element] { keys.compactMap { storage[$0] } }

    /// Iterates `(key, value)` pairs in insertion order.
    public func makeIterator() -> AnyIterator<(key: String, value: Element)> {
        var index = 0
        return AnyIterator {
            while index < keys.count {
                defer { index += 1 }
                if let value = storage[keys[index]] { return (keys[index], value) }
            }
            return nil
        }
    }

    func mapValues<T>(_ transform: (Element) throws -> T) rethrows -> TemplateDictionary<T> {
        var result = TemplateDictionary<T>()
        for (key, value) in self { result[key] = try transform(value) }
        return result
    }
}

extension TemplateDictionary: Sendable where Element: Sendable {}

extension TemplateDictionary: Equatable where Element: Equatable {
    /// Equal when they hold the same keys and values, in any order (as Python dicts compare).
    public static func == (a: Self, b: Self) -> Bool { a.storage == b.storage }
}

extension TemplateDictionary: Hashable where Element: Hashable {
    public func hash(into hasher: inout Hasher) { hasher.combine(storage) }
}

extension TemplateDictionary: ExpressibleByDictionaryLiteral {
    /// A dictionary in literal order.
    public init(dictionaryLiteral elements: (String, Element)...) { self.init(elements) }
}

extension TemplateValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: TemplateValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, TemplateValue)...) { self = .dictionary(TemplateDictionary(elements)) }
}

extension TemplateValue {
    /// `{"role": ..., "content": ...}` for one chat message.
    public init(_ message: ChatMessage) {
        self = ["role": .string(message.role), "content": .string(message.content)]
    }
}
