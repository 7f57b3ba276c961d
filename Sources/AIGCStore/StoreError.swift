// StoreError: every failure of the store, with the context and a hint that tells the user what to do.
import Foundation

/// The one error type of AIGCStore. Messages are single lines meant for the CLI and server logs;
/// they never contain a password or an API key secret.
public enum StoreError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The SQLite file (or its folder) could not be created or opened.
    case cannotOpen(path: String, reason: String)
    /// A schema migration failed; the database is left at the last migration that succeeded.
    case migrationFailed(name: String, reason: String)
    /// A key, conversation or job does not exist. `what` is e.g. "key", `identifier` what the caller gave.
    case notFound(what: String, identifier: String)
    /// A key with this name already exists (names are unique, also after revocation).
    case duplicateName(String)
    /// A database URL could not be parsed. `url` has its password redacted.
    case badURL(url: String, reason: String)
    /// The PostgreSQL server could not be reached or refused the login.
    case unreachable(url: String, reason: String)
    /// A value given by the caller is out of range or malformed.
    case invalidInput(field: String, reason: String)
    /// A job was completed that is not running (already finished, or never claimed).
    case jobNotRunning(id: Int64, state: String)
    /// A query failed for a reason the store does not handle itself.
    case backend(operation: String, reason: String)

    /// One line: what failed, with its context, and what to do.
    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "cannot open the database \(path): \(reason); check that the folder exists and is writable, or set AIGC_HOME"
        case let .migrationFailed(name, reason):
            return "database migration '\(name)' failed: \(reason); the database was left unchanged by this migration, fix the cause and run again"
        case let .notFound(what, identifier):
            return "no \(what) '\(identifier)'" + (what == "key" ? "; `aigc keys list` shows the keys" : "")
        case let .duplicateName(name):
            return "a key named '\(name)' already exists; choose another name (revoked keys keep their names)"
        case let .badURL(url, reason):
            return "bad database URL \(url): \(reason); expected postgres://user:password@host:port/database"
        case let .unreachable(url, reason):
            return "cannot connect to \(url): \(reason); check that the server runs and the URL, user and password are right"
        case let .invalidInput(field, reason):
            return "invalid \(field): \(reason)"
        case let .jobNotRunning(id, state):
            return "job \(id) is \(state), not running; only a claimed job can be completed"
        case let .backend(operation, reason):
            return "database error while trying to \(operation): \(reason)"
        }
    }
}
