// SQLiteStore: conversations with their messages, and the job queue. SQLite runs one write
// transaction at a time, so claiming a job needs no row locks: the UPDATE picks and marks the
// oldest queued job in one statement.
import Foundation
import GRDB

extension SQLiteStore {
    static let conversationColumns = "id, title, model, system_prompt, parameters, created_at, updated_at"
    static let messageColumns = "id, conversation_id, role, content, generation, created_at"
    static let jobColumns = "id, kind, payload, state, worker, result, error, created_at, claimed_at, finished_at"

    // MARK: Conversations

    /// See `Store.createConversation`.
    public func createConversation(_ new: NewConversation) async throws(StoreError) -> Conversation {
        let new = try new.validated()
        let now = Date().roundedToMilliseconds
        let conversation = Conversation(id: UUID().uuidString.lowercased(), title: new.title, model: new.model,
                                        systemPrompt: new.systemPrompt, parameters: new.parameters, createdAt: now, updatedAt: now)
        try await write("create a conversation") { db in
            try db.execute(sql: "INSERT INTO conversations (\(Self.conversationColumns)) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           arguments: [conversation.id, conversation.title, conversation.model, conversation.systemPrompt,
                                       conversation.parameters, now.unixMilliseconds, now.unixMilliseconds])
        }
        return conversation
    }

    /// See `Store.listConversations`.
    public func listConversations(limit: Int, offset: Int) async throws(StoreError) -> [Conversation] {
        try validatePage(limit: limit, offset: offset)
        return try await read("list conversations") { db in
            try Row.fetchAll(db, sql: """
                SELECT \(Self.conversationColumns) FROM conversations ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?
                """, arguments: [limit, offset]).map(Self.conversation)
        }
    }

    /// See `Store.conversation`.
    public func conversation(id: String) async throws(StoreError) -> ConversationWithMessages {
        let found = try await read("read a conversation") { db -> ConversationWithMessages? in
            guard let row = try Row.fetchOne(db, sql: "SELECT \(Self.conversationColumns) FROM conversations WHERE id = ?", arguments: [id]) else {
                return nil
            }
            let messages = try Row.fetchAll(db, sql: "SELECT \(Self.messageColumns) FROM messages WHERE conversation_id = ? ORDER BY id",
                                            arguments: [id]).map(Self.message)
            return ConversationWithMessages(conversation: Self.conversation(row), messages: messages)
        }
        guard let found else { throw .notFound(what: "conversation", identifier: id) }
        return found
    }

    /// See `Store.appendMessage`.
    public func appendMessage(to conversationID: String, _ message: NewMessage) async throws(StoreError) -> Message {
        let message = try message.validated()
        let now = Date().roundedToMilliseconds
        let id = try await write("append a message") { db -> Int64? in
            // MAX keeps updated_at from going back when clocks disagree.
            try db.execute(sql: "UPDATE conversations SET updated_at = MAX(updated_at, ?) WHERE id = ?",
                           arguments: [now.unixMilliseconds, conversationID])
            guard db.changesCount == 1 else { return nil }
            return try Int64.fetchOne(db, sql: """
                INSERT INTO messages (conversation_id, role, content, generation, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id
                """, arguments: [conversationID, message.role.rawValue, message.content, message.generation, now.unixMilliseconds])
        }
        guard let id else { throw .notFound(what: "conversation", identifier: conversationID) }
        return Message(id: id, conversationID: conversationID, role: message.role, content: message.content,
                       generation: message.generation, createdAt: now)
    }

    /// See `Store.deleteConversation`.
    public func deleteConversation(id: String) async throws(StoreError) {
        let deleted = try await write("delete a conversation") { db in
            try db.execute(sql: "DELETE FROM conversations WHERE id = ?", arguments: [id])
            return db.changesCount
        }
        guard deleted == 1 else { throw .notFound(what: "conversation", identifier: id) }
    }

    static func conversation(_ row: Row) -> Conversation {
        Conversation(id: row["id"], title: row["title"], model: row["model"], systemPrompt: row["system_prompt"],
                     parameters: row["parameters"], createdAt: Date(unixMilliseconds: row["created_at"]),
                     updatedAt: Date(unixMilliseconds: row["updated_at"]))
    }

    static func message(_ row: Row) -> Message {
        Message(id: row["id"], conversationID: row["conversation_id"], role: MessageRole(rawValue: row["role"]) ?? .user,
                content: row["content"], generation: row["generation"], createdAt: Date(unixMilliseconds: row["created_at"]))
    }

    // MARK: Jobs

    /// See `Store.enqueueJob`.
    public func enqueueJob(kind: String, payload: String) async throws(StoreError) -> Job {
        try validateJob(kind: kind, payload: payload)
        let now = Date().unixMilliseconds
        return try await write("enqueue a job") { db in
            Self.job(try Row.fetchOne(db, sql: """
                INSERT INTO jobs (kind, payload, state, created_at) VALUES (?, ?, 'queued', ?) RETURNING \(Self.jobColumns)
                """, arguments: [kind, payload, now])!)
        }
    }

    /// See `Store.claimJob`.
    public func claimJob(worker: String, kind: String?) async throws(StoreError) -> Job? {
        let now = Date().unixMilliseconds
        return try await write("claim a job") { db in
            try Row.fetchOne(db, sql: """
                UPDATE jobs SET state = 'running', worker = ?, claimed_at = ?
                WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND (? IS NULL OR kind = ?) ORDER BY id LIMIT 1)
                RETURNING \(Self.jobColumns)
                """, arguments: [worker, now, kind, kind]).map(Self.job)
        }
    }

    /// See `Store.completeJob`.
    public func completeJob(id: Int64, outcome: JobOutcome) async throws(StoreError) -> Job {
        let (state, result, error) = outcome.columns
        let now = Date().unixMilliseconds
        let (finished, existing) = try await write("complete a job") { db -> (Job?, Job?) in
            let finished = try Row.fetchOne(db, sql: """
                UPDATE jobs SET state = ?, result = ?, error = ?, finished_at = ? WHERE id = ? AND state = 'running'
                RETURNING \(Self.jobColumns)
                """, arguments: [state.rawValue, result, error, now, id]).map(Self.job)
            if finished != nil { return (finished, nil) }
            return (nil, try Row.fetchOne(db, sql: "SELECT \(Self.jobColumns) FROM jobs WHERE id = ?", arguments: [id]).map(Self.job))
        }
        if let finished { return finished }
        if let existing { throw .jobNotRunning(id: id, state: existing.state.rawValue) }
        throw .notFound(what: "job", identifier: String(id))
    }

    /// See `Store.job`.
    public func job(id: Int64) async throws(StoreError) -> Job {
        let job = try await read("read a job") { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.jobColumns) FROM jobs WHERE id = ?", arguments: [id]).map(Self.job)
        }
        guard let job else { throw .notFound(what: "job", identifier: String(id)) }
        return job
    }

    static func job(_ row: Row) -> Job {
        Job(id: row["id"], kind: row["kind"], payload: row["payload"], state: JobState(rawValue: row["state"]) ?? .failed,
            worker: row["worker"], result: row["result"], error: row["error"],
            createdAt: Date(unixMilliseconds: row["created_at"]),
            claimedAt: (row["claimed_at"] as Int64?).map(Date.init(unixMilliseconds:)),
            finishedAt: (row["finished_at"] as Int64?).map(Date.init(unixMilliseconds:)))
    }
}

extension JobOutcome {
    /// The state, result and error columns this outcome writes.
    var columns: (state: JobState, result: String?, error: String?) {
        switch self {
        case let .succeeded(result): return (.succeeded, result, nil)
        case let .failed(error): return (.failed, nil, error)
        }
    }
}
