// The --database option shared by the commands that use the service's store (keys, usage).
import AIGCGeneration
import AIGCStore
import ArgumentParser
import Foundation

struct StoreOptions: ParsableArguments {
    @Option(help: ArgumentHelp("PostgreSQL database to use instead of $AIGC_HOME/aigc.sqlite (default: $AIGC_DATABASE).",
                               valueName: "postgres://user:password@host:port/database"))
    var database: String?

    /// Opens the store, runs `body`, and closes the store, also when `body` throws.
    func withStore<T>(_ body: (any Store) async throws -> T) async throws -> T {
        let url = database ?? ProcessInfo.processInfo.environment["AIGC_DATABASE"]
        let store = try await StoreLocation.resolve(databaseURL: url, home: ModelStore.defaultHome).open()
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

/// Pads each column to its widest cell, two spaces apart: a plain table for terminals.
func table(_ header: [String], _ rows: [[String]]) -> String {
    let all = [header] + rows
    let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
    return all.map { row in
        row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
            .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }.joined(separator: "\n") + "\n"
}

/// A UTC time to the minute, for tables ("2025-11-23 13:05").
func shortTime(_ date: Date) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd HH:mm"
    return formatter.string(from: date)
}
