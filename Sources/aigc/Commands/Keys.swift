// aigc keys: create, list and revoke the API keys `aigc serve` accepts. Secrets are printed once,
// at creation; the store keeps only their SHA-256.
import AIGCStore
import ArgumentParser
import Foundation

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create, list and revoke API keys for the server.",
                                                    subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print its secret (shown only this once).")
        @Option(help: "A unique name: letters, digits, '.', '_', '-'.") var name: String
        @Option(help: "Token budget (prompt + completion); no limit when left out.") var quotaTokens: Int64?
        @Option(help: "Requests per minute; no limit when left out.") var rpm: Int?
        @Flag(help: "JSON output: {\"key\": secret, \"id\": ..., \"name\": ...}.") var json = false
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let (record, secret) = try await store.withStore { try await $0.createKey(name: name, quotaTokens: quotaTokens, rpm: rpm) }
            if json {
                writeOut(try jsonLine(Created(key: secret, record: record)) + "\n")
            } else {
                writeOut(secret + "\n")
            }
            writeErr("created key '\(record.name)' (id \(record.id)); save it now: the secret cannot be shown again")
        }

        struct Created: Encodable {
            let key: String
            let record: KeyRecord

            enum CodingKeys: String, CodingKey { case key }

            func encode(to encoder: any Encoder) throws {
                try record.encode(to: encoder)
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(key, forKey: .key)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never their secrets).")
        @Flag(help: "JSON output: an array of keys.") var json = false
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let keys = try await store.withStore { try await $0.listKeys() }
            if json {
                writeOut(try jsonLine(keys) + "\n")
                return
            }
            if keys.isEmpty {
                writeErr("no keys yet; create one with `aigc keys create --name NAME`")
                return
            }
            writeOut(table(["ID", "NAME", "PREFIX", "CREATED (UTC)", "REVOKED", "QUOTA TOKENS", "RPM"], keys.map { key in
                [String(key.id), key.name, key.prefix + "…", shortTime(key.createdAt), key.revokedAt.map(shortTime) ?? "-",
                 key.quotaTokens.map(String.init) ?? "-", key.rpm.map(String.init) ?? "-"]
            }))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key: it stops working at once, on every server.")
        @Argument(help: "The key's name or id.") var key: String
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let record = try await store.withStore { try await $0.revokeKey(key) }
            writeOut("revoked key '\(record.name)' (id \(record.id))\n")
        }
    }
}
