// ServedModels: the models a server answers for, each with its batching engine and chat template.
import AIGCGeneration
import AIGCTokenizers
import Foundation

public final class ServedModel: Sendable {
    public let name: String
    public let loaded: LoadedModel
    public let engine: BatchEngine
    public let template: ChatTemplate
    public let created: Int

    public init(name: String, loaded: LoadedModel, configuration: BatchEngine.Configuration) throws {
        self.name = name
        self.loaded = loaded
        engine = BatchEngine(loaded, configuration: configuration)
        template = try ChatTemplate(loaded.chatTemplate ?? ChatSession.chatML)
        created = Int(Date().timeIntervalSince1970)
    }

    /// Renders chat messages with the model's template into prompt tokens.
    public func promptTokens(for messages: [ChatMessage]) throws -> [Int] {
        let tokenizer = loaded.tokenizer
        let bos = tokenizer.bos.map { tokenizer.vocabulary.tokens[$0] }
        let eos = tokenizer.eos.map { tokenizer.vocabulary.tokens[$0] }
        let text: String
        do {
            text = try template.render(messages: messages, addGenerationPrompt: true, bosToken: bos, eosToken: eos)
        } catch let error as ChatTemplateError {
            // raise_exception in a template is the model refusing the conversation's shape.
            throw APIError.invalidRequest("The model's chat template rejected the messages: \(error)", param: "messages")
        }
        let writesBOS = bos.map { !$0.isEmpty && text.hasPrefix($0) } ?? false
        return tokenizer.encode(text, addSpecial: !writesBOS, parseSpecial: true)
    }
}

public final class ServedModels: Sendable {
    public let models: [ServedModel]

    public init(_ models: [ServedModel]) { self.models = models }

    public var names: [String] { models.map(\.name) }

    /// The model called `name` (also a catalog alias of it), or a 404 APIError.
    public func resolve(_ name: String) throws -> ServedModel {
        if let m = models.first(where: { $0.name == name }) { return m }
        if let canonical = ModelCatalog.entry(named: name)?.name, let m = models.first(where: { $0.name == canonical }) { return m }
        throw APIError.modelNotFound(name, available: names)
    }

    public func shutdown() async {
        for m in models { await m.engine.shutdown() }
    }
}
