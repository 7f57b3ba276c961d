// Builds tokenizers from what model files carry: GGUF metadata, Hugging Face tokenizer.json,
// vocab.json + merges.txt, or a llama2.c tokenizer.bin. The tokenizer layer only sees plain arrays.
import AIGCFormats
import AIGCTokenizers
import Foundation

public enum TokenizerLoader {
    /// End-of-turn markers that stop generation when the vocabulary has them as control tokens
    /// (llama.cpp treats the same strings as end-of-generation).
    static let endOfTurnTexts = ["<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                                 "<|end_of_text|>", "</s>", "<|return|>", "<|call|>"]

    public static func vocabulary(fromGGUF gguf: GGUFFile) throws -> Vocabulary {
        guard let modelName = gguf.string("tokenizer.ggml.model") else {
            throw FormatError.missingKey(file: gguf.path, key: "tokenizer.ggml.model")
        }
        guard let tokens = try gguf.stringArray("tokenizer.ggml.tokens") else {
            throw FormatError.missingKey(file: gguf.path, key: "tokenizer.ggml.tokens")
        }
        let model: TokenizerModel
        switch modelName {
        case "gpt2":
            let pre = gguf.string("tokenizer.ggml.pre") ?? "default"
            guard let kind = PreTokenizerKind(ggufName: pre) else {
                throw FormatError.invalidValue(file: gguf.path, field: "tokenizer.ggml.pre", offset: 0, value: pre,
                                               reason: "unknown pre-tokenizer (known: gpt-2, llama-bpe, qwen2, smollm and their aliases)")
            }
            model = .byteLevelBPE(kind)
        case "llama":
            model = .sentencePiece
        default:
            throw FormatError.invalidValue(file: gguf.path, field: "tokenizer.ggml.model", offset: 0, value: modelName,
                                           reason: "unsupported tokenizer model (supported: gpt2 byte-level BPE, llama SentencePiece)")
        }
        let types = try gguf.intArray("tokenizer.ggml.token_type")?.map { TokenType(rawValue: $0) ?? .normal }
        if let types, types.count != tokens.count {
            throw FormatError.invalidValue(file: gguf.path, field: "tokenizer.ggml.token_type", offset: 0, value: "\(types.count) entries",
                                           reason: "expected one per token (\(tokens.count))")
        }
        let scores = try gguf.floatArray("tokenizer.ggml.scores") ?? []
        // A byte-level vocabulary without merges is character-level BPE (gguf-py omits an empty list).
        let merges = try gguf.stringArray("tokenizer.ggml.merges") ?? []
        func id(_ key: String) throws -> Int? {
            guard let v = gguf.int(key) else { return nil }
            guard v >= 0 && v < tokens.count else {
                throw FormatError.invalidValue(file: gguf.path, field: key, offset: 0, value: String(v), reason: "not a token id (0..<\(tokens.count))")
            }
            return v
        }
        var vocabulary = Vocabulary(
            model: model, tokens: tokens, types: types, scores: scores, merges: merges,
            bos: try id("tokenizer.ggml.bos_token_id"), eos: try id("tokenizer.ggml.eos_token_id"),
            unknown: try id("tokenizer.ggml.unknown_token_id"), padding: try id("tokenizer.ggml.padding_token_id"),
            addBOS: gguf.bool("tokenizer.ggml.add_bos_token"), addEOS: gguf.bool("tokenizer.ggml.add_eos_token") ?? false,
            addSpacePrefix: gguf.bool("tokenizer.ggml.add_space_prefix"))
        var extra = [try id("tokenizer.ggml.eot_token_id"), try id("tokenizer.ggml.eom_token_id")].compactMap { $0 }
        extra += endOfTurnTexts.compactMap { text in
            tokens.firstIndex(of: text).flatMap { vocabulary.types[$0] == .control || vocabulary.types[$0] == .userDefined ? $0 : nil }
        }
        vocabulary.extraEOS = Array(Set(extra)).sorted()
        return vocabulary
    }

    /// A llama2.c tokenizer.bin: SentencePiece pieces with spaces written as " " and bytes as "<0xXX>".
    public static func vocabulary(fromLlama2C file: Llama2CVocabulary) -> Vocabulary {
        var tokens: [String] = []
        var types: [TokenType] = []
        for (i, bytes) in file.pieces.enumerated() {
            let text = String(decoding: bytes, as: UTF8.self)
            tokens.append(String(String.UnicodeScalarView(text.unicodeScalars.map { $0 == " " ? "\u{2581}" : $0 })))
            if i == 0 { types.append(.unknown) } else if i == 1 || i == 2 { types.append(.control) } else if text.utf8.count == 6 && text.hasPrefix("<0x") && text.hasSuffix(">") {
                types.append(.byte)
            } else { types.append(.normal) }
        }
        // llama2.c models end a story with BOS (run.c stops there), so BOS also ends generation.
        return Vocabulary(model: .sentencePiece, tokens: tokens, types: types, scores: file.scores, bos: 1, eos: 2, extraEOS: [1],
                          unknown: 0, addBOS: true, addSpacePrefix: true)
    }
}
