// PromptCache: a KV cache together with the tokens whose keys and values it holds, so a follow-up
// prompt that starts the same way (the next turn of a chat) only evaluates what is new.
import AIGCLayers
import AIGCModels

public final class PromptCache: @unchecked Sendable {
    public let cache: KVCache
    /// Tokens whose keys and values sequence slot 0 of `cache` holds, in order.
    public internal(set) var tokens: [Int] = []

    public init(model: any TextModel) {
        cache = model.makeCache(sequences: 1, contextLength: nil)
    }

    /// Length of the shared prefix of `tokens` and `prompt`.
    public func commonPrefix(with prompt: [Int]) -> Int {
        var n = 0
        while n < tokens.count && n < prompt.count && tokens[n] == prompt[n] { n += 1 }
        return n
    }

    public func reset() {
        tokens = []
        cache.truncate(sequence: 0, to: 0)
    }
}
