// Usage: what one served request consumed (the input and the stored row) and the totals reports show.
import Foundation

/// One finished request, as the server reports it to `Store.recordUsage`.
public struct UsageEvent: Sendable, Equatable {
    /// The key that made the request; nil when the server runs without authentication.
    public var keyID: Int64?
    /// The model that served the request.
    public var model: String
    /// The route, e.g. "/v1/chat/completions".
    public var endpoint: String
    /// Tokens in the prompt.
    public var promptTokens: Int
    /// Tokens generated.
    public var completionTokens: Int
    /// Time from request to the last byte of the response.
    public var latencyMilliseconds: Int
    /// The HTTP status of the response.
    public var status: Int
    /// When the request finished; tests set it to place records in the past.
    public var createdAt: Date

    /// Creates an event; `createdAt` defaults to now.
    public init(keyID: Int64?, model: String, endpoint: String, promptTokens: Int, completionTokens: Int,
                latencyMilliseconds: Int, status: Int, createdAt: Date = Date()) {
        self.keyID = keyID
        self.model = model
        self.endpoint = endpoint
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.latencyMilliseconds = latencyMilliseconds
        self.status = status
        self.createdAt = createdAt
    }

    /// Rejects negative counts and empty names before they reach the database.
    func validated() throws(StoreError) -> UsageEvent {
        for (field, value) in [("prompt tokens", promptTokens), ("completion tokens", completionTokens),
                               ("latency ms", latencyMilliseconds)] where value < 0 || value > Int(Int32.max) {
            throw .invalidInput(field: field, reason: "\(value) is outside 0...\(Int32.max)")
        }
        guard !model.isEmpty else { throw .invalidInput(field: "model", reason: "empty") }
        guard !endpoint.isEmpty else { throw .invalidInput(field: "endpoint", reason: "empty") }
        guard (100...599).contains(status) else { throw .invalidInput(field: "status", reason: "\(status) is not an HTTP status") }
        var copy = self
        copy.createdAt = createdAt.roundedToMilliseconds
        return copy
    }
}

/// A stored usage row: the event, its id and its price.
public struct UsageRecord: Sendable, Equatable {
    /// Database id, increasing.
    public var id: Int64
    /// What was recorded (with `createdAt` at the stored millisecond precision).
    public var event: UsageEvent
    /// Price in micro-units of the price table's currency (1 unit = 1_000_000 micro-units).
    public var priceMicros: Int64

    /// Creates a record (backends build these from rows).
    public init(id: Int64, event: UsageEvent, priceMicros: Int64) {
        self.id = id
        self.event = event
        self.priceMicros = priceMicros
    }
}

/// Totals for one (key, model) pair, as `aigc usage` prints them.
public struct UsageTotal: Codable, Sendable, Equatable {
    /// nil for requests made without a key.
    public var keyID: Int64?
    /// The key's name, nil for requests made without a key.
    public var keyName: String?
    /// The model.
    public var model: String
    /// Number of requests.
    public var requests: Int64
    /// Sum of prompt tokens.
    public var promptTokens: Int64
    /// Sum of completion tokens.
    public var completionTokens: Int64
    /// Sum of the stored prices, in micro-units.
    public var priceMicros: Int64

    /// Creates a total (backends build these from rows).
    public init(keyID: Int64?, keyName: String?, model: String, requests: Int64, promptTokens: Int64,
                completionTokens: Int64, priceMicros: Int64) {
        self.keyID = keyID
        self.keyName = keyName
        self.model = model
        self.requests = requests
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.priceMicros = priceMicros
    }

    enum CodingKeys: String, CodingKey {
        case model, requests
        case keyID = "key_id", keyName = "key", promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens", priceMicros = "price_micros"
    }
}

extension Date {
    /// Milliseconds since 1970-01-01 UTC, rounded to the nearest: how both backends store instants
    /// (a BIGINT column), so that a value read back equals the value written.
    public var unixMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    /// The instant `milliseconds` after 1970-01-01 UTC.
    public init(unixMilliseconds milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// The instant at the millisecond precision the store keeps.
    public var roundedToMilliseconds: Date { Date(unixMilliseconds: unixMilliseconds) }
}
