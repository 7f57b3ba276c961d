// The backends the shared store suite runs on, and a fresh, isolated database on each for every
// test: a new SQLite file, a new in-memory SQLite, or a new schema in the test PostgreSQL database.
import AIGCTestSupport
import Foundation
import PostgresNIO
import Testing

@testable import AIGCStore

/// A backend of the shared suite.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqliteFile = "SQLite file"
    case sqliteMemory = "SQLite in memory"
    case postgres = "PostgreSQL"

    var testDescription: String { rawValue }

    static let environment = ProcessInfo.processInfo.environment

    /// PostgreSQL is left out only when asked to, explicitly; a missing server fails its tests.
    static let skipPostgres = environment["AIGC_SKIP_POSTGRES"] == "1"

    /// Every backend the suite runs on in this process.
    static let underTest: [Backend] = skipPostgres ? [.sqliteFile, .sqliteMemory] : allCases

    /// The backends that keep data in a database that can be opened again.
    static let persistent: [Backend] = underTest.filter { $0 != .sqliteMemory }
}

/// Why a test could not even start.
struct SetupError: Error, CustomStringConvertible {
    let description: String

    static let noPostgres = SetupError(description: """
        AIGC_TEST_POSTGRES_URL is not set, so the PostgreSQL half of the store suite cannot run. Start a throwaway \
        server with `eval "$(scripts/postgres-test-server.sh start)" && export AIGC_TEST_POSTGRES_URL` (and stop it \
        with `scripts/postgres-test-server.sh stop "$AIGC_TEST_POSTGRES_DIR"`), or run `make test`, which does both; \
        set AIGC_SKIP_POSTGRES=1 to skip PostgreSQL on purpose.
        """)
}

/// One isolated database of a backend; `open` may be called several times (replicas, reopening).
struct TestDatabase: Sendable {
    let backend: Backend
    /// The SQLite file or the PostgreSQL URL (with `schema=`); empty in memory.
    let location: String
    let folder: URL?
    let schema: String?

    static func make(_ backend: Backend) throws -> TestDatabase {
        switch backend {
        case .sqliteFile:
            let folder = Fixtures.temporaryDirectory("aigc-store")
            return TestDatabase(backend: backend, location: folder.appendingPathComponent("aigc.sqlite").path, folder: folder, schema: nil)
        case .sqliteMemory:
            return TestDatabase(backend: backend, location: "", folder: nil, schema: nil)
        case .postgres:
            let base = try TestPostgres.baseURL()
            let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
            let url = base + (base.contains("?") ? "&" : "?") + "schema=\(schema)"
            return TestDatabase(backend: backend, location: url, folder: nil, schema: String(schema))
        }
    }

    /// A store on this database (for SQLite in memory: a new private database each time).
    func open(prices: PriceTable = .free) async throws -> any Store {
        switch backend {
        case .sqliteFile: return try SQLiteStore(path: location, prices: prices)
        case .sqliteMemory: return try SQLiteStore.inMemory(prices: prices)
        case .postgres: return try await PostgresStore(url: location, prices: prices)
        }
    }

    /// Removes the file or the schema.
    func destroy() async {
        if let folder { try? FileManager.default.removeItem(at: folder) }
        if let schema { try? await TestPostgres.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE") }
    }
}

/// Runs `body` with a fresh database of `backend`, then removes it, also when `body` throws.
/// Stores that `body` opens must be closed by it.
func withDatabase<T>(_ backend: Backend, _ body: (TestDatabase) async throws -> T) async throws -> T {
    let database = try TestDatabase.make(backend)
    do {
        let value = try await body(database)
        await database.destroy()
        return value
    } catch {
        await database.destroy()
        throw error
    }
}

/// Runs `body` with a store on a fresh database of `backend`, then closes and removes it.
func withStore<T>(_ backend: Backend, prices: PriceTable = .free, _ body: (any Store) async throws -> T) async throws -> T {
    try await withDatabase(backend) { database in
        let store = try await database.open(prices: prices)
        do {
            let value = try await body(store)
            await store.close()
            return value
        } catch {
            await store.close()
            throw error
        }
    }
}

/// The test PostgreSQL server that `scripts/postgres-test-server.sh` started.
enum TestPostgres {
    static func baseURL() throws -> String {
        guard let url = Backend.environment["AIGC_TEST_POSTGRES_URL"], !url.isEmpty else { throw SetupError.noPostgres }
        return url
    }

    /// A connection of its own (not a store's pool), for statements a test runs beside the store.
    static func connect(_ url: String? = nil) async throws -> PostgresConnection {
        let parsed = try PostgresURL(try url ?? baseURL())
        return try await PostgresConnection.connect(configuration: try PostgresConnector.connectionConfiguration(parsed), id: 1,
                                                    logger: PostgresConnector.logger)
    }

    /// Runs one statement on a connection of its own.
    static func execute(_ sql: String, url: String? = nil) async throws {
        let connection = try await connect(url)
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: PostgresConnector.logger).drain()
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }
}

/// Every row of `table` as text, read around the store's API: what an attacker with a copy of the
/// database would see.
func rawRows(_ store: any Store, table: String) async throws -> [String] {
    if let sqlite = store as? SQLiteStore {
        return try await sqlite.writer.read { db in
            try GRDBRowText.all(db, table: table)
        }
    }
    let postgres = try #require(store as? PostgresStore)
    var rows: [String] = []
    for try await text in try await postgres.client.query(PostgresQuery(unsafeSQL: "SELECT row_to_json(t)::text FROM \(table) t"),
                                                          logger: PostgresConnector.logger).decode(String.self) {
        rows.append(text)
    }
    return rows
}
