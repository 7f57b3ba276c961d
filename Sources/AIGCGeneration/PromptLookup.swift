// Prompt-lookup decoding (Saxena 2023, "prompt lookup decoding"; transformers' prompt_lookup_num_tokens):
// speculative decoding whose draft is copied from the context — when the latest n tokens occurred
// before, the tokens that followed them are proposed. Verification samples every drafted position in
// order and keeps the draft while the sample equals it, so the output is exactly what plain decoding
// gives for the same sampler and seed (a deterministic draft changes no draw).

public enum PromptLookup {
    /// Up to `count` tokens that followed the most recent earlier occurrence of the longest suffix of
    /// `history` (between `maxNgram` and 1 tokens long); empty when nothing matches.
    public static func draft(_ history: [Int], count: Int, maxNgram: Int = 3) -> [Int] {
        guard count > 0, history.count >= 2 else { return [] }
        for n in stride(from: min(maxNgram, history.count - 1), through: 1, by: -1) {
            let suffix = history[(history.count - n)...]
            // Search backwards for the most recent earlier match (not the suffix itself).
            var start = history.count - n - 1
            while start >= 0 {
                if history[start..<(start + n)].elementsEqual(suffix) {
                    let from = start + n
                    let to = min(history.count, from + count)
                    if from < to { return Array(history[from..<to]) }
                }
                start -= 1
            }
        }
        return []
    }
}
