// The shared store suite, API keys: creation, authentication, revocation, listing, what is stored.
import AIGCStore
import Foundation
import Testing

@Suite struct KeyStoreTests {
    @Test(arguments: Backend.underTest)
    func createThenAuthenticate(backend: Backend) async throws {
        try await withStore(backend) { store in
            let (record, secret) = try await store.createKey(name: "ci", quotaTokens: 5000, rpm: 60)
            #expect(secret.hasPrefix("aigc-") && secret.count == 37, "secret: aigc- and 32 characters")
            #expect(APIKeySecret.isWellFormed(secret))
            #expect(record.prefix == String(secret.prefix(13)))
            #expect(record.name == "ci" && record.quotaTokens == 5000 && record.rpm == 60 && !record.isRevoked)
            #expect(abs(record.createdAt.timeIntervalSinceNow) < 60)

            #expect(try await store.authenticate(secret: secret) == record)
            // Same display prefix, other characters: found as a candidate, rejected by the hash.
            let forged = record.prefix + String(repeating: "A", count: 24)
            #expect(try await store.authenticate(secret: forged) == nil)
            for malformed in ["", "aigc-", "sk-" + String(secret.dropFirst(3)), secret + "x", String(secret.dropLast()) + "!"] {
                #expect(try await store.authenticate(secret: malformed) == nil, "\(malformed.debugDescription)")
            }
        }
    }

    @Test(arguments: Backend.underTest)
    func revokedKeysNoLongerAuthenticate(backend: Backend) async throws {
        try await withStore(backend) { store in
            let (first, firstSecret) = try await store.createKey(name: "first", quotaTokens: nil, rpm: nil)
            let (second, secondSecret) = try await store.createKey(name: "second", quotaTokens: nil, rpm: nil)

            let revoked = try await store.revokeKey("first")
            #expect(revoked.id == first.id && revoked.revokedAt != nil)
            #expect(try await store.authenticate(secret: firstSecret) == nil)
            #expect(try await store.authenticate(secret: secondSecret)?.id == second.id, "other keys keep working")

            let again = try await store.revokeKey(String(first.id))
            #expect(again.revokedAt == revoked.revokedAt, "revoking twice keeps the first time")
            #expect(try await store.revokeKey(String(second.id)).isRevoked, "an id works as a reference")

            await #expect(throws: StoreError.notFound(what: "key", identifier: "nobody")) { try await store.revokeKey("nobody") }
            await #expect(throws: StoreError.notFound(what: "key", identifier: "999")) { try await store.revokeKey(id: 999) }
        }
    }

    @Test(arguments: Backend.underTest)
    func duplicateNamesAreRejected(backend: Backend) async throws {
        try await withStore(backend) { store in
            _ = try await store.createKey(name: "team", quotaTokens: nil, rpm: nil)
            await #expect(throws: StoreError.duplicateName("team")) { _ = try await store.createKey(name: "team", quotaTokens: 1, rpm: 1) }
            _ = try await store.revokeKey("team")
            await #expect(throws: StoreError.duplicateName("team"), "revoked keys keep their names") {
                _ = try await store.createKey(name: "team", quotaTokens: nil, rpm: nil)
            }
            #expect(try await store.listKeys().count == 1)
        }
    }

    @Test(arguments: Backend.underTest)
    func racingCreatesOfOneNameLetExactlyOneWin(backend: Backend) async throws {
        try await withStore(backend) { store async throws in
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 { group.addTask { (try? await store.createKey(name: "race", quotaTokens: nil, rpm: nil)) != nil } }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
            #expect(try await store.listKeys().map(\.name) == ["race"])
        }
    }

    @Test(arguments: Backend.underTest)
    func secretsAreNeverStoredInPlain(backend: Backend) async throws {
        try await withStore(backend) { store in
            var secrets: [String] = []
            for name in ["a", "b", "c"] { secrets.append(try await store.createKey(name: name, quotaTokens: nil, rpm: nil).secret) }
            let rows = try await rawRows(store, table: "api_keys")
            #expect(rows.count == 3)
            let everything = rows.joined(separator: "\n")
            for secret in secrets {
                #expect(!everything.contains(secret))
                #expect(!everything.contains(String(secret.suffix(24))), "the part after the display prefix is nowhere")
                #expect(everything.contains(APIKeySecret.hash(secret)), "the SHA-256 is what is stored")
            }
        }
    }

    @Test(arguments: Backend.underTest)
    func listAndFindKeys(backend: Backend) async throws {
        try await withStore(backend) { store in
            let made = [try await store.createKey(name: "zeta", quotaTokens: nil, rpm: 10).record,
                        try await store.createKey(name: "alpha", quotaTokens: 0, rpm: nil).record]
            #expect(try await store.listKeys() == made, "oldest first, with limits")
            #expect(try await store.key(named: "alpha") == made[1])
            #expect(try await store.key(id: made[0].id) == made[0])
            #expect(try await store.key(named: "nobody") == nil)
            #expect(try await store.resolveKey(String(made[1].id)) == made[1])
            await #expect(throws: StoreError.notFound(what: "key", identifier: "12345")) { _ = try await store.resolveKey("12345") }
        }
    }

    @Test(arguments: Backend.underTest)
    func badNamesAndLimitsAreRefused(backend: Backend) async throws {
        try await withStore(backend) { store async throws in
            for name in ["", "42", "has space", "-dash-first", String(repeating: "n", count: 65), "naïve"] {
                await #expect(throws: StoreError.self, "\(name.debugDescription)") { _ = try await store.createKey(name: name, quotaTokens: nil, rpm: nil) }
            }
            await #expect(throws: StoreError.self) { _ = try await store.createKey(name: "q", quotaTokens: -1, rpm: nil) }
            await #expect(throws: StoreError.self) { _ = try await store.createKey(name: "r", quotaTokens: nil, rpm: 0) }
            #expect(try await store.listKeys().isEmpty)
        }
    }
}
