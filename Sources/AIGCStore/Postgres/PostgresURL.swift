// PostgresURL: parses `postgres://user:password@host:port/database?sslmode=...&schema=...` the way
// libpq reads such URLs (https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS),
// for the subset aigc needs, with an error that names the wrong part. Passwords never appear in errors.
import Foundation

/// A parsed PostgreSQL connection URL.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    /// How to use TLS, as libpq's `sslmode` (verify-ca is treated like verify-full).
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca", verifyFull = "verify-full"
    }

    /// A host name or IP address, or the folder of a Unix socket when it starts with "/".
    public var host: String
    /// 5432 when not given.
    public var port: Int
    /// The role to log in as.
    public var user: String
    /// nil when the URL has none (trust or peer authentication).
    public var password: String?
    /// The user name when the URL has none, as in libpq.
    public var database: String
    /// `prefer` when not given, as in libpq.
    public var sslMode: SSLMode
    /// A schema to create and use instead of `public`; lets several stores share one database.
    public var schema: String?
    /// Seconds to wait for a connection (`connect_timeout`), 10 when not given.
    public var connectTimeout: Int

    /// The URL with the password replaced by `***`, for messages.
    public var description: String {
        var text = "postgres://" + user + (password == nil ? "" : ":***") + "@"
        text += host.contains(":") ? "[\(host)]" : host.hasPrefix("/") ? "" : host
        text += host.hasPrefix("/") ? "/\(database)?host=\(host)" : ":\(port)/\(database)"
        return text
    }

    /// Parses `text`; throws `StoreError.badURL` naming the part that is wrong.
    public init(_ text: String) throws(StoreError) {
        let shown = Self.redact(text)
        func bad(_ reason: String) -> StoreError { .badURL(url: shown, reason: reason) }

        guard let schemeEnd = text.range(of: "://") else { throw bad("it does not start with postgres://") }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw bad("the scheme is '\(scheme)', not postgres or postgresql")
        }
        var rest = Substring(text[schemeEnd.upperBound...])
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") { query = rest[rest.index(after: mark)...]; rest = rest[..<mark] }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash], path = rest[slash...].dropFirst()

        guard let at = authority.lastIndex(of: "@") else { throw bad("there is no user; write user:password@ before the host") }
        let userInfo = authority[..<at], hostPort = authority[authority.index(after: at)...]
        let userPart = userInfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard let user = Self.decode(userPart[0]), !user.isEmpty else { throw bad("the user name is empty or badly percent-encoded") }
        self.user = user
        if userPart.count > 1 {
            guard let password = Self.decode(userPart[1]) else { throw bad("the password is badly percent-encoded") }
            self.password = password
        }

        var host = hostPort, portText: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw bad("an IPv6 address misses its closing ]") }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { throw bad("unexpected '\(after)' after the IPv6 address") }
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":") {
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        guard let decodedHost = Self.decode(host) else { throw bad("the host is badly percent-encoded") }
        self.host = decodedHost
        if let portText {
            guard let port = Int(portText), (1...65535).contains(port) else { throw bad("the port '\(portText)' is not a number in 1...65535") }
            self.port = port
        } else {
            self.port = 5432
        }
        guard let database = Self.decode(path) else { throw bad("the database name is badly percent-encoded") }
        self.database = database.isEmpty ? user : database
        sslMode = .prefer
        connectTimeout = 10
        try applyQuery(query, bad)
        guard !self.host.isEmpty else { throw bad("there is no host; write @host:port after the user") }
    }

    /// Reads `sslmode`, `schema`, `connect_timeout` and `host`; refuses anything else, so a typo
    /// does not silently connect with defaults.
    private mutating func applyQuery(_ query: Substring, _ bad: (String) -> StoreError) throws(StoreError) {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0]), value = parts.count > 1 ? Self.decode(parts[1]) ?? "" : ""
            switch name {
            case "sslmode":
                guard let mode = SSLMode(rawValue: value) else {
                    throw bad("sslmode '\(value)' is not one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                sslMode = mode
            case "schema":
                guard Self.isIdentifier(value) else { throw bad("schema '\(value)' must be lower-case letters, digits and _, starting with a letter") }
                schema = value
            case "connect_timeout":
                guard let seconds = Int(value), (1...600).contains(seconds) else { throw bad("connect_timeout '\(value)' is not 1...600 seconds") }
                connectTimeout = seconds
            case "host":
                guard value.hasPrefix("/") else { throw bad("the host parameter must be a Unix socket folder such as /var/run/postgresql") }
                host = value
            default:
                throw bad("unknown parameter '\(name)'; known: sslmode, schema, connect_timeout, host")
            }
        }
    }

    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.first, ("a"..."z").contains(first), text.count <= 63 else { return false }
        return text.allSatisfy { ("a"..."z").contains($0) || $0.isASCIIDigit || $0 == "_" }
    }

    static func decode(_ text: Substring) -> String? { String(text).removingPercentEncoding }

    /// `text` with whatever lies between the user name and the last `@` replaced by `***`. Looks for
    /// the last `@` anywhere, so a password holding an unencoded `/` or `?` is still hidden, also
    /// in text that is not a URL at all.
    static func redact(_ text: String) -> String {
        let rest = text.range(of: "://").map { text[$0.upperBound...] } ?? text[...]
        guard let at = rest.lastIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(rest[at...])
    }
}
