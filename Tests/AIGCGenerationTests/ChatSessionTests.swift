// Chat sessions: the model's template, history trimmed oldest-first with the system prompt kept, the
// previous turn's cache reused, transcripts saved and loaded.
@testable import AIGCGeneration
import AIGCSampling
import AIGCTestSupport
import AIGCTokenizers
import Foundation
import Testing

@Suite(.serialized) struct ChatSessionTests {
    static func defaultModel() throws -> LoadedModel {
        try ModelLoader.load(path: ModelStore().resolve(ModelCatalog.defaultModel).path)
    }

    @Test func rendersTheModelsTemplateAndRemembersTurns() throws {
        let session = try ChatSession(try Self.defaultModel(), system: "You are terse.")
        let tokens = try session.promptTokens(for: [ChatMessage(role: "user", content: "Hi")])
        let text = session.loaded.tokenizer.decode(tokens, special: true)
        #expect(text == "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        // A 135M model answers best with the system prompt its template supplies by default.
        session.system = nil
        var r = GenerationRequest(prompt: "")
        r.sampling = .greedy
        r.maxTokens = 24
        let first = try session.send("Name the capital of France.", request: r)
        #expect(first.text.contains("Paris"))
        let second = try session.send("And of Italy?", request: r)
        #expect(second.text.contains("Rome"), "the second turn sees the first: \(second.text)")
        #expect(second.cachedPromptTokens > first.promptTokens.count, "the first turn's cache is reused")
        #expect(session.messages.map(\.role) == ["user", "assistant", "user", "assistant"])
    }

    @Test func historyIsTrimmedOldestFirstKeepingTheSystemPrompt() throws {
        // The tiny model has a 128-token context and no template: ChatML, one token per character.
        let session = try ChatSession(try ModelLoader.load(path: TinyModels.gguf("llama")), system: "S")
        var r = GenerationRequest(prompt: "")
        r.sampling = .greedy
        r.maxTokens = 4
        var trims: [ChatSession.Trimmed] = []
        for i in 0..<6 { try session.send("message number \(i) is here", request: r, onTrim: { trims.append($0) }) }
        #expect(!trims.isEmpty, "a 128-token context cannot hold six turns")
        #expect(session.system == "S")
        #expect(session.messages.last?.role == "assistant")
        #expect(session.messages.contains { $0.content == "message number 5 is here" })
        #expect(!session.messages.contains { $0.content == "message number 0 is here" }, "the oldest turn went first")
        let prompt = try session.promptTokens(for: session.messages)
        #expect(session.loaded.tokenizer.decode(prompt, special: true).hasPrefix("<|im_start|>system\nS<|im_end|>"))
    }

    @Test func aMessageLongerThanTheContextIsAnError() throws {
        let session = try ChatSession(try ModelLoader.load(path: TinyModels.gguf("llama")))
        #expect(throws: GenerationError.self) { try session.send(String(repeating: "x", count: 300)) }
    }

    @Test func transcriptsRoundTrip() throws {
        let session = try ChatSession(try ModelLoader.load(path: TinyModels.gguf("llama")), system: "sys")
        session.restore(system: "sys", messages: [ChatMessage(role: "user", content: "a"), ChatMessage(role: "assistant", content: "b")])
        let data = try session.transcript()
        let other = try ChatSession(try ModelLoader.load(path: TinyModels.gguf("llama")))
        try other.load(transcript: data)
        #expect(other.system == "sys" && other.messages == session.messages)
        #expect(throws: (any Error).self) { try other.load(transcript: Data("{".utf8)) }
    }
}
