// Tokenizer: text <-> token ids for byte-level BPE and SentencePiece-style vocabularies, matching
// llama.cpp's llm_tokenizer_bpe / llm_tokenizer_spm (and so tiktoken / sentencepiece) id for id.

public final class Tokenizer: Sendable {
    public let vocabulary: Vocabulary
    let tokenToId: [String: Int32]
    /// Byte-level BPE: the token of each single byte; SentencePiece: the `<0xXX>` byte-fallback tokens.
    let byteTokens: [Int32]
    /// BPE merges keyed by (left id << 32 | right id).
    let merges: [UInt64: Merge]
    let specials: SpecialTokenMatcher
    /// The bytes each token decodes to (special tokens: their text).
    let tokenBytes: [[UInt8]]

    struct Merge: Sendable { let rank: Int32; let result: Int32 }

    public init(_ vocabulary: Vocabulary) throws {
        try vocabulary.validate()
        self.vocabulary = vocabulary
        var tokenToId: [String: Int32] = [:]
        tokenToId.reserveCapacity(vocabulary.count)
        for (i, t) in vocabulary.tokens.enumerated() where tokenToId[t] == nil { tokenToId[t] = Int32(i) }
        self.tokenToId = tokenToId

        var byteTokens = [Int32](repeating: -1, count: 256)
        var merges: [UInt64: Merge] = [:]
        switch vocabulary.model {
        case .byteLevelBPE:
            for b in 0..<256 { byteTokens[b] = tokenToId[String(ByteLevel.byteToScalar[b])] ?? -1 }
            merges.reserveCapacity(vocabulary.merges.count)
            for (rank, line) in vocabulary.merges.enumerated() {
                guard let space = line.firstIndex(of: " ") else {
                    throw TokenizerError.invalidVocabulary("merge #\(rank) '\(line)' is not 'left right'")
                }
                let left = line[..<space], right = line[line.index(after: space)...]
                guard let l = tokenToId[String(left)], let r = tokenToId[String(right)], let m = tokenToId[String(left + right)] else { continue }
                let key = UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))
                if merges[key] == nil { merges[key] = Merge(rank: Int32(rank), result: m) }
            }
        case .sentencePiece:
            for b in 0..<256 {
                let hex = String(b, radix: 16, uppercase: true)
                byteTokens[b] = tokenToId["<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"] ?? -1
            }
        }
        self.byteTokens = byteTokens
        self.merges = merges
        self.specials = SpecialTokenMatcher(vocabulary: vocabulary)
        self.tokenBytes = vocabulary.tokens.indices.map { Tokenizer.bytes(of: $0, in: vocabulary) }
    }

    public var count: Int { vocabulary.count }
    public var bos: Int? { vocabulary.bos }
    public var eos: Int? { vocabulary.eos }

    /// Tokens that end generation: EOS and end-of-turn tokens.
    public var stopTokens: Set<Int> { Set([vocabulary.eos].compactMap { $0 } + vocabulary.extraEOS) }

    public func id(of token: String) -> Int? { tokenToId[token].map(Int.init) }

    // MARK: encoding

    /// Token ids of `text`. `addSpecial` adds BOS/EOS as the vocabulary asks; `parseSpecial` turns
    /// the text of control tokens (e.g. "<|im_start|>") into those tokens instead of plain text.
    public func encode(_ text: String, addSpecial: Bool = true, parseSpecial: Bool = false) -> [Int] {
        var out: [Int32] = []
        if addSpecial, vocabulary.addBOS, let bos = vocabulary.bos { out.append(Int32(bos)) }
        var previousWasSpecial = true
        for fragment in specials.partition(text, parseControl: parseSpecial) {
            switch fragment {
            case let .token(id):
                out.append(Int32(id))
                previousWasSpecial = true
            case let .text(piece):
                switch vocabulary.model {
                case let .byteLevelBPE(kind):
                    for word in PreTokenizer.split(String(piece), kind: kind) { encodeBPEWord(word, ignoreMerges: kind.ignoresMerges, into: &out) }
                case .sentencePiece:
                    encodeSentencePiece(piece, prefixSpace: vocabulary.addSpacePrefix && previousWasSpecial, into: &out)
                }
                previousWasSpecial = false
            }
        }
        if addSpecial, vocabulary.addEOS, let eos = vocabulary.eos { out.append(Int32(eos)) }
        return out.map(Int.init)
    }

    private func encodeBPEWord(_ word: Substring, ignoreMerges: Bool, into out: inout [Int32]) {
        let bytes = Array(word.utf8)
        if bytes.isEmpty { return }
        if ignoreMerges, let id = tokenToId[ByteLevel.encode(bytes)] {
            out.append(id)
            return
        }
        var ids: [Int32] = []
        ids.reserveCapacity(bytes.count)
        for b in bytes {
            let id = byteTokens[Int(b)]
            if id >= 0 { ids.append(id) } else if let unk = vocabulary.unknown { ids.append(Int32(unk)) }
        }
        out.append(contentsOf: BPEMerger.merge(ids) { left, right in
            merges[UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))].map { (Double($0.rank), $0.result) }
        })
    }

    private func encodeSentencePiece(_ text: Substring, prefixSpace: Bool, into out: inout [Int32]) {
        var escaped = prefixSpace ? "▁" : ""
        for ch in text.unicodeScalars { escaped.unicodeScalars.append(ch == " " ? "▁" : ch) }
        let symbols = escaped.unicodeScalars.map { String($0) }
        if symbols.isEmpty { return }
        let scores = vocabulary.scores
        // Merge the adjacent pair whose concatenation is a token with the highest score (leftmost first).
        var pieces = symbols
        let ids = BPEMerger.mergeStrings(&pieces) { left, right in
            guard let id = tokenToId[left + right] else { return nil }
            return (-Double(scores.isEmpty ? 0 : scores[Int(id)]), id)
        }
        for (piece, id) in zip(pieces, ids) {
            if let id { out.append(id); continue }
            if let id = tokenToId[piece] { out.append(id); continue }
            for b in piece.utf8 {
                let t = byteTokens[Int(b)]
                if t >= 0 { out.append(t) } else if let unk = vocabulary.unknown { out.append(Int32(unk)) }
            }
        }
    }

    // MARK: decoding

    static func bytes(of id: Int, in v: Vocabulary) -> [UInt8] {
        let text = v.tokens[id]
        switch v.types[id] {
        case .control, .userDefined, .unused:
            return Array(text.utf8)
        case .unknown:
            return v.model == .sentencePiece ? Array("\u{2585}".utf8) : Array(text.utf8)
        case .byte:
            return byteValue(text).map { [$0] } ?? Array(text.utf8)
        case .normal, .undefined:
            switch v.model {
            case .byteLevelBPE:
                return ByteLevel.decode(text) ?? Array(text.utf8)
            case .sentencePiece:
                if let b = byteValue(text) { return [b] }
                return Array(String(String.UnicodeScalarView(text.unicodeScalars.map { $0 == "\u{2581}" ? " " : $0 })).utf8)
            }
        }
    }

    /// The byte of a "<0xXX>" token.
    static func byteValue(_ text: String) -> UInt8? {
        guard text.utf8.count == 6, text.hasPrefix("<0x"), text.hasSuffix(">") else { return nil }
        return UInt8(text.dropFirst(3).dropLast(), radix: 16)
    }

    /// Whether `id` is a control token (BOS, EOS, chat markers) that plain text output leaves out.
    public func isControl(_ id: Int) -> Bool {
        id >= 0 && id < count && (vocabulary.types[id] == .control || vocabulary.types[id] == .unused)
    }

    /// The bytes of one token; control tokens give their text only when `special` is true.
    public func bytes(of id: Int, special: Bool = false) -> [UInt8] {
        guard id >= 0 && id < count else { return [] }
        if !special && isControl(id) { return [] }
        return tokenBytes[id]
    }

    /// Text of a token sequence. `stripLeadingSpace` removes the space a SentencePiece vocabulary
    /// puts before the first word (use it when decoding from the start of a text).
    public func decode(_ ids: [Int], special: Bool = false, stripLeadingSpace: Bool = false) -> String {
        var bytes: [UInt8] = []
        for id in ids { bytes.append(contentsOf: self.bytes(of: id, special: special)) }
        if stripLeadingSpace, vocabulary.addSpacePrefix, vocabulary.model == .sentencePiece, bytes.first == 0x20 { bytes.removeFirst() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A printable form of one token for listings: its text, with bytes that are not whole UTF-8
    /// characters written as <0xXX>.
    public func piece(_ id: Int) -> String {
        guard id >= 0 && id < count else { return "<invalid \(id)>" }
        let bytes = tokenBytes[id]
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        return bytes.map { b in b < 0x80 ? String(UnicodeScalar(b)) : "<0x" + String(b, radix: 16, uppercase: true) + ">" }.joined()
    }
}

