// PostgreSQL only: URL parsing and its errors, connection failures reported at once, replicas that
// share keys, migrations racing at start-up, and a queue where SKIP LOCKED hands each job to one
// claimer and lets claimers pass a job another transaction holds.
import Foundation
import PostgresNIO
import Testing

@testable import AIGCStore

@Suite struct PostgresURLTests {
    @Test func goodURLs() throws {
        let full = try PostgresURL("postgres://alice:s%40cret%2Fx@db.example.com:6543/prod?sslmode=require&schema=aigc&connect_timeout=3")
        #expect(full.user == "alice" && full.password == "s@cret/x" && full.host == "db.example.com" && full.port == 6543)
        #expect(full.database == "prod" && full.sslMode == .require && full.schema == "aigc" && full.connectTimeout == 3)
        #expect(full.description == "postgres://alice:***@db.example.com:6543/prod")

        let short = try PostgresURL("postgresql://bob@localhost")
        #expect(short.port == 5432 && short.database == "bob" && short.password == nil && short.sslMode == .prefer)
        let v6 = try PostgresURL("postgres://u:p@[::1]:5433/d")
        #expect(v6.host == "::1" && v6.port == 5433 && v6.description == "postgres://u:***@[::1]:5433/d")
        let socket = try PostgresURL("postgres://u@/d?host=/var/run/postgresql")
        #expect(socket.host == "/var/run/postgresql" && PostgresConnector.socketPath(socket) == "/var/run/postgresql/.s.PGSQL.5432")
    }

    @Test(arguments: [
        ("mysql://u:p@h/d", "scheme is 'mysql'"),
        ("postgres//u:p@h/d", "does not start with postgres://"),
        ("postgres://h:5432/d", "there is no user"),
        ("postgres://:p@h/d", "user name is empty"),
        ("postgres://u:p@h:99999/d", "port '99999'"),
        ("postgres://u:p@h:port/d", "port 'port'"),
        ("postgres://u:p@:5432/d", "there is no host"),
        ("postgres://u:p@[::1/d", "closing ]"),
        ("postgres://u:p@h/d?sslmode=maybe", "sslmode 'maybe'"),
        ("postgres://u:p@h/d?schema=Bad-Name", "schema 'Bad-Name'"),
        ("postgres://u:p@h/d?connect_timeout=0", "connect_timeout '0'"),
        ("postgres://u:p@h/d?pool=3", "unknown parameter 'pool'"),
    ])
    func badURLsNameTheWrongPart(url: String, reason: String) {
        #expect {
            _ = try PostgresURL(url)
        } throws: { error in
            guard case let .badURL(shown, why)? = error as? StoreError else { return false }
            return why.contains(reason) && !shown.contains(":p@") && !"\(error)".contains(":p@")
        }
    }

    @Test func passwordsNeverAppearInErrors() {
        for url in ["postgres://u:hunter2@h:1/d?bogus=1", "postgres://u:hunter2/with/slash@h/d?sslmode=no", "mysql://u:hunter2@h/d"] {
            var message = ""
            do { message = try PostgresURL(url).description } catch { message = error.description }
            #expect(!message.contains("hunter2"), "\(message)")
        }
    }
}

@Suite struct PostgresConnectionErrorTests {
    /// Needs no server: nothing listens on the port.
    @Test func refusedConnectionsFailAtOnceWithTheAddress() async throws {
        // A port nobody listens on: bind one, note it, close it.
        let socket = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(socket.localAddress?.port)
        try await socket.close()
        let started = ContinuousClock.now
        await #expect {
            _ = try await PostgresStore(url: "postgres://aigc:secret@127.0.0.1:\(port)/aigc_test")
        } throws: { error in
            guard case let .unreachable(url, reason)? = error as? StoreError else { return false }
            return url == "postgres://aigc:***@127.0.0.1:\(port)/aigc_test" && reason.lowercased().contains("refused")
        }
        #expect(ContinuousClock.now - started < .seconds(5))
    }
}

/// Skipped only when AIGC_SKIP_POSTGRES=1; without a server and without that, these tests fail and say why.
@Suite(.enabled(if: !Backend.skipPostgres, "AIGC_SKIP_POSTGRES=1")) struct PostgresStoreTests {
    @Test func wrongPasswordsAreReportedAsSuch() async throws {
        var url = try PostgresURL(try TestPostgres.baseURL())
        url.password = "wrong"
        await #expect {
            _ = try await PostgresStore(url: "postgres://\(url.user):wrong@\(url.host):\(url.port)/\(url.database)")
        } throws: { error in
            guard case let .unreachable(_, reason)? = error as? StoreError else { return false }
            return reason.contains("password authentication failed")
        }
    }

    @Test func twoReplicasSeeEachOthersKeys() async throws {
        try await withDatabase(.postgres) { database in
            let one = try await database.open(), two = try await database.open()
            let (key, secret) = try await one.createKey(name: "shared", quotaTokens: 100, rpm: 5)
            #expect(try await two.authenticate(secret: secret) == key)
            _ = try await two.recordUsage(usage(key, prompt: 40, completion: 2))
            #expect(try await one.tokensUsed(keyID: key.id, since: nil) == 42)
            _ = try await two.revokeKey("shared")
            #expect(try await one.authenticate(secret: secret) == nil, "a revocation on one replica holds on the other at once")
            await #expect(throws: StoreError.duplicateName("shared")) { _ = try await one.createKey(name: "shared", quotaTokens: nil, rpm: nil) }
            await one.close()
            await two.close()
        }
    }

    @Test func replicasStartingTogetherMigrateOnce() async throws {
        try await withDatabase(.postgres) { database in
            let stores = try await withThrowingTaskGroup(of: (any Store).self) { group in
                for _ in 0..<4 { group.addTask { try await database.open() } }
                return try await group.reduce(into: [any Store]()) { $0.append($1) }
            }
            #expect(try await rawRows(stores[0], table: "aigc_migrations").count == Schema.migrations.count)
            for store in stores { await store.close() }
        }
    }

    @Test func skipLockedHandsEachJobToExactlyOneOfTwoClaimers() async throws {
        try await withDatabase(.postgres) { database in
            let one = try await database.open(), two = try await database.open()
            var queued = Set<Int64>()
            for i in 0..<40 { queued.insert(try await one.enqueueJob(kind: "image", payload: #"{"n":\#(i)}"#).id) }

            async let fromOne = Self.drain(one, worker: "replica-1")
            async let fromTwo = Self.drain(two, worker: "replica-2")
            let (a, b) = try await (fromOne, fromTwo)
            #expect(Set(a).isDisjoint(with: b), "no job went to both replicas")
            #expect(Set(a).union(b) == queued && a.count + b.count == 40, "every job went to one of them")
            await one.close()
            await two.close()
        }
    }

    @Test func claimersPassOverAJobAnotherTransactionHolds() async throws {
        try await withDatabase(.postgres) { database in
            let store = try await database.open()
            let held = try await store.enqueueJob(kind: "image", payload: "{}")
            let free = try await store.enqueueJob(kind: "image", payload: "{}")

            // Another session locks the oldest job, as a claimer in the middle of its transaction would.
            let other = try await TestPostgres.connect(database.location)
            try await other.query("BEGIN", logger: PostgresConnector.logger).drain()
            try await other.query("SELECT id FROM jobs WHERE id = \(held.id) FOR UPDATE", logger: PostgresConnector.logger).drain()
            let claimed = try await store.claimJob(worker: "w", kind: nil)
            #expect(claimed?.id == free.id, "the held job is skipped, not waited for")
            #expect(try await store.claimJob(worker: "w", kind: nil) == nil)
            try await other.query("ROLLBACK", logger: PostgresConnector.logger).drain()
            #expect(try await store.claimJob(worker: "w", kind: nil)?.id == held.id, "released, it can be claimed")
            try await other.close()
            await store.close()
        }
    }

    static func drain(_ store: any Store, worker: String) async throws -> [Int64] {
        var ids: [Int64] = []
        while let job = try await store.claimJob(worker: worker, kind: nil) { ids.append(job.id) }
        return ids
    }
}
