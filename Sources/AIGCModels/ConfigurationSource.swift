// ConfigurationSource: the key/value metadata a model configuration is read from (GGUF metadata or a
// Hugging Face config.json), without the model layer knowing the file format.

public protocol ConfigurationSource: Sendable {
    /// Where the values come from, for error messages.
    var sourceName: String { get }
    func int(_ key: String) -> Int?
    func double(_ key: String) -> Double?
    func bool(_ key: String) -> Bool?
    func string(_ key: String) -> String?
}

extension ConfigurationSource {
    public func requireInt(_ key: String) throws -> Int {
        guard let v = int(key) else { throw ModelError.invalidConfiguration("\(sourceName): missing integer '\(key)'") }
        guard v > 0 && v <= 1 << 24 else { throw ModelError.invalidConfiguration("\(sourceName): '\(key)' = \(v) is out of range") }
        return v
    }

    /// The first key that is present, as a positive integer.
    public func requireInt(anyOf keys: [String]) throws -> Int {
        for k in keys where int(k) != nil { return try requireInt(k) }
        throw ModelError.invalidConfiguration("\(sourceName): missing integer '\(keys.joined(separator: "' or '"))'")
    }
}

/// A configuration held in a dictionary (config.json values, tests).
public struct DictionaryConfiguration: ConfigurationSource {
    public let sourceName: String
    public let values: [String: any Sendable]

    public init(_ values: [String: any Sendable], sourceName: String = "configuration") {
        self.values = values
        self.sourceName = sourceName
    }

    public func int(_ key: String) -> Int? {
        switch values[key] {
        case let v as Int: return v
        case let v as Double where v == v.rounded(): return Int(v)
        case let v as Bool: return v ? 1 : 0
        default: return nil
        }
    }

    public func double(_ key: String) -> Double? {
        switch values[key] {
        case let v as Double: return v
        case let v as Float: return Double(v)
        case let v as Int: return Double(v)
        default: return nil
        }
    }

    public func bool(_ key: String) -> Bool? {
        switch values[key] {
        case let v as Bool: return v
        case let v as Int: return v != 0
        default: return nil
        }
    }

    public func string(_ key: String) -> String? { values[key] as? String }
}
