// API keys: the stored record, and how secrets are made, hashed and compared. Only the SHA-256 of a
// secret is stored; the secret itself is shown once, when the key is created.
import Crypto
import Foundation

/// A stored API key, without its secret.
public struct KeyRecord: Codable, Sendable, Equatable, Identifiable {
    /// Database id; also accepted wherever a key name is (`aigc keys revoke 3`).
    public var id: Int64
    /// Unique name, e.g. "ci" or "alice-laptop".
    public var name: String
    /// The first characters of the secret ("aigc-" and 8 more), for recognising a key in lists and logs.
    public var prefix: String
    /// When the key was created.
    public var createdAt: Date
    /// When the key was revoked; a revoked key never authenticates again.
    public var revokedAt: Date?
    /// Token budget (prompt + completion), or nil for no limit.
    public var quotaTokens: Int64?
    /// Requests per minute, or nil for no limit.
    public var rpm: Int?

    /// Whether the key has been revoked.
    public var isRevoked: Bool { revokedAt != nil }

    /// Creates a record (backends build these from rows).
    public init(id: Int64, name: String, prefix: String, createdAt: Date, revokedAt: Date?, quotaTokens: Int64?, rpm: Int?) {
        self.id = id
        self.name = name
        self.prefix = prefix
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.quotaTokens = quotaTokens
        self.rpm = rpm
    }

    enum CodingKeys: String, CodingKey {
        case id, name, prefix, rpm
        case createdAt = "created_at", revokedAt = "revoked_at", quotaTokens = "quota_tokens"
    }
}

/// Making, hashing and checking secrets. A secret is `aigc-` followed by 32 base62 characters
/// (about 190 bits) from the system CSPRNG, so an unsalted SHA-256 is enough to store it safely.
public enum APIKeySecret {
    /// "aigc-": lets secret scanners and people recognise an aigc key.
    public static let scheme = "aigc-"
    /// Number of random characters after the scheme.
    public static let randomLength = 32
    /// Characters of the secret kept in clear as its display prefix (scheme included).
    public static let prefixLength = scheme.count + 8
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// A fresh secret. `SystemRandomNumberGenerator` reads the kernel CSPRNG (getrandom on Linux).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        var characters: [UInt8] = []
        characters.reserveCapacity(randomLength)
        while characters.count < randomLength {
            let byte = UInt8.random(in: 0...255, using: &generator)
            // 248 = 4 * 62: rejecting the top 8 byte values keeps every character equally likely.
            if byte < 248 { characters.append(alphabet[Int(byte % 62)]) }
        }
        return scheme + String(decoding: characters, as: UTF8.self)
    }

    /// Whether `secret` has the shape of an aigc key (checked before touching the database).
    public static func isWellFormed(_ secret: String) -> Bool {
        let bytes = Array(secret.utf8)
        guard bytes.count == scheme.utf8.count + randomLength, secret.hasPrefix(scheme) else { return false }
        return bytes.dropFirst(scheme.utf8.count).allSatisfy { alphabet.contains($0) }
    }

    /// The display prefix stored next to the hash and used to find candidate rows.
    public static func displayPrefix(of secret: String) -> String {
        String(secret.prefix(prefixLength))
    }

    /// Lower-case hex SHA-256 of the secret's UTF-8 bytes: the only form in which a secret is stored.
    public static func hash(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Compares two hashes in time that depends only on their lengths, so response times do not
    /// reveal how many leading characters of a guess were right.
    public static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<x.count { difference |= x[i] ^ y[i] }
        return difference == 0
    }

    /// Checks a key name: 1-64 characters of letters, digits, `.`, `_`, `-`, starting with a letter
    /// or digit, and not all digits (so that `revoke 12` can only mean the key with id 12).
    public static func validateName(_ name: String) throws(StoreError) {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
        guard (1...64).contains(name.count) else {
            throw .invalidInput(field: "key name", reason: "'\(name)' must be 1 to 64 characters long")
        }
        guard name.allSatisfy(allowed.contains), name.first!.isLetter || name.first!.isNumber else {
            throw .invalidInput(field: "key name", reason: "'\(name)' may hold only letters, digits, '.', '_' and '-', and must start with a letter or digit")
        }
        guard !name.allSatisfy(\.isNumber) else {
            throw .invalidInput(field: "key name", reason: "'\(name)' is all digits, which would be read as a key id; add a letter")
        }
    }

    /// Checks the limits given to `createKey`.
    public static func validateLimits(quotaTokens: Int64?, rpm: Int?) throws(StoreError) {
        if let quotaTokens, quotaTokens < 0 {
            throw .invalidInput(field: "quota tokens", reason: "\(quotaTokens) is negative; give 0 or more, or no quota")
        }
        if let rpm, rpm < 1 || rpm > 1_000_000 {
            throw .invalidInput(field: "rpm", reason: "\(rpm) is outside 1...1000000; leave it out for no limit")
        }
    }
}
