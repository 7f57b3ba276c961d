// Store: what the service persists (API keys, usage, conversations, jobs), behind one protocol with
// two real backends, SQLiteStore (one file, the default) and PostgresStore (several replicas).
import Foundation

/// The persistence of the service. Every method is safe to call from many tasks at once; every
/// write is committed (durable) when the method returns.
public protocol Store: Sendable {
    // MARK: API keys

    /// Creates a key and returns its record and its secret. The secret is not stored (only its
    /// SHA-256 is) and cannot be shown again. Throws `duplicateName` if the name is taken.
    func createKey(name: String, quotaTokens: Int64?, rpm: Int?) async throws(StoreError) -> (record: KeyRecord, secret: String)
    /// The key whose secret this is, or nil for an unknown, malformed or revoked secret.
    func authenticate(secret: String) async throws(StoreError) -> KeyRecord?
    /// All keys, revoked ones included, oldest first.
    func listKeys() async throws(StoreError) -> [KeyRecord]
    /// The key with this id, or nil.
    func key(id: Int64) async throws(StoreError) -> KeyRecord?
    /// The key with this name, or nil.
    func key(named name: String) async throws(StoreError) -> KeyRecord?
    /// Revokes the key (at once, for every replica); revoking a revoked key keeps the first time.
    func revokeKey(id: Int64) async throws(StoreError) -> KeyRecord

    // MARK: Usage

    /// Records one finished request, with its price from the store's price table. Durable on return.
    func recordUsage(_ event: UsageEvent) async throws(StoreError) -> UsageRecord
    /// Totals per (key, model), optionally for one key and from an instant on.
    func usageTotals(keyID: Int64?, since: Date?) async throws(StoreError) -> [UsageTotal]
    /// Prompt plus completion tokens the key used since `since` (all time when nil): quota checks.
    func tokensUsed(keyID: Int64, since: Date?) async throws(StoreError) -> Int64
    /// Requests the key made since `since`: requests-per-minute limits.
    func requestCount(keyID: Int64, since: Date) async throws(StoreError) -> Int

    // MARK: Conversations

    /// Creates an empty conversation.
    func createConversation(_ new: NewConversation) async throws(StoreError) -> Conversation
    /// Conversations, most recently updated first.
    func listConversations(limit: Int, offset: Int) async throws(StoreError) -> [Conversation]
    /// A conversation with its messages; throws `notFound`.
    func conversation(id: String) async throws(StoreError) -> ConversationWithMessages
    /// Appends a message and moves the conversation's `updatedAt`; throws `notFound`.
    func appendMessage(to conversationID: String, _ message: NewMessage) async throws(StoreError) -> Message
    /// Deletes a conversation and its messages; throws `notFound`.
    func deleteConversation(id: String) async throws(StoreError)

    // MARK: Jobs

    /// Adds a queued job.
    func enqueueJob(kind: String, payload: String) async throws(StoreError) -> Job
    /// Hands the oldest queued job (of `kind`, if given) to `worker`, or returns nil when none is
    /// queued. Each job is handed to exactly one claimer, also across replicas.
    func claimJob(worker: String, kind: String?) async throws(StoreError) -> Job?
    /// Finishes a running job; throws `jobNotRunning` if it is not running, `notFound` if unknown.
    func completeJob(id: Int64, outcome: JobOutcome) async throws(StoreError) -> Job
    /// A job by id; throws `notFound`.
    func job(id: Int64) async throws(StoreError) -> Job

    // MARK: Lifecycle

    /// Releases connections. Call once, when done; the store must not be used afterwards.
    func close() async
}

extension Store {
    /// The key a user named on the command line: a key name, or a key id (names are never all
    /// digits, so the two cannot be confused). Throws `notFound`.
    public func resolveKey(_ reference: String) async throws(StoreError) -> KeyRecord {
        if let record = try await key(named: reference) { return record }
        if let id = Int64(reference), let record = try await key(id: id) { return record }
        throw .notFound(what: "key", identifier: reference)
    }

    /// Revokes the key named or numbered `reference`.
    public func revokeKey(_ reference: String) async throws(StoreError) -> KeyRecord {
        try await revokeKey(id: try await resolveKey(reference).id)
    }
}

/// Finds the one key among rows sharing a display prefix whose hash equals `secret`'s, comparing
/// every candidate in constant time; revoked keys never match.
func matchingKey(secret: String, candidates: [(record: KeyRecord, hash: String)]) -> KeyRecord? {
    let hash = APIKeySecret.hash(secret)
    var found: KeyRecord?
    for candidate in candidates where APIKeySecret.constantTimeEquals(candidate.hash, hash) {
        found = candidate.record
    }
    return found?.isRevoked == false ? found : nil
}
