// Tokenizer: text <-> token ids for byte-level BPE and SentencePiece-style vocabularies, matching
// llama.cpp's llm_tokenizer_bpe / llm_tokenizer_spm (and so tiktoken / sentencepiece) id for id.

public final class Tokenizer: Sendable {
    public let vocabulary: Vocabulary
    let table: TokenTable
    /// Byte-level BPE: the token of each single byte; SentencePiece: the `<0xXX>` byte-fallback tokens.
    let byteTokens: [Int32]
    /// BPE merges keyed by (left id << 32 | right id).
    let merges: [UInt64: Merge]
    let specials: SpecialTokenMatcher
    /// The bytes each token decodes to (special tokens: their text), back to back; token i is
    /// tokenBytes[tokenOffsets[i]..<tokenOffsets[i + 1]].
    let tokenBytes: [UInt8]
    let tokenOffsets: [Int32]

    struct Merge: Sendable { let rank: Int32; let result: Int32 }

    public init(_ vocabulary: Vocabulary) throws {
        try vocabulary.validate()
        self.vocabulary = vocabulary
        let table = TokenTable(vocabulary.tokens)
        self.table = table

        var byteTokens = [Int32](repeating: -1, count: 256)
        var merges: [UInt64: Merge] = [:]
        switch vocabulary.model {
        case .byteLevelBPE:
            for b in 0..<256 { byteTokens[b] = table.id(String(ByteLevel.byteToScalar[b])) ?? -1 }
            merges.reserveCapacity(vocabulary.merges.count)
            for (rank, line) in vocabulary.merges.enumerated() {
                let utf8 = line.utf8
                guard let space = utf8.firstIndex(of: 0x20) else {
                    throw TokenizerError.invalidVocabulary("merge #\(rank) '\(line)' is not 'left right'")
                }
                let left = utf8[..<space], right = utf8[utf8.index(after: space)...]
                guard let l = table.id(utf8: left), let r = table.id(utf8: right), let m = table.id(joining: left, right) else { continue }
                let key = UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))
                if merges[key] == nil { merges[key] = Merge(rank: Int32(rank), result: m) }
            }
        case .sentencePiece:
            for b in 0..<256 {
                let hex = String(b, radix: 16, uppercase: true)
                byteTokens[b] = table.id("<0x" + (hex.count == 1 ? "0" + hex : hex) + ">") ?? -1
            }
        }
        self.byteTokens = byteTokens
        self.merges = merges
        self.specials = SpecialTokenMatcher(vocabulary: vocabulary)
        var bytes: [UInt8] = [], offsets: [Int32] = [0]
        bytes.reserveCapacity(vocabulary.count * 6)
        offsets.reserveCapacity(vocabulary.count + 1)
        for id in vocabulary.tokens.indices {
            Tokenizer.appendBytes(of: id, in: vocabulary, to: &bytes)
            offsets.append(Int32(bytes.count))
        }
        tokenBytes = bytes
        tokenOffsets = offsets
    }

    public var count: Int { vocabulary.count }
    public var bos: Int? { vocabulary.bos }
    public var eos: Int? { vocabulary.eos }

    /// Tokens that end generation: EOS and end-of-turn tokens.
    public var stopTokens: Set<Int> { Set([vocabulary.eos].compactMap { $0 } + vocabulary.extraEOS) }

    public func id(of token: String) -> Int? { table.id(token).map(Int.init) }

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
        if ignoreMerges, let id = table.id(ByteLevel.encode(bytes)) {
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
            guard let id = table.id(joining: left.utf8, right.utf8) else { return nil }
            return (-Double(scores.isEmpty ? 0 : scores[Int(id)]), id)
        }
        for (piece, id) in zip(pieces, ids) {
            if let id { out.append(id); continue }
            if let id = table.id(piece) { out.append(id); continue }
            for b in piece.utf8 {
                let t = byteTokens[Int(b)]
                if t >= 0 { out.append(t) } else if let unk = vocabulary.unknown { out.append(Int32(unk)) }
            }
        }
    }

    // MARK: decoding

    /// Appends the bytes token `id` decodes to.
    static func appendBytes(of id: Int, in v: Vocabulary, to out: inout [UInt8]) {
        let text = v.tokens[id]
        switch v.types[id] {
        case .control, .userDefined, .unused:
            out += text.utf8
        case .unknown:
            out += v.model == .sentencePiece ? Array("\u{2585}".utf8) : Array(text.utf8)
        case .byte:
            if let b = byteValue(text) { out.append(b) } else { out += text.utf8 }
        case .normal, .undefined:
            switch v.model {
            case .byteLevelBPE:
                if !ByteLevel.decode(text, into: &out) { out += text.utf8 }
            case .sentencePiece:
                if let b = byteValue(text) { out.append(b); return }
                for scalar in text.unicodeScalars {
                    if scalar == "\u{2581}" { out.append(0x20) } else { out += String(scalar).utf8 }
                }
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
        return Array(tokenBytes[Int(tokenOffsets[id])..<Int(tokenOffsets[id + 1])])
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
        let bytes = Array(tokenBytes[Int(tokenOffsets[id])..<Int(tokenOffsets[id + 1])])
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        return bytes.map { b in b < 0x80 ? String(UnicodeScalar(b)) : "<0x" + String(b, radix: 16, uppercase: true) + ">" }.joined()
    }
}

