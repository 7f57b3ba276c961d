// PostgresStore: conversations with their messages, and the job queue. A claim locks the oldest
// queued row with FOR UPDATE SKIP LOCKED, so concurrent claimers on any replica pass over rows
// another transaction holds instead of waiting for them, and each job goes to exactly one claimer.
import Foundation
import PostgresNIO

extension PostgresStore {
    static let conversationColumns = "id, title, model, system_prompt, parameters, created_at, updated_at"
    static let jobColumns = "id, kind, payload, state, worker, result, error, created_at, claimed_at, finished_at"

    // MARK: Conversations

    static func conversation(_ row: PostgresRow) throws -> Conversation {
        let (id, title, model, system, parameters, created, updated) = try row.decode((String, String, String, String?, String, Int64, Int64).self)
        return Conversation(id: id, title: title, model: model, systemPrompt: system, parameters: parameters,
                            createdAt: Date(unixMilliseconds: created), updatedAt: Date(unixMilliseconds: updated))
    }

    /// See `Store.createConversation`.
    public func createConversation(_ new: NewConversation) async throws(StoreError) -> Conversation {
        let new = try new.validated()
        let now = Date().roundedToMilliseconds
        let conversation = Conversation(id: UUID().uuidString.lowercased(), title: new.title, model: new.model,
                                        systemPrompt: new.systemPrompt, parameters: new.parameters, createdAt: now, updatedAt: now)
        _ = try await fetch("create a conversation", """
            INSERT INTO conversations (\(unescaped: Self.conversationColumns))
            VALUES (\(conversation.id), \(conversation.title), \(conversation.model), \(conversation.systemPrompt),
                    \(conversation.parameters), \(now.unixMilliseconds), \(now.unixMilliseconds))
            """) { _ in () }
        return conversation
    }

    /// See `Store.listConversations`.
    public func listConversations(limit: Int, offset: Int) async throws(StoreError) -> [Conversation] {
        try validatePage(limit: limit, offset: offset)
        return try await fetch("list conversations", """
            SELECT \(unescaped: Self.conversationColumns) FROM conversations
            ORDER BY updated_at DESC, id COLLATE "C" DESC LIMIT \(limit) OFFSET \(offset)
            """, Self.conversation)
    }

    /// See `Store.conversation`.
    public func conversation(id: String) async throws(StoreError) -> ConversationWithMessages {
        // One statement, so the conversation and its messages come from one snapshot.
        let rows = try await fetch("read a conversation", """
            SELECT c.id, c.title, c.model, c.system_prompt, c.parameters, c.created_at, c.updated_at,
                   m.id, m.role, m.content, m.generation, m.created_at
            FROM conversations c LEFT JOIN messages m ON m.conversation_id = c.id WHERE c.id = \(id) ORDER BY m.id
            """) { row -> (Conversation, Message?) in
            let (cid, title, model, system, parameters, created, updated, mid, role, content, generation, mcreated) = try row.decode(
                (String, String, String, String?, String, Int64, Int64, Int64?, String?, String?, String?, Int64?).self)
            let conversation = Conversation(id: cid, title: title, model: model, systemPrompt: system, parameters: parameters,
                                            createdAt: Date(unixMilliseconds: created), updatedAt: Date(unixMilliseconds: updated))
            guard let mid, let role, let content, let mcreated else { return (conversation, nil) }
            return (conversation, Message(id: mid, conversationID: cid, role: MessageRole(rawValue: role) ?? .user, content: content,
                                          generation: generation, createdAt: Date(unixMilliseconds: mcreated)))
        }
        guard let first = rows.first else { throw .notFound(what: "conversation", identifier: id) }
        return ConversationWithMessages(conversation: first.0, messages: rows.compactMap(\.1))
    }

    /// See `Store.appendMessage`.
    public func appendMessage(to conversationID: String, _ message: NewMessage) async throws(StoreError) -> Message {
        let message = try message.validated()
        let now = Date().roundedToMilliseconds
        // One statement: the message is inserted only if the conversation exists, and the two
        // changes commit together. GREATEST keeps updated_at from going back when clocks disagree.
        let id = try await fetchOne("append a message", """
            WITH touched AS (
                UPDATE conversations SET updated_at = GREATEST(updated_at, \(now.unixMilliseconds)) WHERE id = \(conversationID) RETURNING id)
            INSERT INTO messages (conversation_id, role, content, generation, created_at)
            SELECT id, \(message.role.rawValue), \(message.content), \(message.generation), \(now.unixMilliseconds) FROM touched
            RETURNING id
            """) { try $0.decode(Int64.self) }
        guard let id else { throw .notFound(what: "conversation", identifier: conversationID) }
        return Message(id: id, conversationID: conversationID, role: message.role, content: message.content,
                       generation: message.generation, createdAt: now)
    }

    /// See `Store.deleteConversation`.
    public func deleteConversation(id: String) async throws(StoreError) {
        let deleted = try await fetch("delete a conversation", "DELETE FROM conversations WHERE id = \(id) RETURNING id") { _ in true }
        guard deleted.count == 1 else { throw .notFound(what: "conversation", identifier: id) }
    }

    // MARK: Jobs

    static func job(_ row: PostgresRow) throws -> Job {
        let (id, kind, payload, state, worker, result, error, created, claimed, finished) = try row.decode(
            (Int64, String, String, String, String?, String?, String?, Int64, Int64?, Int64?).self)
        return Job(id: id, kind: kind, payload: payload, state: JobState(rawValue: state) ?? .failed, worker: worker, result: result,
                   error: error, createdAt: Date(unixMilliseconds: created), claimedAt: claimed.map(Date.init(unixMilliseconds:)),
                   finishedAt: finished.map(Date.init(unixMilliseconds:)))
    }

    /// See `Store.enqueueJob`.
    public func enqueueJob(kind: String, payload: String) async throws(StoreError) -> Job {
        try validateJob(kind: kind, payload: payload)
        let job = try await fetchOne("enqueue a job", """
            INSERT INTO jobs (kind, payload, state, created_at) VALUES (\(kind), \(payload), 'queued', \(Date().unixMilliseconds))
            RETURNING \(unescaped: Self.jobColumns)
            """, Self.job)
        guard let job else { throw .backend(operation: "enqueue a job", reason: "INSERT returned no row") }
        return job
    }

    /// See `Store.claimJob`.
    public func claimJob(worker: String, kind: String?) async throws(StoreError) -> Job? {
        try await fetchOne("claim a job", """
            UPDATE jobs SET state = 'running', worker = \(worker), claimed_at = \(Date().unixMilliseconds)
            WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND (\(kind)::text IS NULL OR kind = \(kind))
                        ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING \(unescaped: Self.jobColumns)
            """, Self.job)
    }

    /// See `Store.completeJob`.
    public func completeJob(id: Int64, outcome: JobOutcome) async throws(StoreError) -> Job {
        let (state, result, error) = outcome.columns
        let finished = try await fetchOne("complete a job", """
            UPDATE jobs SET state = \(state.rawValue), result = \(result), error = \(error), finished_at = \(Date().unixMilliseconds)
            WHERE id = \(id) AND state = 'running' RETURNING \(unescaped: Self.jobColumns)
            """, Self.job)
        if let finished { return finished }
        let existing = try await fetchOne("read a job", "SELECT \(unescaped: Self.jobColumns) FROM jobs WHERE id = \(id)", Self.job)
        if let existing { throw .jobNotRunning(id: id, state: existing.state.rawValue) }
        throw .notFound(what: "job", identifier: String(id))
    }

    /// See `Store.job`.
    public func job(id: Int64) async throws(StoreError) -> Job {
        let job = try await fetchOne("read a job", "SELECT \(unescaped: Self.jobColumns) FROM jobs WHERE id = \(id)", Self.job)
        guard let job else { throw .notFound(what: "job", identifier: String(id)) }
        return job
    }
}
