// Opening the store the user asked for: the SQLite file in the data directory by default, or a
// PostgreSQL database given by URL (the CLI's --database and the AIGC_DATABASE variable).
import Foundation

/// Where the store lives.
public enum StoreLocation: Sendable, Equatable {
    /// A SQLite file.
    case sqlite(path: String)
    /// A PostgreSQL database.
    case postgres(url: String)

    /// The file name of the SQLite database inside the data directory.
    public static let sqliteFileName = "aigc.sqlite"

    /// `databaseURL` if given and not empty (postgres://, postgresql://, sqlite:PATH or a file
    /// path), else `home`/aigc.sqlite.
    public static func resolve(databaseURL: String?, home: URL) throws(StoreError) -> StoreLocation {
        guard let text = databaseURL?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
            return .sqlite(path: home.appendingPathComponent(sqliteFileName).path)
        }
        let lower = text.lowercased()
        if lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://") { return .postgres(url: text) }
        if lower.hasPrefix("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count)).replacingOccurrences(of: "^//", with: "", options: .regularExpression)
            guard !path.isEmpty else { throw .badURL(url: text, reason: "no file after sqlite:") }
            return .sqlite(path: path)
        }
        if text.contains("://") {
            throw .badURL(url: PostgresURL.redact(text), reason: "only postgres://, postgresql:// and sqlite: databases are supported")
        }
        return .sqlite(path: text)
    }

    /// Opens the store here (migrating its schema).
    public func open(prices: PriceTable = .free) async throws(StoreError) -> any Store {
        switch self {
        case let .sqlite(path): return try SQLiteStore(path: path, prices: prices)
        case let .postgres(url): return try await PostgresStore(url: url, prices: prices)
        }
    }
}
