// `aigc keys` and `aigc usage` as users and scripts call them, on a temporary AIGC_HOME (SQLite) and
// on the test PostgreSQL server: the secret shown once, lists without secrets, revocation, usage
// totals, and one clear error line for bad input.
import AIGCStore
import AIGCTestSupport
import Foundation
import PostgresNIO
import Testing

/// `aigc(...)` on a thread outside the cooperative pool: the helper blocks until the child exits,
/// and a child waiting for a database lock that a store task of this process holds would otherwise
/// wait for ever on 2-core machines, where the pool has 2 threads.
func aigcOffPool(_ arguments: [String], environment: [String: String]) async throws -> CommandResult {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try aigc(arguments, environment: environment) }) }
    }
}

@Suite(.serialized) struct KeysAndUsageCommandTests {
    /// A fresh AIGC_HOME; AIGC_DATABASE is cleared so a developer's setting cannot leak in.
    static func environment() -> (home: URL, variables: [String: String]) {
        let home = Fixtures.temporaryDirectory("aigc-home")
        return (home, ["AIGC_HOME": home.path, "AIGC_DATABASE": ""])
    }

    @Test func keysLifecycle() async throws {
        let (home, environment) = Self.environment()
        defer { try? FileManager.default.removeItem(at: home) }

        let created = try await aigcOffPool(["keys", "create", "--name", "ci", "--quota-tokens", "1000", "--rpm", "5", "--json"], environment: environment)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stderr.contains("cannot be shown again"))
        let object = try json(created.stdout)
        let secret = try #require(object["key"] as? String)
        #expect(secret.hasPrefix("aigc-") && secret.count == 37)
        #expect(object["name"] as? String == "ci" && object["id"] as? Int == 1 && object["quota_tokens"] as? Int == 1000)

        let plain = try await aigcOffPool(["keys", "create", "--name", "web"], environment: environment)
        #expect(plain.status == 0)
        let webSecret = plain.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(APIKeySecret.isWellFormed(webSecret), "plain output is the secret alone: \(plain.stdout)")

        let listed = try await aigcOffPool(["keys", "list", "--json"], environment: environment)
        let keys = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        #expect(keys.map { $0["name"] as? String } == ["ci", "web"])
        #expect(!listed.stdout.contains(secret) && !listed.stdout.contains(webSecret), "lists never show secrets")
        #expect(keys.allSatisfy { $0["key"] == nil })
        let table = try await aigcOffPool(["keys", "list"], environment: environment)
        #expect(table.stdout.contains("ci") && table.stdout.contains(String(secret.prefix(13))) && !table.stdout.contains(secret))

        let revoked = try await aigcOffPool(["keys", "revoke", "ci"], environment: environment)
        #expect(revoked.status == 0 && revoked.stdout.contains("revoked key 'ci'"))
        #expect(try await aigcOffPool(["keys", "revoke", "2"], environment: environment).status == 0, "an id works too")

        // The CLI wrote the real database the server will read.
        let store = try SQLiteStore(path: home.appendingPathComponent("aigc.sqlite").path)
        #expect(try await store.authenticate(secret: secret) == nil)
        #expect(try await store.listKeys().allSatisfy(\.isRevoked))
        await store.close()
    }

    @Test func usageTotalsPerKeyAndModel() async throws {
        let (home, environment) = Self.environment()
        defer { try? FileManager.default.removeItem(at: home) }
        _ = try await aigcOffPool(["keys", "create", "--name", "alice"], environment: environment)
        // Usage as the server records it, some of it old.
        let store = try SQLiteStore(path: home.appendingPathComponent("aigc.sqlite").path,
                                    prices: PriceTable(defaultPrice: try Price(prompt: "1", completion: "2")))
        let alice = try #require(try await store.key(named: "alice"))
        for (key, model, prompt, age) in [(alice.id, "tiny", 1000, 0.0), (alice.id, "tiny", 500, 0), (alice.id, "big", 10, 0),
                                          (nil, "tiny", 7, 0), (alice.id, "tiny", 99, 3 * 86_400)] as [(Int64?, String, Int, Double)] {
            _ = try await store.recordUsage(UsageEvent(keyID: key, model: model, endpoint: "/v1/completions", promptTokens: prompt,
                                                       completionTokens: 100, latencyMilliseconds: 5, status: 200,
                                                       createdAt: Date().addingTimeInterval(-age)))
        }
        await store.close()

        let all = try await aigcOffPool(["usage", "--json"], environment: environment)
        #expect(all.status == 0, "\(all.stderr)")
        let totals = try #require(try json(all.stdout)["totals"] as? [[String: Any]])
        #expect(totals.map { "\($0["key"] as? String ?? "-")/\($0["model"] as! String)/\($0["requests"] as! Int)" } == ["-/tiny/1", "alice/big/1", "alice/tiny/3"])

        let recent = try json(try await aigcOffPool(["usage", "--key", "alice", "--since", "24h", "--json"], environment: environment).stdout)
        let rows = try #require(recent["totals"] as? [[String: Any]])
        let tiny = try #require(rows.first { $0["model"] as? String == "tiny" })
        #expect(rows.count == 2 && tiny["requests"] as? Int == 2 && tiny["prompt_tokens"] as? Int == 1500)
        #expect(tiny["price_micros"] as? Int == 1_900_000 && tiny["price"] as? String == "1.900000", "1.5k at 1 + 0.2k at 2")
        #expect(recent["since"] is String)

        let text = try await aigcOffPool(["usage"], environment: environment)
        #expect(text.stdout.contains("alice") && text.stdout.contains("(no key)") && text.stdout.contains("total"))
    }

    @Test func badInputFailsWithOneClearLine() throws {
        let (home, environment) = Self.environment()
        defer { try? FileManager.default.removeItem(at: home) }
        _ = try aigc(["keys", "create", "--name", "taken"], environment: environment)
        let cases: [([String], String)] = [
            (["keys", "create", "--name", "taken"], "already exists"),
            (["keys", "create", "--name", "no spaces"], "invalid key name"),
            (["keys", "revoke", "nobody"], "no key 'nobody'"),
            (["usage", "--key", "nobody"], "no key 'nobody'"),
            (["usage", "--since", "last tuesday"], "--since"),
            (["keys", "list", "--database", "postgres://u:hunter2@127.0.0.1:1/db"], "cannot connect to postgres://u:***@127.0.0.1:1/db"),
            (["keys", "list", "--database", "mysql://u:hunter2@h/db"], "bad database URL"),
            (["usage", "--database", "postgres://u:hunter2@127.0.0.1:5432/db?sslmode=sometimes"], "sslmode 'sometimes'"),
        ]
        for (arguments, needle) in cases {
            let run = try aigc(arguments, environment: environment)
            #expect(run.status != 0, "\(arguments) must fail")
            #expect(run.stderr.split(separator: "\n").count == 1, "\(arguments): \(run.stderr)")
            #expect(run.stderr.contains(needle), "\(arguments): \(run.stderr)")
            #expect(!run.stderr.contains("hunter2"), "passwords stay out of messages")
        }
        let viaEnvironment = try aigc(["keys", "list"], environment: environment.merging(["AIGC_DATABASE": "postgres://u:pw@127.0.0.1:1/db"]) { $1 })
        #expect(viaEnvironment.status != 0 && viaEnvironment.stderr.contains("127.0.0.1:1"), "AIGC_DATABASE is used")
    }

    @Test func keysAndUsageOnPostgreSQL() async throws {
        let environmentVariables = ProcessInfo.processInfo.environment
        if environmentVariables["AIGC_SKIP_POSTGRES"] == "1" { return }
        guard let base = environmentVariables["AIGC_TEST_POSTGRES_URL"], !base.isEmpty else {
            Issue.record("AIGC_TEST_POSTGRES_URL is not set: start a server with `eval \"$(scripts/postgres-test-server.sh start)\" && export AIGC_TEST_POSTGRES_URL`, run `make test`, or set AIGC_SKIP_POSTGRES=1")
            return
        }
        let schema = "e2e_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        let url = base + (base.contains("?") ? "&" : "?") + "schema=\(schema)"
        let (home, environment) = Self.environment()
        defer { try? FileManager.default.removeItem(at: home) }

        let created = try await aigcOffPool(["keys", "create", "--name", "replica-key", "--json", "--database", url], environment: environment)
        #expect(created.status == 0, "\(created.stderr)")
        let secret = try #require(try json(created.stdout)["key"] as? String)
        let viaEnvironment = environment.merging(["AIGC_DATABASE": url]) { $1 }
        let listed = try await aigcOffPool(["keys", "list", "--json"], environment: viaEnvironment)
        #expect(listed.status == 0 && listed.stdout.contains("replica-key") && !listed.stdout.contains(secret))

        let store = try await PostgresStore(url: url)
        let key = try #require(try await store.authenticate(secret: secret))
        _ = try await store.recordUsage(UsageEvent(keyID: key.id, model: "tiny", endpoint: "/v1/chat/completions", promptTokens: 12,
                                                   completionTokens: 30, latencyMilliseconds: 9, status: 200))
        await store.close()
        let usage = try json(try await aigcOffPool(["usage", "--json", "--since", "1h"], environment: viaEnvironment).stdout)
        let rows = try #require(usage["totals"] as? [[String: Any]])
        #expect(rows.count == 1 && rows[0]["key"] as? String == "replica-key" && rows[0]["completion_tokens"] as? Int == 30)
        #expect(try await aigcOffPool(["keys", "revoke", "replica-key"], environment: viaEnvironment).status == 0)
        #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent("aigc.sqlite").path), "nothing went to SQLite")

        try await Self.dropSchema(String(schema), base: base)
    }

    static func dropSchema(_ schema: String, base: String) async throws {
        let parsed = try PostgresURL(base)
        let connection = try await PostgresConnection.connect(
            configuration: .init(host: parsed.host, port: parsed.port, username: parsed.user, password: parsed.password,
                                 database: parsed.database, tls: .disable),
            id: 1, logger: Logger(label: "e2e"))
        try await connection.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"), logger: Logger(label: "e2e"))
        try await connection.close()
    }
}
