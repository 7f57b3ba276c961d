// Reads Hugging Face tokenizer files — tokenizer.json (+ tokenizer_config.json beside it), or GPT-2's
// vocab.json + merges.txt — into a Vocabulary.
import AIGCFormats
import AIGCTokenizers
import Foundation

public enum HuggingFaceTokenizer {
    public static func vocabulary(tokenizerJSON path: String) throws -> Vocabulary {
        let root = try jsonObject(path)
        guard let model = root["model"] as? [String: Any], let type = model["type"] as? String else {
            throw FormatError.invalidValue(file: path, field: "model", offset: 0, value: "", reason: "missing the tokenizer model")
        }
        guard type == "BPE" else {
            throw FormatError.invalidValue(file: path, field: "model.type", offset: 0, value: type, reason: "only BPE tokenizers are supported")
        }
        guard let vocab = model["vocab"] as? [String: Any] else {
            throw FormatError.invalidValue(file: path, field: "model.vocab", offset: 0, value: "", reason: "expected an object of token -> id")
        }
        var merges: [String] = []
        for item in model["merges"] as? [Any] ?? [] {
            if let s = item as? String { merges.append(s) } else if let pair = item as? [String], pair.count == 2 { merges.append(pair[0] + " " + pair[1]) }
        }
        let added = (root["added_tokens"] as? [[String: Any]]) ?? []
        var entries: [(Int, String, TokenType)] = vocab.compactMap { key, value in (value as? NSNumber).map { ($0.intValue, key, TokenType.normal) } }
        for a in added {
            guard let id = (a["id"] as? NSNumber)?.intValue, let content = a["content"] as? String else { continue }
            entries.append((id, content, (a["special"] as? Bool) == true ? .control : .userDefined))
        }
        guard let maxID = entries.map(\.0).max(), maxID < 4_000_000, entries.allSatisfy({ $0.0 >= 0 }) else {
            throw FormatError.invalidValue(file: path, field: "model.vocab", offset: 0, value: "", reason: "token ids must be 0..<4000000")
        }
        var tokens = [String](repeating: "", count: maxID + 1)
        var types = [TokenType](repeating: .unused, count: maxID + 1)
        for (id, text, type) in entries {
            tokens[id] = text
            if types[id] == .unused || type != .normal { types[id] = type }
        }
        let byteFallback = (model["byte_fallback"] as? Bool) ?? false
        let config = (try? jsonObject(((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("tokenizer_config.json"))) ?? [:]
        func specialID(_ key: String) -> Int? {
            let value = config[key]
            let text = (value as? String) ?? ((value as? [String: Any])?["content"] as? String)
            return text.flatMap { t in tokens.firstIndex(of: t) }
        }
        if byteFallback {
            var scores = [Float](repeating: 0, count: tokens.count)
            let index = Dictionary(tokens.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            for (rank, m) in merges.enumerated().reversed() {
                if let id = index[m.replacingOccurrences(of: " ", with: "")] { scores[id] = -Float(rank) }
            }
            for (i, t) in tokens.enumerated() where types[i] == .normal && t.hasPrefix("<0x") && t.count == 6 { types[i] = .byte }
            return Vocabulary(model: .sentencePiece, tokens: tokens, types: types, scores: scores,
                              bos: specialID("bos_token") ?? tokens.firstIndex(of: "<s>"), eos: specialID("eos_token") ?? tokens.firstIndex(of: "</s>"),
                              unknown: tokens.firstIndex(of: "<unk>"), addBOS: config["add_bos_token"] as? Bool ?? true,
                              addEOS: config["add_eos_token"] as? Bool ?? false, addSpacePrefix: true)
        }
        let kind = preTokenizerKind(root["pre_tokenizer"])
        let eos = specialID("eos_token") ?? tokens.firstIndex(of: "<|endoftext|>")
        var vocabulary = Vocabulary(model: .byteLevelBPE(kind), tokens: tokens, types: types, merges: merges,
                                    bos: specialID("bos_token") ?? eos, eos: eos, addBOS: config["add_bos_token"] as? Bool ?? false,
                                    addEOS: config["add_eos_token"] as? Bool ?? false)
        vocabulary.extraEOS = TokenizerLoader.endOfTurnTexts.compactMap { t in tokens.firstIndex(of: t).flatMap { types[$0] == .control ? $0 : nil } }
        return vocabulary
    }

    /// GPT-2 style files: vocab.json (token -> id) and merges.txt (one "left right" per line).
    public static func vocabulary(vocabJSON: String, merges mergesPath: String) throws -> Vocabulary {
        guard let vocab = try jsonObject(vocabJSON) as? [String: NSNumber] else {
            throw FormatError.invalidValue(file: vocabJSON, field: "vocab", offset: 0, value: "", reason: "expected an object of token -> id")
        }
        guard let text = try? String(contentsOfFile: mergesPath, encoding: .utf8) else {
            throw FormatError.cannotOpen(file: mergesPath, reason: "unreadable or not UTF-8")
        }
        let merges = text.split(separator: "\n", omittingEmptySubsequences: true).filter { !$0.hasPrefix("#version") }.map(String.init)
        guard let maxID = vocab.values.map(\.intValue).max(), maxID < 4_000_000 else {
            throw FormatError.invalidValue(file: vocabJSON, field: "vocab", offset: 0, value: "", reason: "no tokens, or ids out of range")
        }
        var tokens = [String](repeating: "", count: maxID + 1)
        var types = [TokenType](repeating: .unused, count: maxID + 1)
        for (t, id) in vocab where id.intValue >= 0 {
            tokens[id.intValue] = t
            types[id.intValue] = t.hasPrefix("<|") && t.hasSuffix("|>") ? .control : .normal
        }
        let eos = tokens.firstIndex(of: "<|endoftext|>")
        return Vocabulary(model: .byteLevelBPE(.gpt2), tokens: tokens, types: types, merges: merges, bos: eos, eos: eos, addBOS: false)
    }

    /// Recognises the pre-tokenizer from its regex (Split pattern), Digits stage, or plain ByteLevel.
    static func preTokenizerKind(_ value: Any?) -> PreTokenizerKind {
        guard let p = value as? [String: Any] else { return .gpt2 }
        let stages = (p["pretokenizers"] as? [[String: Any]]) ?? [p]
        if stages.contains(where: { $0["type"] as? String == "Digits" && ($0["individual_digits"] as? Bool) == true }) { return .digitsGPT2 }
        for stage in stages where stage["type"] as? String == "Split" {
            let regex = ((stage["pattern"] as? [String: Any])?["Regex"] as? String) ?? ""
            if regex.contains("\\p{N}{1,3}") { return .llama3 }
            if regex.contains("[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}") { return .qwen2 }
        }
        return .gpt2
    }

    static func jsonObject(_ path: String) throws -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FormatError.missingFile(path: path, hint: "A Hugging Face tokenizer needs this file.")
        }
        do {
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw FormatError.invalidValue(file: path, field: "JSON", offset: 0, value: "", reason: "expected an object")
            }
            return object
        } catch let error as FormatError {
            throw error
        } catch {
            throw FormatError.invalidValue(file: path, field: "JSON", offset: 0, value: "", reason: "not valid JSON (\(error.localizedDescription))")
        }
    }
}
