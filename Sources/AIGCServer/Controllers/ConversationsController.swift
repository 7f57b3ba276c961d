// Stored conversations (the web UI's list; chat completions append to them): list, create, read, delete.
import AIGCStore
import Foundation
import Hummingbird

struct ConversationsController {
    let server: ServerContext

    struct CreateRequest: Codable, Sendable {
        var title: String?
        var model: String
        var systemPrompt: String?
        enum CodingKeys: String, CodingKey { case title, model, systemPrompt = "system_prompt" }
    }

    struct ConversationList: Codable, Sendable {
        var object = "list"
        let data: [Conversation]
    }

    func addRoutes(to router: Router<AIGCRequestContext>) {
        let store = server.accounts.store
        router.get("/v1/conversations") { request, _ in
            let limit = request.uri.queryParameters.get("limit", as: Int.self) ?? 50
            let offset = request.uri.queryParameters.get("offset", as: Int.self) ?? 0
            guard (1...500).contains(limit), offset >= 0 else { throw APIError.invalidRequest("limit must be 1...500 and offset >= 0.") }
            return try server.json(ConversationList(data: try await store.listConversations(limit: limit, offset: offset)))
        }
        router.post("/v1/conversations") { request, context in
            let body = try await request.decode(as: CreateRequest.self, context: context)
            let model = try server.models.resolve(body.model)
            let created = try await store.createConversation(NewConversation(title: body.title ?? "New conversation", model: model.name,
                                                                               systemPrompt: body.systemPrompt))
            return try server.json(created, status: .created)
        }
        router.get("/v1/conversations/:id") { _, context in
            try server.json(try await store.conversation(id: context.parameters.require("id")))
        }
        router.delete("/v1/conversations/:id") { _, context in
            let id = try context.parameters.require("id")
            try await store.deleteConversation(id: id)
            return try server.json(["id": id, "object": "conversation.deleted", "deleted": "true"])
        }
    }
}
