// aigc usage: requests, tokens and price per key and model, from the usage the server recorded.
import AIGCStore
import ArgumentParser
import Foundation

struct UsageReport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "usage", abstract: "Requests, tokens and price per key and model.")

    @Option(help: "Only this key (name or id).") var key: String?
    @Option(help: "Only requests since then: a duration back from now (30m, 24h, 7d, 2w) or an ISO 8601 date or time.")
    var since: String?
    @Flag(help: "JSON output: {\"since\": ..., \"totals\": [...]}.") var json = false
    @OptionGroup var store: StoreOptions

    func run() async throws {
        // Checked before touching the database, so a typo fails fast and alone.
        let start = try since.map { text throws(StoreError) in try TimeFilter.parseSince(text) }
        let totals = try await store.withStore { store in
            var keyID: Int64?
            if let key { keyID = try await store.resolveKey(key).id }
            return try await store.usageTotals(keyID: keyID, since: start)
        }
        if json {
            writeOut(try jsonLine(Report(since: start, totals: totals.map(Row.init))) + "\n")
            return
        }
        if totals.isEmpty {
            writeErr("no usage recorded" + (start.map { " since \(shortTime($0)) UTC" } ?? ""))
            return
        }
        let rows = totals.map { total in
            [total.keyName ?? "(no key)", total.model, String(total.requests), String(total.promptTokens),
             String(total.completionTokens), Micros.format(total.priceMicros)]
        }
        let sum = { (field: (UsageTotal) -> Int64) in String(totals.map(field).reduce(0, +)) }
        let footer = ["total", "", sum(\.requests), sum(\.promptTokens), sum(\.completionTokens), Micros.format(totals.map(\.priceMicros).reduce(0, +))]
        writeOut(table(["KEY", "MODEL", "REQUESTS", "PROMPT TOKENS", "COMPLETION TOKENS", "PRICE"], rows + [footer]))
    }

    struct Report: Encodable {
        let since: Date?
        let totals: [Row]
    }

    /// A total with its price also as a decimal string, so readers need not divide by a million.
    struct Row: Encodable {
        let total: UsageTotal

        enum CodingKeys: String, CodingKey { case price }

        func encode(to encoder: any Encoder) throws {
            try total.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(Micros.format(total.priceMicros), forKey: .price)
        }
    }
}
