// Connecting to PostgreSQL: client and connection configurations from a PostgresURL, the schema
// migrations (run once per open, under an advisory lock so replicas starting together take turns),
// and the translation of postgres-nio errors into StoreError.
import Foundation
import Logging
import PostgresNIO

enum PostgresConnector {
    /// Logs nothing: the store reports failures as errors, and the CLI's stdout must stay clean.
    static let logger = Logger(label: "aigc.store.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Arbitrary constant naming aigc's migration lock among the database's advisory locks.
    static let migrationLock: Int64 = 0x4149_4743_5354_4F52

    static func clientConfiguration(_ url: PostgresURL) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch tlsConfiguration(url) {
        case nil: tls = .disable
        case let settings? where url.sslMode == .allow || url.sslMode == .prefer: tls = .prefer(settings)
        case let settings?: tls = .require(settings)
        }
        var configuration = url.host.hasPrefix("/")
            ? PostgresClient.Configuration(unixSocketPath: socketPath(url), username: url.user, password: url.password, database: url.database)
            : PostgresClient.Configuration(host: url.host, port: url.port, username: url.user, password: url.password,
                                           database: url.database, tls: tls)
        configuration.options.connectTimeout = .seconds(url.connectTimeout)
        configuration.options.additionalStartupParameters = startupParameters(url)
        return configuration
    }

    static func connectionConfiguration(_ url: PostgresURL) throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch tlsConfiguration(url) {
        case nil: tls = .disable
        case let settings? where url.sslMode == .allow || url.sslMode == .prefer: tls = .prefer(try NIOSSLContext(configuration: settings))
        case let settings?: tls = .require(try NIOSSLContext(configuration: settings))
        }
        var configuration = url.host.hasPrefix("/")
            ? PostgresConnection.Configuration(unixSocketPath: socketPath(url), username: url.user, password: url.password, database: url.database)
            : PostgresConnection.Configuration(host: url.host, port: url.port, username: url.user, password: url.password,
                                               database: url.database, tls: tls)
        configuration.options.connectTimeout = .seconds(Int64(url.connectTimeout))
        configuration.options.additionalStartupParameters = startupParameters(url)
        return configuration
    }

    /// libpq's meaning of sslmode: only the verify modes check the server's certificate.
    static func tlsConfiguration(_ url: PostgresURL) -> TLSConfiguration? {
        var settings = TLSConfiguration.makeClientConfiguration()
        switch url.sslMode {
        case .disable: return nil
        case .allow, .prefer, .require: settings.certificateVerification = .none
        case .verifyCA: settings.certificateVerification = .noHostnameVerification
        case .verifyFull: settings.certificateVerification = .fullVerification
        }
        return settings
    }

    static func socketPath(_ url: PostgresURL) -> String { url.host + "/.s.PGSQL.\(url.port)" }

    /// Every session of a store with a schema sees that schema first.
    static func startupParameters(_ url: PostgresURL) -> [(String, String)] {
        [("application_name", "aigc")] + (url.schema.map { [("search_path", $0)] } ?? [])
    }

    /// Opens one connection (so that a refused connection or a wrong password is reported at once
    /// and precisely, where the pool would retry), brings the schema up to date, and closes it.
    static func migrate(_ url: PostgresURL) async throws(StoreError) {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: try connectionConfiguration(url), id: 0, logger: logger)
        } catch {
            throw .unreachable(url: url.description, reason: reason(error))
        }
        do {
            try await migrate(connection, schema: url.schema)
            try? await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// The names in aigc_migrations, or nil when the table is not there (or not readable) yet.
    static func appliedMigrations(_ connection: PostgresConnection) async -> Set<String>? {
        do {
            var applied = Set<String>()
            for try await name in try await connection.query("SELECT name FROM aigc_migrations", logger: logger).decode(String.self) {
                applied.insert(name)
            }
            return applied
        } catch {
            return nil
        }
    }

    /// All missing migrations in one transaction: PostgreSQL's DDL is transactional, so a failure
    /// leaves the database as it was. An up-to-date database is only read, without the lock, so
    /// that CLI calls and restarting replicas do not queue behind each other.
    static func migrate(_ connection: PostgresConnection, schema: String?) async throws(StoreError) {
        let everything = Set(Schema.migrations.map(\.name))
        if let applied = await appliedMigrations(connection), applied.isSuperset(of: everything) { return }
        var current = "(start)"
        do {
            try await connection.query("BEGIN", logger: logger).drain()
            // Waiting for ever behind a migration that hangs helps no one: fail with the reason.
            try await connection.query("SET LOCAL lock_timeout = '60s'", logger: logger).drain()
            try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger).drain()
            if let schema {
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \"\(schema)\""), logger: logger).drain()
            }
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS aigc_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)
                """, logger: logger).drain()
            // Read again under the lock: another replica may have migrated while this one waited.
            let applied = await appliedMigrations(connection) ?? []
            for migration in Schema.migrations where !applied.contains(migration.name) {
                current = migration.name
                for statement in migration.postgres {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger).drain()
                }
                try await connection.query("""
                    INSERT INTO aigc_migrations (name, applied_at) VALUES (\(migration.name), \(Date().unixMilliseconds))
                    """, logger: logger).drain()
            }
            try await connection.query("COMMIT", logger: logger).drain()
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger).drain()
            throw .migrationFailed(name: current, reason: reason(error))
        }
    }

    /// What went wrong, from a postgres-nio error: the server's message and SQLSTATE when there is
    /// one, else the client's error code and its cause. (PSQLError's own description hides both.)
    static func reason(_ error: any Error) -> String {
        if let error = error as? StoreError { return error.description }
        guard let error = error as? PSQLError else { return String(describing: error) }
        if let message = error.serverInfo?[.message] {
            return message + (error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? "")
        }
        if let failure = (error.underlying as? NIOConnectionError)?.connectionErrors.first,
           let io = failure.error as? IOError {
            return "\(String(cString: strerror(io.errnoCode)).lowercased()) at \(failure.target)"
        }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return error.code.description
    }

    /// The SQLSTATE of a server error, e.g. "23505" for a unique violation.
    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// A store error for `error`: connection problems say so; everything else names the operation.
    static func storeError(_ error: any Error, operation: String, url: PostgresURL) -> StoreError {
        if let error = error as? StoreError { return error }
        if let error = error as? PSQLError, error.serverInfo == nil,
           [.connectionError, .serverClosedConnection, .uncleanShutdown, .sslUnsupported, .poolClosed].contains(error.code) {
            return .unreachable(url: url.description, reason: reason(error))
        }
        return .backend(operation: operation, reason: reason(error))
    }
}

extension PostgresRowSequence {
    /// Reads and drops the rows, so that the statement has run to its end before the next one.
    func drain() async throws {
        for try await _ in self {}
    }
}
