// PostgresStore: the backend for several server replicas sharing one PostgreSQL database. A
// postgres-nio PostgresClient (a connection pool) runs in a task the store owns. Every write is a
// single statement or an explicit transaction; names are unique by constraint, so two replicas
// creating the same key cannot both succeed. Keys and usage live here; conversations and jobs in
// PostgresStore+Conversations.swift.
import Foundation
import PostgresNIO

/// The PostgreSQL backend of `Store`.
public final class PostgresStore: Store {
    let client: PostgresClient
    private let runner: Task<Void, Never>
    /// Prices used by `recordUsage`.
    public let prices: PriceTable
    /// Where the store is connected (`description` hides the password).
    public let url: PostgresURL

    /// Connects to the database at `url` (postgres://user:password@host:port/database), creating
    /// the schema or bringing it up to date. Throws `badURL`, `unreachable` or `migrationFailed`.
    public init(url text: String, prices: PriceTable = .free) async throws(StoreError) {
        let url = try PostgresURL(text)
        try await PostgresConnector.migrate(url)
        let client = PostgresClient(configuration: PostgresConnector.clientConfiguration(url), backgroundLogger: PostgresConnector.logger)
        self.client = client
        self.runner = Task { await client.run() }
        self.prices = prices
        self.url = url
    }

    /// Stops the connection pool; cancelling `run()` closes the client's connections.
    public func close() async {
        runner.cancel()
        await runner.value
    }

    // MARK: Running statements

    /// Runs `query` and decodes every row with `decode`.
    func fetch<T>(_ operation: String, _ query: PostgresQuery, _ decode: (PostgresRow) throws -> T) async throws(StoreError) -> [T] {
        do {
            var values: [T] = []
            for try await row in try await client.query(query, logger: PostgresConnector.logger) {
                values.append(try decode(row))
            }
            return values
        } catch {
            throw PostgresConnector.storeError(error, operation: operation, url: url)
        }
    }

    /// Runs `query` and decodes its first row, if any.
    func fetchOne<T>(_ operation: String, _ query: PostgresQuery, _ decode: (PostgresRow) throws -> T) async throws(StoreError) -> T? {
        try await fetch(operation, query, decode).first
    }

    // MARK: API keys

    static let keyColumns = "id, name, prefix, created_at, revoked_at, quota_tokens, rpm"

    static func key(_ row: PostgresRow) throws -> KeyRecord {
        let (id, name, prefix, created, revoked, quota, rpm) = try row.decode((Int64, String, String, Int64, Int64?, Int64?, Int?).self)
        return KeyRecord(id: id, name: name, prefix: prefix, createdAt: Date(unixMilliseconds: created),
                         revokedAt: revoked.map(Date.init(unixMilliseconds:)), quotaTokens: quota, rpm: rpm)
    }

    /// See `Store.createKey`.
    public func createKey(name: String, quotaTokens: Int64?, rpm: Int?) async throws(StoreError) -> (record: KeyRecord, secret: String) {
        try APIKeySecret.validateName(name)
        try APIKeySecret.validateLimits(quotaTokens: quotaTokens, rpm: rpm)
        let secret = APIKeySecret.generate()
        let prefix = APIKeySecret.displayPrefix(of: secret), hash = APIKeySecret.hash(secret)
        let now = Date().roundedToMilliseconds
        let query: PostgresQuery = """
            INSERT INTO api_keys (name, prefix, secret_sha256, created_at, quota_tokens, rpm)
            VALUES (\(name), \(prefix), \(hash), \(now.unixMilliseconds), \(quotaTokens), \(rpm)) RETURNING id
            """
        do {
            var id: Int64?
            for try await value in try await client.query(query, logger: PostgresConnector.logger).decode(Int64.self) { id = value }
            guard let id else { throw StoreError.backend(operation: "create a key", reason: "INSERT returned no id") }
            return (KeyRecord(id: id, name: name, prefix: prefix, createdAt: now, revokedAt: nil, quotaTokens: quotaTokens, rpm: rpm), secret)
        } catch where PostgresConnector.sqlState(error) == "23505"
            && (error as? PSQLError)?.serverInfo?[.constraintName] == "api_keys_name_key" {
            throw .duplicateName(name)
        } catch {
            throw PostgresConnector.storeError(error, operation: "create a key", url: url)
        }
    }

    /// See `Store.authenticate`.
    public func authenticate(secret: String) async throws(StoreError) -> KeyRecord? {
        guard APIKeySecret.isWellFormed(secret) else { return nil }
        let prefix = APIKeySecret.displayPrefix(of: secret)
        let candidates = try await fetch("authenticate a key", """
            SELECT \(unescaped: Self.keyColumns), secret_sha256 FROM api_keys WHERE prefix = \(prefix)
            """) { row in
            let (id, name, prefix, created, revoked, quota, rpm, hash) = try row.decode((Int64, String, String, Int64, Int64?, Int64?, Int?, String).self)
            let record = KeyRecord(id: id, name: name, prefix: prefix, createdAt: Date(unixMilliseconds: created),
                                   revokedAt: revoked.map(Date.init(unixMilliseconds:)), quotaTokens: quota, rpm: rpm)
            return (record: record, hash: hash)
        }
        return matchingKey(secret: secret, candidates: candidates)
    }

    /// See `Store.listKeys`.
    public func listKeys() async throws(StoreError) -> [KeyRecord] {
        try await fetch("list keys", "SELECT \(unescaped: Self.keyColumns) FROM api_keys ORDER BY id", Self.key)
    }

    /// See `Store.key`.
    public func key(id: Int64) async throws(StoreError) -> KeyRecord? {
        try await fetchOne("find a key", "SELECT \(unescaped: Self.keyColumns) FROM api_keys WHERE id = \(id)", Self.key)
    }

    /// See `Store.key`.
    public func key(named name: String) async throws(StoreError) -> KeyRecord? {
        try await fetchOne("find a key", "SELECT \(unescaped: Self.keyColumns) FROM api_keys WHERE name = \(name)", Self.key)
    }

    /// See `Store.revokeKey`.
    public func revokeKey(id: Int64) async throws(StoreError) -> KeyRecord {
        let record = try await fetchOne("revoke a key", """
            UPDATE api_keys SET revoked_at = COALESCE(revoked_at, \(Date().unixMilliseconds)) WHERE id = \(id)
            RETURNING \(unescaped: Self.keyColumns)
            """, Self.key)
        guard let record else { throw .notFound(what: "key", identifier: String(id)) }
        return record
    }

    // MARK: Usage

    /// See `Store.recordUsage`.
    public func recordUsage(_ event: UsageEvent) async throws(StoreError) -> UsageRecord {
        let event = try event.validated()
        let price = prices.cost(model: event.model, promptTokens: event.promptTokens, completionTokens: event.completionTokens)
        // The INSERT commits on its own (autocommit) before the server answers, and PostgreSQL
        // flushes its WAL at commit (synchronous_commit = on, the default).
        let id = try await fetchOne("record usage", """
            INSERT INTO usage_records (key_id, model, endpoint, prompt_tokens, completion_tokens, latency_ms, status, price_micros, created_at)
            VALUES (\(event.keyID), \(event.model), \(event.endpoint), \(event.promptTokens), \(event.completionTokens),
                    \(event.latencyMilliseconds), \(event.status), \(price), \(event.createdAt.unixMilliseconds)) RETURNING id
            """) { try $0.decode(Int64.self) }
        guard let id else { throw .backend(operation: "record usage", reason: "INSERT returned no id") }
        return UsageRecord(id: id, event: event, priceMicros: price)
    }

    /// See `Store.usageTotals`.
    public func usageTotals(keyID: Int64?, since: Date?) async throws(StoreError) -> [UsageTotal] {
        var binds = PostgresBindings(), conditions: [String] = []
        if let keyID { binds.append(keyID); conditions.append("u.key_id = $\(binds.count)") }
        if let since { binds.append(since.unixMilliseconds); conditions.append("u.created_at >= $\(binds.count)") }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        // COLLATE "C" sorts like SQLite's BINARY, so both backends list totals in the same order.
        let sql = """
            SELECT u.key_id, k.name, u.model, COUNT(*), SUM(u.prompt_tokens)::bigint, SUM(u.completion_tokens)::bigint,
                   SUM(u.price_micros)::bigint
            FROM usage_records u LEFT JOIN api_keys k ON k.id = u.key_id \(filter)
            GROUP BY u.key_id, k.name, u.model ORDER BY k.name COLLATE "C" NULLS FIRST, u.model COLLATE "C"
            """
        return try await fetch("sum usage", PostgresQuery(unsafeSQL: sql, binds: binds)) { row in
            let (keyID, name, model, requests, prompt, completion, price) = try row.decode((Int64?, String?, String, Int64, Int64, Int64, Int64).self)
            return UsageTotal(keyID: keyID, keyName: name, model: model, requests: requests, promptTokens: prompt,
                              completionTokens: completion, priceMicros: price)
        }
    }

    /// See `Store.tokensUsed`.
    public func tokensUsed(keyID: Int64, since: Date?) async throws(StoreError) -> Int64 {
        let since = since?.unixMilliseconds ?? Int64.min
        return try await fetchOne("count tokens", """
            SELECT COALESCE(SUM(prompt_tokens::bigint + completion_tokens), 0)::bigint FROM usage_records
            WHERE key_id = \(keyID) AND created_at >= \(since)
            """) { try $0.decode(Int64.self) } ?? 0
    }

    /// See `Store.requestCount`.
    public func requestCount(keyID: Int64, since: Date) async throws(StoreError) -> Int {
        try await fetchOne("count requests", """
            SELECT COUNT(*) FROM usage_records WHERE key_id = \(keyID) AND created_at >= \(since.unixMilliseconds)
            """) { try $0.decode(Int.self) } ?? 0
    }
}
