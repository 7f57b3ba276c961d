// The shared store suite, schema migrations: running them again changes nothing and loses nothing,
// and a database opened again (another replica, a restart) sees the data.
import AIGCStore
import Foundation
import Testing

@testable import AIGCStore

@Suite struct MigrationTests {
    @Test(arguments: Backend.persistent)
    func migrationsRunTwiceAreIdempotent(backend: Backend) async throws {
        try await withDatabase(backend) { database in
            let first = try await database.open()
            let (key, secret) = try await first.createKey(name: "survivor", quotaTokens: nil, rpm: nil)
            _ = try await first.recordUsage(usage(key))
            let second = try await database.open()
            let third = try await database.open()
            #expect(try await third.authenticate(secret: secret) == key)
            #expect(try await second.usageTotals(keyID: nil, since: nil).map(\.requests) == [1])

            let table = backend == .postgres ? "aigc_migrations" : "grdb_migrations"
            let applied = try await rawRows(third, table: table)
            #expect(applied.count == Schema.migrations.count, "each migration recorded once: \(applied)")
            for migration in Schema.migrations {
                #expect(applied.filter { $0.contains(migration.name) }.count == 1, "\(migration.name)")
            }
            for store in [first, second, third] { await store.close() }
        }
    }

    @Test func inMemoryMigrationsRunTwiceAreIdempotent() async throws {
        let store = try SQLiteStore.inMemory()
        _ = try await store.createKey(name: "k", quotaTokens: nil, rpm: nil)
        try SQLiteStore.migrate(store.writer)
        #expect(try await store.listKeys().map(\.name) == ["k"])
        #expect(try await rawRows(store, table: "grdb_migrations").count == Schema.migrations.count)
    }

    @Test func bothDialectsDefineTheSameTables() {
        // A cheap guard against editing one dialect and forgetting the other.
        for migration in Schema.migrations {
            let tables = { (statements: [String]) in
                statements.compactMap { statement in
                    statement.range(of: #"CREATE (TABLE|INDEX) \w+"#, options: .regularExpression).map { String(statement[$0]) }
                }
            }
            #expect(tables(migration.sqlite) == tables(migration.postgres), "\(migration.name)")
            let columns = { (statements: [String]) in
                statements.flatMap { $0.split(separator: "\n").dropFirst().map { $0.trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "" } }
            }
            #expect(columns(migration.sqlite) == columns(migration.postgres), "\(migration.name): same columns in the same order")
        }
    }
}
