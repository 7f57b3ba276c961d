// Conversations and their messages, as the chat UI and the API store them. Generation parameters and
// a message's generation record (model id and digest, seed, sampler, the AIGC label) are JSON text
// that the store checks for well-formedness but does not interpret.
import Foundation

/// Who wrote a message.
public enum MessageRole: String, Codable, Sendable, CaseIterable {
    case system, user, assistant, tool
}

/// A conversation without its messages (what lists show).
public struct Conversation: Codable, Sendable, Equatable, Identifiable {
    /// A UUID in lower case, made by the store.
    public var id: String
    /// Shown in lists; may be empty.
    public var title: String
    /// The model the conversation talks to.
    public var model: String
    /// The system message, if any, kept apart from the messages.
    public var systemPrompt: String?
    /// Generation parameters as a JSON object, e.g. `{"temperature":0.7,"max_tokens":256}`.
    public var parameters: String
    /// When the conversation was created.
    public var createdAt: Date
    /// Changes whenever a message is appended; lists are ordered by it, newest first.
    public var updatedAt: Date

    /// Creates a conversation value (backends build these from rows).
    public init(id: String, title: String, model: String, systemPrompt: String?, parameters: String,
                createdAt: Date, updatedAt: Date) {
        self.id = id
        self.title = title
        self.model = model
        self.systemPrompt = systemPrompt
        self.parameters = parameters
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, title, model, parameters
        case systemPrompt = "system_prompt", createdAt = "created_at", updatedAt = "updated_at"
    }
}

/// What `createConversation` needs; the store adds the id and the times.
public struct NewConversation: Sendable, Equatable {
    /// Shown in lists; may be empty.
    public var title: String
    /// The model the conversation talks to; not empty.
    public var model: String
    /// The system message, if any.
    public var systemPrompt: String?
    /// A JSON object; "{}" when there are no parameters.
    public var parameters: String

    /// Creates the input of `createConversation`.
    public init(title: String, model: String, systemPrompt: String? = nil, parameters: String = "{}") {
        self.title = title
        self.model = model
        self.systemPrompt = systemPrompt
        self.parameters = parameters
    }

    func validated() throws(StoreError) -> NewConversation {
        guard !model.isEmpty else { throw .invalidInput(field: "model", reason: "empty") }
        try requireJSONObject(parameters, field: "parameters")
        return self
    }
}

/// One stored message.
public struct Message: Codable, Sendable, Equatable, Identifiable {
    /// Increases with every message in the database, so it orders messages within a conversation.
    public var id: Int64
    /// The conversation it belongs to.
    public var conversationID: String
    /// Who wrote it.
    public var role: MessageRole
    /// The text.
    public var content: String
    /// The generation record as a JSON object for generated messages (provenance), else nil.
    public var generation: String?
    /// When it was appended.
    public var createdAt: Date

    /// Creates a message value (backends build these from rows).
    public init(id: Int64, conversationID: String, role: MessageRole, content: String, generation: String?, createdAt: Date) {
        self.id = id
        self.conversationID = conversationID
        self.role = role
        self.content = content
        self.generation = generation
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, role, content, generation
        case conversationID = "conversation_id", createdAt = "created_at"
    }
}

/// What `appendMessage` needs.
public struct NewMessage: Sendable, Equatable {
    /// Who wrote it.
    public var role: MessageRole
    /// The text.
    public var content: String
    /// JSON object recording how the message was generated: `model`, `digest`, `seed`, `sampler`
    /// and the GB 45438-2025 `AIGC` label object (see shared/PROVENANCE.md). nil for typed messages.
    public var generation: String?

    /// Creates the input of `appendMessage`.
    public init(role: MessageRole, content: String, generation: String? = nil) {
        self.role = role
        self.content = content
        self.generation = generation
    }

    func validated() throws(StoreError) -> NewMessage {
        if let generation { try requireJSONObject(generation, field: "generation record") }
        return self
    }
}

/// A conversation with all of its messages, oldest first.
public struct ConversationWithMessages: Codable, Sendable, Equatable {
    /// The conversation itself.
    public var conversation: Conversation
    /// Its messages, oldest first.
    public var messages: [Message]

    /// Pairs a conversation with its messages.
    public init(conversation: Conversation, messages: [Message]) {
        self.conversation = conversation
        self.messages = messages
    }
}

/// Throws unless `text` is a JSON object: the columns holding JSON must stay readable by every client.
func requireJSONObject(_ text: String, field: String) throws(StoreError) {
    let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8))
    guard parsed is [String: Any] else {
        throw .invalidInput(field: field, reason: "must be a JSON object, got \(text.prefix(40).debugDescription)")
    }
}

/// Checks the paging arguments of `listConversations`.
func validatePage(limit: Int, offset: Int) throws(StoreError) {
    guard (1...1000).contains(limit) else { throw .invalidInput(field: "limit", reason: "\(limit) is outside 1...1000") }
    guard offset >= 0 else { throw .invalidInput(field: "offset", reason: "\(offset) is negative") }
}
