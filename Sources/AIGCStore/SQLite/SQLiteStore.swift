// SQLiteStore: the embedded backend, one file ($AIGC_HOME/aigc.sqlite) opened as a GRDB DatabasePool
// in WAL mode, or a private in-memory database for tests. Keys and usage live here; conversations
// and jobs in SQLiteStore+Conversations.swift.
//
// Durability: a write returns after COMMIT, when its frames are in the WAL file. With
// `synchronous = NORMAL` the WAL is not fsynced at every commit, so a power loss or kernel crash may
// lose the last transactions, but a crash or `kill -9` of the process loses nothing: the data is
// already in the operating system's page cache (https://www.sqlite.org/pragma.html#pragma_synchronous).
import Foundation
import GRDB

/// The SQLite backend of `Store`.
public final class SQLiteStore: Store {
    /// The database connections: a `DatabasePool` on a file, a `DatabaseQueue` in memory.
    let writer: any DatabaseWriter
    /// Prices used by `recordUsage`.
    public let prices: PriceTable
    /// The file, or nil for an in-memory store.
    public let path: String?

    /// Opens (creating if needed) the database file at `path` and brings its schema up to date.
    public init(path: String, prices: PriceTable = .free) throws(StoreError) {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw .cannotOpen(path: path, reason: "cannot create the folder \(folder.path): \(error.localizedDescription)")
        }
        // Conversations are private: a new database is readable by its owner only. SQLite gives the
        // -wal and -shm files the permissions of the database file.
        if !FileManager.default.fileExists(atPath: path) {
            FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        do {
            // DatabasePool puts the file in WAL mode: readers never block the writer.
            writer = try DatabasePool(path: path, configuration: Self.configuration())
        } catch {
            throw .cannotOpen(path: path, reason: Self.reason(error))
        }
        self.prices = prices
        self.path = path
        try Self.migrate(writer)
    }

    /// A private database in memory: real SQLite with the full schema, gone when the store is.
    /// For tests of the layers above (the server) that need a store but no file.
    public static func inMemory(prices: PriceTable = .free) throws(StoreError) -> SQLiteStore {
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(configuration: configuration())
        } catch {
            throw .cannotOpen(path: ":memory:", reason: reason(error))
        }
        return try SQLiteStore(writer: queue, prices: prices)
    }

    init(writer: any DatabaseWriter, prices: PriceTable) throws(StoreError) {
        self.writer = writer
        self.prices = prices
        self.path = nil
        try Self.migrate(writer)
    }

    static func configuration() -> Configuration {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        // Another process (the CLI next to a running server) may hold the write lock briefly.
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        return configuration
    }

    /// The migrator of `Schema.migrations`; running it again applies only what is missing.
    static func migrate(_ writer: any DatabaseWriter) throws(StoreError) {
        var migrator = DatabaseMigrator()
        for migration in Schema.migrations {
            migrator.registerMigration(migration.name) { db in
                do {
                    for statement in migration.sqlite { try db.execute(sql: statement) }
                } catch {
                    throw StoreError.migrationFailed(name: migration.name, reason: reason(error))
                }
            }
        }
        do {
            try migrator.migrate(writer)
        } catch let error as StoreError {
            throw error
        } catch {
            throw .migrationFailed(name: "(migrator)", reason: reason(error))
        }
    }

    /// Closes the database connections; see `Store.close`.
    public func close() async {
        try? writer.close()
    }

    // MARK: Running statements

    /// Runs `body` in a write transaction, turning GRDB errors into `StoreError`.
    func write<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await writer.write(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw .backend(operation: operation, reason: Self.reason(error))
        }
    }

    /// Runs `body` in a read transaction (a consistent snapshot).
    func read<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await writer.read(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw .backend(operation: operation, reason: Self.reason(error))
        }
    }

    /// SQLite's own message, without GRDB's SQL echo (it may hold a secret's hash).
    static func reason(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? "\(error.resultCode)" }
        if let error = error as? StoreError { return error.description }
        return "\(error)"
    }

    // MARK: API keys

    static let keyColumns = "id, name, prefix, created_at, revoked_at, quota_tokens, rpm"

    /// See `Store.createKey`.
    public func createKey(name: String, quotaTokens: Int64?, rpm: Int?) async throws(StoreError) -> (record: KeyRecord, secret: String) {
        try APIKeySecret.validateName(name)
        try APIKeySecret.validateLimits(quotaTokens: quotaTokens, rpm: rpm)
        let secret = APIKeySecret.generate()
        let prefix = APIKeySecret.displayPrefix(of: secret), hash = APIKeySecret.hash(secret)
        let now = Date().roundedToMilliseconds
        do {
            let id = try await writer.write { db in
                try Int64.fetchOne(db, sql: """
                    INSERT INTO api_keys (name, prefix, secret_sha256, created_at, quota_tokens, rpm)
                    VALUES (?, ?, ?, ?, ?, ?) RETURNING id
                    """, arguments: [name, prefix, hash, now.unixMilliseconds, quotaTokens, rpm])!
            }
            let record = KeyRecord(id: id, name: name, prefix: prefix, createdAt: now, revokedAt: nil, quotaTokens: quotaTokens, rpm: rpm)
            return (record, secret)
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
            && (error.message ?? "").contains("api_keys.name") {
            throw .duplicateName(name)
        } catch {
            throw .backend(operation: "create a key", reason: Self.reason(error))
        }
    }

    /// See `Store.authenticate`.
    public func authenticate(secret: String) async throws(StoreError) -> KeyRecord? {
        guard APIKeySecret.isWellFormed(secret) else { return nil }
        let prefix = APIKeySecret.displayPrefix(of: secret)
        let candidates = try await read("authenticate a key") { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.keyColumns), secret_sha256 FROM api_keys WHERE prefix = ?", arguments: [prefix])
                .map { (record: Self.key($0), hash: $0["secret_sha256"] as String) }
        }
        return matchingKey(secret: secret, candidates: candidates)
    }

    /// See `Store.listKeys`.
    public func listKeys() async throws(StoreError) -> [KeyRecord] {
        try await read("list keys") { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.keyColumns) FROM api_keys ORDER BY id").map(Self.key)
        }
    }

    /// See `Store.key`.
    public func key(id: Int64) async throws(StoreError) -> KeyRecord? {
        try await read("find a key") { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.keyColumns) FROM api_keys WHERE id = ?", arguments: [id]).map(Self.key)
        }
    }

    /// See `Store.key`.
    public func key(named name: String) async throws(StoreError) -> KeyRecord? {
        try await read("find a key") { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.keyColumns) FROM api_keys WHERE name = ?", arguments: [name]).map(Self.key)
        }
    }

    /// See `Store.revokeKey`.
    public func revokeKey(id: Int64) async throws(StoreError) -> KeyRecord {
        let now = Date().unixMilliseconds
        let record = try await write("revoke a key") { db in
            try Row.fetchOne(db, sql: """
                UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? RETURNING \(Self.keyColumns)
                """, arguments: [now, id]).map(Self.key)
        }
        guard let record else { throw .notFound(what: "key", identifier: String(id)) }
        return record
    }

    static func key(_ row: Row) -> KeyRecord {
        KeyRecord(id: row["id"], name: row["name"], prefix: row["prefix"], createdAt: Date(unixMilliseconds: row["created_at"]),
                  revokedAt: (row["revoked_at"] as Int64?).map(Date.init(unixMilliseconds:)),
                  quotaTokens: row["quota_tokens"], rpm: row["rpm"])
    }

    // MARK: Usage

    /// See `Store.recordUsage`.
    public func recordUsage(_ event: UsageEvent) async throws(StoreError) -> UsageRecord {
        let event = try event.validated()
        let price = prices.cost(model: event.model, promptTokens: event.promptTokens, completionTokens: event.completionTokens)
        let id = try await write("record usage") { db in
            try Int64.fetchOne(db, sql: """
                INSERT INTO usage_records (key_id, model, endpoint, prompt_tokens, completion_tokens, latency_ms, status, price_micros, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
                """, arguments: [event.keyID, event.model, event.endpoint, event.promptTokens, event.completionTokens,
                                 event.latencyMilliseconds, event.status, price, event.createdAt.unixMilliseconds])!
        }
        return UsageRecord(id: id, event: event, priceMicros: price)
    }

    /// See `Store.usageTotals`.
    public func usageTotals(keyID: Int64?, since: Date?) async throws(StoreError) -> [UsageTotal] {
        var conditions: [String] = [], arguments: StatementArguments = []
        if let keyID { conditions.append("u.key_id = ?"); arguments += [keyID] }
        if let since { conditions.append("u.created_at >= ?"); arguments += [since.unixMilliseconds] }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = """
            SELECT u.key_id, k.name AS key_name, u.model, COUNT(*) AS requests, SUM(u.prompt_tokens) AS prompt_tokens,
                   SUM(u.completion_tokens) AS completion_tokens, SUM(u.price_micros) AS price_micros
            FROM usage_records u LEFT JOIN api_keys k ON k.id = u.key_id \(filter)
            GROUP BY u.key_id, k.name, u.model ORDER BY k.name NULLS FIRST, u.model
            """
        return try await read("sum usage") { [arguments] db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                UsageTotal(keyID: row["key_id"], keyName: row["key_name"], model: row["model"], requests: row["requests"],
                           promptTokens: row["prompt_tokens"], completionTokens: row["completion_tokens"], priceMicros: row["price_micros"])
            }
        }
    }

    /// See `Store.tokensUsed`.
    public func tokensUsed(keyID: Int64, since: Date?) async throws(StoreError) -> Int64 {
        let since = since?.unixMilliseconds ?? Int64.min
        return try await read("count tokens") { db in
            try Int64.fetchOne(db, sql: """
                SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0) FROM usage_records WHERE key_id = ? AND created_at >= ?
                """, arguments: [keyID, since]) ?? 0
        }
    }

    /// See `Store.requestCount`.
    public func requestCount(keyID: Int64, since: Date) async throws(StoreError) -> Int {
        try await read("count requests") { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM usage_records WHERE key_id = ? AND created_at >= ?",
                             arguments: [keyID, since.unixMilliseconds]) ?? 0
        }
    }
}
