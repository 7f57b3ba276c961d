// CLIPTokenizer: OpenAI CLIP's BPE tokenizer (the text side of Stable Diffusion 1.x), id for id as
// Hugging Face transformers' CLIPTokenizer with ftfy installed (models/clip/tokenization_clip.py,
// v4.57) and open_clip's SimpleTokenizer (src/open_clip/tokenizer.py @ v3.3.0): clean and
// lower-case the text, split it with CLIP's pattern, map each word's UTF-8 bytes to GPT-2's
// printable characters, mark the word's last symbol with "</w>", merge by rank, then frame the
// ids as [BOS] ids [EOS] padded or cut to the context length (77).
import CZlib
import Foundation

/// CLIP's byte-level BPE with end-of-word markers.
public final class CLIPTokenizer: Sendable {
    /// Token texts by id ("a</w>" for a word-final "a"; the two specials last).
    public let tokens: [String]
    /// Id of `<|startoftext|>` (49406 in CLIP's vocabulary).
    public let startOfText: Int
    /// Id of `<|endoftext|>` (49407).
    public let endOfText: Int
    /// Id that fills a short prompt up to the context length: `<|endoftext|>` for SD 1.x; SD 2.x's
    /// tokenizer pads with "!" (id 0).
    public let padding: Int
    let table: TokenTable
    /// Merges keyed by (left id << 32 | right id): rank and result id.
    let merges: [UInt64: (rank: Int32, result: Int32)]
    /// The id of each byte as a word-inner symbol and as a word's last symbol ("</w>" appended).
    let byteIDs: [Int32]
    let finalByteIDs: [Int32]

    static let startText = "<|startoftext|>", endText = "<|endoftext|>", endOfWord = "</w>"

    /// A tokenizer over `tokens` (index = id) and `merges` ("left right", best first). `source`
    /// names the files for errors.
    public init(tokens: [String], merges: [String], padding: Int? = nil, source: String) throws {
        let table = TokenTable(tokens)
        guard let bos = table.id(CLIPTokenizer.startText), let eos = table.id(CLIPTokenizer.endText) else {
            throw TokenizerError.invalidVocabulary("\(source): no \(CLIPTokenizer.startText) / \(CLIPTokenizer.endText) token")
        }
        var byteIDs = [Int32](repeating: -1, count: 256), finalByteIDs = byteIDs
        for b in 0..<256 {
            let symbol = String(ByteLevel.byteToScalar[b])
            guard let inner = table.id(symbol), let last = table.id(symbol + CLIPTokenizer.endOfWord) else {
                throw TokenizerError.invalidVocabulary("\(source): byte \(b) ('\(symbol)') has no token, with and without </w>")
            }
            byteIDs[b] = inner
            finalByteIDs[b] = last
        }
        var ranked: [UInt64: (rank: Int32, result: Int32)] = [:]
        ranked.reserveCapacity(merges.count)
        for (rank, line) in merges.enumerated() {
            let utf8 = line.utf8
            guard let space = utf8.firstIndex(of: 0x20), case let right = utf8[utf8.index(after: space)...], !right.contains(0x20),
                  let l = table.id(utf8: utf8[..<space]), let r = table.id(utf8: right), let m = table.id(joining: utf8[..<space], right) else {
                throw TokenizerError.invalidVocabulary("\(source): merge #\(rank + 1) '\(line)' is not 'left right' over known tokens")
            }
            let key = UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))
            if ranked[key] == nil { ranked[key] = (Int32(rank), m) }
        }
        if let padding, !tokens.indices.contains(padding) {
            throw TokenizerError.invalidVocabulary("\(source): padding id \(padding) is outside the \(tokens.count) tokens")
        }
        self.tokens = tokens
        self.table = table
        self.merges = ranked
        self.byteIDs = byteIDs
        self.finalByteIDs = finalByteIDs
        startOfText = Int(bos)
        endOfText = Int(eos)
        self.padding = padding ?? Int(eos)
    }

    /// The vocabulary open_clip's SimpleTokenizer builds from a `bpe_simple_vocab_16e6.txt` merges
    /// list: 256 byte symbols, the same with "</w>", one token per merge, then the two specials.
    /// Only the first 48,894 merges are used (the file holds 262,144), giving 49,408 tokens.
    public convenience init(bpeMerges text: [UInt8], padding: Int? = nil, source: String) throws {
        // Only the lines in use are decoded: splitting all 262,145 as Strings took seconds.
        var lines: [String] = []
        lines.reserveCapacity(CLIPTokenizer.mergeCount + 1)
        var start = 0
        for (i, byte) in text.enumerated() where byte == 0x0A {
            lines.append(String(decoding: text[start..<i], as: UTF8.self))
            start = i + 1
            if lines.count > CLIPTokenizer.mergeCount { break }
        }
        guard lines.count > CLIPTokenizer.mergeCount else {
            throw TokenizerError.invalidVocabulary("\(source): \(lines.count) lines, CLIP needs a header and \(CLIPTokenizer.mergeCount) merges")
        }
        let merges = Array(lines[1...])
        let symbols = ByteLevel.byteToScalar.enumerated().sorted { CLIPTokenizer.printableFirst($0.offset) < CLIPTokenizer.printableFirst($1.offset) }
            .map { String($0.element) }
        var tokens = symbols + symbols.map { $0 + CLIPTokenizer.endOfWord }
        tokens.reserveCapacity(tokens.count + merges.count + 2)
        for line in merges { tokens.append(String(line.unicodeScalars.filter { $0 != " " })) }
        tokens += [CLIPTokenizer.startText, CLIPTokenizer.endText]
        try self.init(tokens: tokens, merges: merges, padding: padding, source: source)
    }

    /// Merges open_clip keeps: 49152 - 256 - 2 (its vocabulary size less bytes and specials, halved bytes counted twice).
    static let mergeCount = 49152 - 256 - 2

    /// GPT-2's byte map lists printable bytes first (in byte order), then the others; CLIP numbers
    /// its first 256 tokens in that order.
    static func printableFirst(_ b: Int) -> Int {
        let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
        return printable ? b : 256 + b
    }

    /// A tokenizer from a Hugging Face `vocab.json` (token -> id) and `merges.txt` ("#version" header, then "left right").
    public convenience init(vocabularyJSON: Data, mergesText: String, padding: Int? = nil, source: String) throws {
        guard let map = try? JSONSerialization.jsonObject(with: vocabularyJSON) as? [String: Int] else {
            throw TokenizerError.invalidVocabulary("\(source): vocab.json is not an object of token -> id")
        }
        var tokens = [String](repeating: "", count: map.count)
        for (token, id) in map {
            guard tokens.indices.contains(id), tokens[id].isEmpty else {
                throw TokenizerError.invalidVocabulary("\(source): vocab.json id \(id) of '\(token)' is out of 0..<\(map.count) or used twice")
            }
            tokens[id] = token
        }
        let merges = mergesText.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#version") }
        try self.init(tokens: tokens, merges: merges, padding: padding, source: source)
    }

    /// The vocabulary aigc ships (open_clip's `bpe_simple_vocab_16e6.txt.gz`, MIT), the one every
    /// SD 1.x checkpoint was trained with.
    public static func bundled() throws -> CLIPTokenizer {
        guard let url = Bundle.module.url(forResource: "bpe_simple_vocab_16e6.txt", withExtension: "gz", subdirectory: "clip") else {
            throw TokenizerError.invalidVocabulary("the bundled CLIP vocabulary (clip/bpe_simple_vocab_16e6.txt.gz) is missing from aigc's resources; reinstall aigc")
        }
        return try CLIPTokenizer(gzipFile: url.path)
    }

    /// A tokenizer from a gzip-compressed open_clip merges file.
    public convenience init(gzipFile path: String, padding: Int? = nil) throws {
        guard let compressed = FileManager.default.contents(atPath: path) else {
            throw TokenizerError.invalidVocabulary("\(path): cannot be read")
        }
        let text = try CLIPTokenizer.gunzip(compressed, source: path)
        try self.init(bpeMerges: text, padding: padding, source: path)
    }

    /// The decompressed bytes of a gzip stream, at most 64 MiB.
    static func gunzip(_ data: Data, source: String) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw TokenizerError.invalidVocabulary("\(source): zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var status = Z_OK
        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(input.count)
            while status == Z_OK {
                status = chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                output += chunk[0..<(chunk.count - Int(stream.avail_out))]
                guard output.count <= 64 << 20 else { throw TokenizerError.invalidVocabulary("\(source): inflates past 64 MiB") }
            }
        }
        guard status == Z_STREAM_END else {
            throw TokenizerError.invalidVocabulary("\(source): not a complete gzip stream (zlib status \(status) after \(stream.total_in) bytes)")
        }
        return output
    }

    // MARK: encoding

    /// The BPE ids of `text`, without BOS/EOS or padding. The text of a special token maps to that token.
    public func encode(_ text: String) -> [Int] {
        var out: [Int] = []
        for word in CLIPNormalizer.words(CLIPNormalizer.clean(text)) {
            if word == CLIPTokenizer.startText { out.append(startOfText); continue }
            if word == CLIPTokenizer.endText { out.append(endOfText); continue }
            encodeWord(word, into: &out)
        }
        return out
    }

    /// `[BOS] + ids + [EOS]` cut or padded to `length` tokens: a long prompt keeps its first
    /// `length - 2` ids and still ends with EOS, as `tokenizer(..., padding="max_length", truncation=True)`.
    public func encodePadded(_ text: String, length: Int = 77) -> [Int] {
        precondition(length >= 2, "a CLIP context holds at least BOS and EOS")
        let ids = encode(text).prefix(length - 2)
        let framed = [startOfText] + ids + [endOfText]
        return framed + [Int](repeating: padding, count: length - framed.count)
    }

    private func encodeWord(_ word: Substring, into out: inout [Int]) {
        let bytes = Array(word.utf8)
        guard let last = bytes.last else { return }
        var ids = bytes.dropLast().map { byteIDs[Int($0)] }
        ids.append(finalByteIDs[Int(last)])
        let merged = BPEMerger.merge(ids) { left, right in
            merges[UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))].map { (Double($0.rank), $0.result) }
        }
        out += merged.map(Int.init)
    }

    // MARK: decoding

    /// The text of `ids`: "</w>" becomes a space between words, special tokens are left out.
    public func decode(_ ids: [Int]) -> String {
        var text = ""
        for id in ids where tokens.indices.contains(id) && id != startOfText && id != endOfText {
            text += tokens[id]
        }
        var bytes: [UInt8] = []
        for (i, piece) in text.components(separatedBy: CLIPTokenizer.endOfWord).enumerated() {
            if i > 0 { bytes.append(0x20) }
            if !ByteLevel.decode(piece, into: &bytes) { bytes += piece.utf8 }
        }
        return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)
    }
}
