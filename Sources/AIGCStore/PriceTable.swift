// Prices per model, in integer micro-units per 1000 tokens, and the cost of a request. Integers
// throughout: summing thousands of float prices drifts, summing integers does not.
import Foundation

/// The price of 1000 prompt tokens and of 1000 completion tokens, in micro-units of a currency
/// (1.0 = 1_000_000 micro-units).
public struct Price: Sendable, Equatable, Codable {
    /// Micro-units per 1000 prompt tokens.
    public var promptMicrosPer1k: Int64
    /// Micro-units per 1000 completion tokens.
    public var completionMicrosPer1k: Int64

    /// The largest accepted price per 1000 tokens (1000 units): keeps every cost inside Int64.
    public static let maximumMicrosPer1k: Int64 = 1_000_000_000
    /// Nothing is charged.
    public static let zero = Price(promptMicrosPer1k: 0, completionMicrosPer1k: 0)

    /// A price in micro-units; each must lie in 0...`maximumMicrosPer1k` (a programming error otherwise).
    public init(promptMicrosPer1k: Int64, completionMicrosPer1k: Int64) {
        precondition((0...Self.maximumMicrosPer1k).contains(promptMicrosPer1k), "prompt price out of range")
        precondition((0...Self.maximumMicrosPer1k).contains(completionMicrosPer1k), "completion price out of range")
        self.promptMicrosPer1k = promptMicrosPer1k
        self.completionMicrosPer1k = completionMicrosPer1k
    }

    /// A price from decimal strings such as "0.0015" (exact: no binary floating point involved).
    public init(prompt: String, completion: String) throws(StoreError) {
        self.init(promptMicrosPer1k: try Micros.parse(prompt, field: "prompt price"),
                  completionMicrosPer1k: try Micros.parse(completion, field: "completion price"))
    }

    /// The cost of one request, rounded half up to a whole micro-unit.
    public func cost(promptTokens: Int, completionTokens: Int) -> Int64 {
        let total = Int64(promptTokens) * promptMicrosPer1k + Int64(completionTokens) * completionMicrosPer1k
        return (total + 500) / 1000
    }

    enum CodingKeys: String, CodingKey {
        case prompt = "prompt_per_1k", completion = "completion_per_1k"
    }

    /// Reads `{"prompt_per_1k": "0.50", "completion_per_1k": "1.50"}`; prices are decimal strings.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(prompt: try container.decode(String.self, forKey: .prompt),
                      completion: try container.decode(String.self, forKey: .completion))
    }

    /// Writes the prices as decimal strings, the form `init(from:)` reads.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Micros.format(promptMicrosPer1k), forKey: .prompt)
        try container.encode(Micros.format(completionMicrosPer1k), forKey: .completion)
    }
}

/// Prices by model name, with a default for models the table does not name.
public struct PriceTable: Sendable, Equatable, Codable {
    /// The price of models the table does not name.
    public var defaultPrice: Price
    /// Prices by model name (as the usage records name models).
    public var models: [String: Price]

    /// Everything is free: the default of a local engine.
    public static let free = PriceTable(defaultPrice: .zero)

    /// A table with a default price and per-model prices.
    public init(defaultPrice: Price, models: [String: Price] = [:]) {
        self.defaultPrice = defaultPrice
        self.models = models
    }

    /// The price of `model`: its own, or the default.
    public func price(for model: String) -> Price { models[model] ?? defaultPrice }

    /// The cost of a request to `model`, in micro-units.
    public func cost(model: String, promptTokens: Int, completionTokens: Int) -> Int64 {
        price(for: model).cost(promptTokens: promptTokens, completionTokens: completionTokens)
    }

    enum CodingKeys: String, CodingKey {
        case defaultPrice = "default", models
    }

    /// Reads a price table from JSON: `{"default": {...}, "models": {"name": {...}}}`.
    public static func load(contentsOf url: URL) throws(StoreError) -> PriceTable {
        do {
            return try JSONDecoder().decode(PriceTable.self, from: Data(contentsOf: url))
        } catch let error as StoreError {
            throw error
        } catch {
            throw .invalidInput(field: "price table \(url.path)", reason: "\(error); expected {\"default\": {\"prompt_per_1k\": \"0.5\", \"completion_per_1k\": \"1.5\"}, \"models\": {}}")
        }
    }
}

/// Decimal strings to and from micro-units.
public enum Micros {
    /// Parses "12", "0.5" or "0.000001" into micro-units; more than 6 decimals, signs, exponents
    /// and values above `Price.maximumMicrosPer1k` are refused.
    public static func parse(_ text: String, field: String = "price") throws(StoreError) -> Int64 {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0], fraction = parts.count > 1 ? parts[1] : ""
        guard !whole.isEmpty || !fraction.isEmpty, whole.allSatisfy(\.isASCIIDigit), fraction.allSatisfy(\.isASCIIDigit),
              fraction.count <= 6, whole.count <= 10 else {
            throw .invalidInput(field: field, reason: "'\(text)' is not a decimal number with at most 6 decimals, e.g. \"0.0015\"")
        }
        let micros = Int64(whole.isEmpty ? "0" : String(whole))! * 1_000_000
            + Int64(fraction.padding(toLength: 6, withPad: "0", startingAt: 0))!
        guard micros <= Price.maximumMicrosPer1k else {
            throw .invalidInput(field: field, reason: "'\(text)' is above the largest accepted price, 1000 per 1000 tokens")
        }
        return micros
    }

    /// Formats micro-units as a decimal string with 6 decimals: 1500 -> "0.001500".
    public static func format(_ micros: Int64) -> String {
        let sign = micros < 0 ? "-" : ""
        let magnitude = micros.magnitude
        let fraction = String(magnitude % 1_000_000)
        return sign + String(magnitude / 1_000_000) + "." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
