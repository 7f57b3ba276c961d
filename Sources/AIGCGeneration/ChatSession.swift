// ChatSession: a multi-turn conversation rendered with the model's own chat template. History that no
// longer fits the context is dropped oldest-first (the system prompt stays) and the caller is told;
// the KV cache of the previous turn is reused for the part of the prompt that did not change.
import AIGCTokenizers
import Foundation

public final class ChatSession: @unchecked Sendable {
    public let loaded: LoadedModel
    public let template: ChatTemplate
    /// The system prompt (kept when history is trimmed).
    public var system: String?
    /// User and assistant turns, oldest first.
    public private(set) var messages: [ChatMessage] = []
    let cache: PromptCache
    let generator: TextGenerator

    /// ChatML, the usual fallback (as llama.cpp's) for models that ship no template.
    public static let chatML = """
        {% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}\
        {% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}
        """

    public init(_ loaded: LoadedModel, system: String? = nil) throws {
        self.loaded = loaded
        self.system = system
        template = try ChatTemplate(loaded.chatTemplate ?? ChatSession.chatML)
        cache = PromptCache(model: loaded.model)
        generator = TextGenerator(loaded)
    }

    /// Forgets the conversation (the system prompt stays).
    public func reset() {
        messages = []
        cache.reset()
    }

    /// Replaces the conversation (e.g. a loaded transcript).
    public func restore(system: String?, messages: [ChatMessage]) {
        self.system = system
        self.messages = messages
    }

    /// What happened to the history to make the prompt fit.
    public struct Trimmed: Sendable, Equatable {
        public let droppedMessages: Int
    }

    /// Renders `messages` (with the system prompt) into prompt tokens.
    public func promptTokens(for messages: [ChatMessage], addGenerationPrompt: Bool = true) throws -> [Int] {
        let all = (system.map { [ChatMessage(role: "system", content: $0)] } ?? []) + messages
        let tokenizer = loaded.tokenizer
        let bos = tokenizer.bos.map { tokenizer.vocabulary.tokens[$0] }
        let eos = tokenizer.eos.map { tokenizer.vocabulary.tokens[$0] }
        let text = try template.render(messages: all, addGenerationPrompt: addGenerationPrompt, bosToken: bos, eosToken: eos)
        // A template that writes the BOS text itself must not get a second BOS from the tokenizer.
        let writesBOS = bos.map { !$0.isEmpty && text.hasPrefix($0) } ?? false
        return tokenizer.encode(text, addSpecial: !writesBOS, parseSpecial: true)
    }

    /// The history with as many of the oldest turns dropped as needed for the prompt plus `reserve`
    /// new tokens to fit the context; throws when even the newest message alone does not fit.
    func fitting(_ history: [ChatMessage], reserve: Int) throws -> (tokens: [Int], kept: [ChatMessage], trimmed: Trimmed?) {
        let context = loaded.model.contextLength
        var kept = history
        var dropped = 0
        while true {
            let tokens = try promptTokens(for: kept)
            if tokens.count + min(reserve, context / 4) < context || kept.count <= 1 {
                if tokens.count >= context { throw GenerationError.promptTooLong(tokens: tokens.count, context: context) }
                return (tokens, kept, dropped > 0 ? Trimmed(droppedMessages: dropped) : nil)
            }
            // Drop the oldest turn; an assistant reply goes with the user message before it.
            let n = kept.count >= 2 && kept[0].role == "user" && kept[1].role == "assistant" ? 2 : 1
            kept.removeFirst(n)
            dropped += n
        }
    }

    /// Sends a user message and streams the reply. `onTrim` is told when old turns were dropped.
    @discardableResult
    public func send(_ text: String, request base: GenerationRequest = GenerationRequest(prompt: ""),
                     onTrim: (Trimmed) -> Void = { _ in }, onText: (String) -> Bool = { _ in true }) throws -> GenerationResult {
        let (tokens, kept, trimmed) = try fitting(messages + [ChatMessage(role: "user", content: text)], reserve: base.maxTokens ?? 256)
        if let trimmed { onTrim(trimmed) }
        var request = base
        request.promptTokens = tokens
        let result = try generator.generate(request, cache: cache, onText: onText)
        messages = kept + [ChatMessage(role: "assistant", content: result.text)]
        return result
    }

    /// The conversation as JSON (`{"system": ..., "messages": [...]}`).
    public func transcript() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(Transcript(system: system, messages: messages))
    }

    /// Restores a conversation saved with `transcript()`.
    public func load(transcript data: Data) throws {
        let t = try JSONDecoder().decode(Transcript.self, from: data)
        restore(system: t.system, messages: t.messages)
    }

    struct Transcript: Codable {
        let system: String?
        let messages: [ChatMessage]
    }
}
