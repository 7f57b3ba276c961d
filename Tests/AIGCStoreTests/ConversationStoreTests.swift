// The shared store suite, conversations: create, append, get, list newest first with paging,
// delete with its messages, and the JSON columns.
import AIGCStore
import Foundation
import Testing

@Suite struct ConversationStoreTests {
    /// A generation record as the chat server will store it: model, digest, seed, sampler, AIGC label.
    static let generation = """
        {"model":"smollm2-135m-instruct","digest":"sha256:abc","seed":7,"sampler":{"temperature":0.7,"top_p":0.9},\
        "AIGC":{"Label":"1","ContentProducer":"aigc","ProduceID":"p-1","ReservedCode1":"","ContentPropagator":"","PropagateID":"","ReservedCode2":""}}
        """

    @Test(arguments: Backend.underTest)
    func createAppendAndGet(backend: Backend) async throws {
        try await withStore(backend) { store in
            let made = try await store.createConversation(NewConversation(title: "Paris", model: "tiny", systemPrompt: "Be brief.",
                                                                          parameters: #"{"temperature":0.7}"#))
            #expect(made.createdAt == made.updatedAt && made.id.count == 36)
            try await Task.sleep(for: .milliseconds(5))
            let question = try await store.appendMessage(to: made.id, NewMessage(role: .user, content: "Capital of France?"))
            let answer = try await store.appendMessage(to: made.id, NewMessage(role: .assistant, content: "Paris. 人工智能生成",
                                                                                generation: Self.generation))
            #expect(answer.id > question.id)

            let read = try await store.conversation(id: made.id)
            #expect(read.conversation.title == "Paris" && read.conversation.systemPrompt == "Be brief.")
            #expect(read.conversation.parameters == #"{"temperature":0.7}"#)
            #expect(read.conversation.updatedAt > made.updatedAt, "appending moves updatedAt")
            #expect(read.messages == [question, answer])
            #expect(read.messages[1].generation == Self.generation && read.messages[0].generation == nil)

            let empty = try await store.createConversation(NewConversation(title: "", model: "tiny"))
            #expect(try await store.conversation(id: empty.id).messages.isEmpty)
            #expect(try await store.conversation(id: empty.id).conversation == empty)
        }
    }

    @Test(arguments: Backend.underTest)
    func listIsNewestFirstAndPaged(backend: Backend) async throws {
        try await withStore(backend) { store in
            var made: [Conversation] = []
            for i in 0..<5 {
                made.append(try await store.createConversation(NewConversation(title: "c\(i)", model: "tiny")))
                try await Task.sleep(for: .milliseconds(3))
            }
            _ = try await store.appendMessage(to: made[1].id, NewMessage(role: .user, content: "bump"))
            let expected = ["c1", "c4", "c3", "c2", "c0"]
            #expect(try await store.listConversations(limit: 100, offset: 0).map(\.title) == expected)
            var paged: [String] = []
            for offset in stride(from: 0, to: 6, by: 2) {
                paged += try await store.listConversations(limit: 2, offset: offset).map(\.title)
            }
            #expect(paged == expected, "pages of 2 cover every conversation once")
            #expect(try await store.listConversations(limit: 2, offset: 10).isEmpty)
            await #expect(throws: StoreError.self) { _ = try await store.listConversations(limit: 0, offset: 0) }
            await #expect(throws: StoreError.self) { _ = try await store.listConversations(limit: 10, offset: -1) }
        }
    }

    @Test(arguments: Backend.underTest)
    func deleteRemovesMessagesToo(backend: Backend) async throws {
        try await withStore(backend) { store in
            let doomed = try await store.createConversation(NewConversation(title: "doomed", model: "tiny"))
            let kept = try await store.createConversation(NewConversation(title: "kept", model: "tiny"))
            for text in ["one", "two", "three"] { _ = try await store.appendMessage(to: doomed.id, NewMessage(role: .user, content: text)) }
            _ = try await store.appendMessage(to: kept.id, NewMessage(role: .user, content: "stays"))

            try await store.deleteConversation(id: doomed.id)
            let missing = StoreError.notFound(what: "conversation", identifier: doomed.id)
            await #expect(throws: missing) { _ = try await store.conversation(id: doomed.id) }
            await #expect(throws: missing) { try await store.deleteConversation(id: doomed.id) }
            await #expect(throws: missing) { _ = try await store.appendMessage(to: doomed.id, NewMessage(role: .user, content: "late")) }
            let messages = try await rawRows(store, table: "messages")
            #expect(messages.count == 1 && messages[0].contains("stays"), "the cascade removed the three messages, nothing else")
            #expect(try await store.listConversations(limit: 10, offset: 0).map(\.title) == ["kept"])
        }
    }

    @Test(arguments: Backend.underTest)
    func jsonColumnsMustHoldObjects(backend: Backend) async throws {
        try await withStore(backend) { store in
            await #expect(throws: StoreError.self) {
                _ = try await store.createConversation(NewConversation(title: "t", model: "tiny", parameters: "temperature=0.7"))
            }
            await #expect(throws: StoreError.self) { _ = try await store.createConversation(NewConversation(title: "t", model: "")) }
            let conversation = try await store.createConversation(NewConversation(title: "t", model: "tiny"))
            await #expect(throws: StoreError.self) {
                _ = try await store.appendMessage(to: conversation.id, NewMessage(role: .assistant, content: "x", generation: "[1, 2]"))
            }
            #expect(try await store.conversation(id: conversation.id).messages.isEmpty)
        }
    }
}
