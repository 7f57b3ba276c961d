// PromptEnhancer: the step DALL-E 3 and Sora take before drawing — a text model rewrites a short image
// idea into a detailed prompt (subject, setting, style, light, composition). The rewrite is greedy by
// default so the same idea gives the same prompt; callers record both texts.
import Foundation

public struct PromptEnhancer: Sendable {
    /// The system prompt that asks for the rewrite.
    public static let instruction = """
        You write prompts for an image generator. Rewrite the user's short idea as one detailed prompt: \
        the subject, the setting, the style, the lighting and the composition, in under 60 words. \
        Reply with the prompt only, no preamble and no quotes.
        """

    public let loaded: LoadedModel
    public var request: GenerationRequest

    /// An enhancer on `loaded`, greedy, at most `maxTokens` tokens (CLIP reads 77 at most).
    public init(_ loaded: LoadedModel, maxTokens: Int = 96, temperature: Float = 0, seed: UInt64? = nil) {
        self.loaded = loaded
        var request = GenerationRequest(prompt: "")
        request.maxTokens = maxTokens
        request.sampling.temperature = temperature
        request.sampling.seed = seed
        self.request = request
    }

    /// The detailed prompt for `idea`; throws when the model answers with nothing usable.
    public func enhance(_ idea: String) throws -> String {
        let trimmedIdea = idea.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmedIdea.isEmpty else { throw GenerationError.invalidParameter("--enhance-prompt needs a prompt to rewrite") }
        let session = try ChatSession(loaded, system: Self.instruction)
        let reply = try session.send(trimmedIdea, request: request).text
        let cleaned = Self.clean(reply)
        guard !cleaned.isEmpty else {
            throw GenerationError.invalidParameter("the prompt enhancer (\(loaded.info.name)) answered with no text; leave --enhance-prompt out")
        }
        return cleaned
    }

    /// The reply as one line: labels like "Prompt:" and wrapping quotes removed, whitespace collapsed.
    public static func clean(_ reply: String) -> String {
        var text = reply.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for prefix in ["Prompt:", "prompt:", "Image prompt:", "Detailed prompt:"] where text.hasPrefix(prefix) {
            text = String(text.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
        }
        let quotes: [(Character, Character)] = [("\"", "\""), ("“", "”"), ("'", "'")]
        for (open, close) in quotes where text.count >= 2 && text.first == open && text.last == close {
            text = String(text.dropFirst().dropLast())
        }
        return text.trimmingCharacters(in: .whitespaces)
    }
}
