// Pre-tokenizers: split text into words before BPE, exactly as the models' regexes do.
// Hand-written scanners (like llama.cpp's unicode.cpp custom splitters) instead of a regex engine:
//   gpt2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   llama3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   qwen2:  as llama3 with \p{N} (one digit per word)
//   digits + gpt2 (SmolLM, StarCoder): first every \p{N} alone, then gpt2 on the rest.

/// The pre-tokenization rule of a byte-level BPE vocabulary.
public enum PreTokenizerKind: String, Sendable, CaseIterable {
    case gpt2
    case llama3
    case qwen2
    case digitsGPT2

    /// The kind for a GGUF `tokenizer.ggml.pre` name, or nil when aigc does not know it.
    public init?(ggufName: String) {
        switch ggufName {
        case "default", "gpt-2", "gpt2", "mpt", "olmo", "jais", "trillion", "granite-docling": self = .gpt2
        case "llama3", "llama-bpe", "llama-v3", "falcon3", "dbrx", "smaug-bpe", "pixtral", "bailingmoe": self = .llama3
        case "qwen2", "stablelm2", "deepseek-r1-qwen", "megrez", "hunyuan": self = .qwen2
        case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva": self = .digitsGPT2
        default: return nil
        }
    }

    /// Whether a word that is itself a token skips the merges (tiktoken-trained vocabularies).
    public var ignoresMerges: Bool { self == .llama3 }
}

/// Character classes the patterns distinguish.
struct CharClass: OptionSet {
    let rawValue: UInt8
    static let letter = CharClass(rawValue: 1)
    static let number = CharClass(rawValue: 2)
    static let space = CharClass(rawValue: 4)
    static let newline = CharClass(rawValue: 8) // \r or \n (also space)

    init(rawValue: UInt8) { self.rawValue = rawValue }

    init(_ scalar: Unicode.Scalar) {
        if scalar.value < 128 {
            let v = scalar.value
            if (v >= 65 && v <= 90) || (v >= 97 && v <= 122) { self = .letter }
            else if v >= 48 && v <= 57 { self = .number }
            else if v == 10 || v == 13 { self = [.space, .newline] }
            else if v == 32 || (v >= 9 && v <= 12) { self = .space }
            else { self = [] }
            return
        }
        let p = scalar.properties
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: self = .letter
        case .decimalNumber, .letterNumber, .otherNumber: self = .number
        default: self = p.isWhitespace ? .space : []
        }
    }

    var isOther: Bool { isDisjoint(with: [.letter, .number, .space]) }
}

public enum PreTokenizer {
    /// Splits `text` into words (as substrings covering the text in order).
    public static func split(_ text: String, kind: PreTokenizerKind) -> [Substring] {
        let scalars = Array(text.unicodeScalars)
        let classes = scalars.map(CharClass.init)
        var ranges: [Range<Int>] = []
        switch kind {
        case .gpt2: splitGPT2(scalars, classes, 0..<scalars.count, into: &ranges)
        case .llama3: splitLlama3(scalars, classes, maxDigits: 3, into: &ranges)
        case .qwen2: splitLlama3(scalars, classes, maxDigits: 1, into: &ranges)
        case .digitsGPT2:
            var start = 0
            for i in 0..<scalars.count where classes[i].contains(.number) {
                if start < i { splitGPT2(scalars, classes, start..<i, into: &ranges) }
                ranges.append(i..<(i + 1))
                start = i + 1
            }
            if start < scalars.count { splitGPT2(scalars, classes, start..<scalars.count, into: &ranges) }
        }
        // Map scalar ranges back to String indices.
        var indices: [String.Index] = []
        indices.reserveCapacity(scalars.count + 1)
        var i = text.unicodeScalars.startIndex
        while i < text.unicodeScalars.endIndex {
            indices.append(i)
            i = text.unicodeScalars.index(after: i)
        }
        indices.append(text.unicodeScalars.endIndex)
        return ranges.map { text[indices[$0.lowerBound]..<indices[$0.upperBound]] }
    }

    /// Length of an English contraction at i ('s 't 'm 'd 're 've 'll), or 0.
    private static func contraction(_ s: [Unicode.Scalar], _ i: Int, end: Int, caseInsensitive: Bool) -> Int {
        guard s[i] == "'", i + 1 < end else { return 0 }
        func lower(_ c: Unicode.Scalar) -> Unicode.Scalar {
            caseInsensitive && c.value >= 65 && c.value <= 90 ? Unicode.Scalar(c.value + 32)! : c
        }
        let c1 = lower(s[i + 1])
        if c1 == "s" || c1 == "t" || c1 == "m" || c1 == "d" { return 2 }
        if i + 2 < end {
            let c2 = lower(s[i + 2])
            if (c1 == "r" && c2 == "e") || (c1 == "v" && c2 == "e") || (c1 == "l" && c2 == "l") { return 3 }
        }
        return 0
    }

    static func splitGPT2(_ s: [Unicode.Scalar], _ cls: [CharClass], _ range: Range<Int>, into out: inout [Range<Int>]) {
        let end = range.upperBound
        var i = range.lowerBound
        let classes: [(CharClass) -> Bool] = [{ $0.contains(.letter) }, { $0.contains(.number) }, { $0.isOther }]
        scan: while i < end {
            let n = contraction(s, i, end: end, caseInsensitive: false)
            if n > 0 { out.append(i..<(i + n)); i += n; continue }
            // ` ?\p{L}+`, then ` ?\p{N}+`, then ` ?[^\s\p{L}\p{N}]+`
            let spaced = s[i] == " " && i + 1 < end
            for member in classes where member(cls[i]) || (spaced && member(cls[i + 1])) {
                var k = member(cls[i]) ? i : i + 1
                while k < end && member(cls[k]) { k += 1 }
                out.append(i..<k)
                i = k
                continue scan
            }
            // `\s+(?!\S)|\s+`: a run of spaces leaves its last one to the word that follows
            var k = i
            while k < end && cls[k].contains(.space) { k += 1 }
            if k < end && k - i > 1 { k -= 1 }
            k = max(k, i + 1)
            out.append(i..<k)
            i = k
        }
    }

    static func splitLlama3(_ s: [Unicode.Scalar], _ cls: [CharClass], maxDigits: Int, into out: inout [Range<Int>]) {
        let end = s.count
        var i = 0
        while i < end {
            let c = cls[i]
            let n = contraction(s, i, end: end, caseInsensitive: true)
            if n > 0 { out.append(i..<(i + n)); i += n; continue }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if c.contains(.letter) || (!c.contains(.newline) && !c.contains(.number) && i + 1 < end && cls[i + 1].contains(.letter)) {
                var k = c.contains(.letter) ? i : i + 1
                while k < end && cls[k].contains(.letter) { k += 1 }
                out.append(i..<k)
                i = k
                continue
            }
            // \p{N}{1,maxDigits}
            if c.contains(.number) {
                var k = i
                while k < end && k - i < maxDigits && cls[k].contains(.number) { k += 1 }
                out.append(i..<k)
                i = k
                continue
            }
            // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
            let j = (s[i] == " " && i + 1 < end && cls[i + 1].isOther) ? i + 1 : i
            if cls[j].isOther {
                var k = j
                while k < end && cls[k].isOther { k += 1 }
                while k < end && cls[k].contains(.newline) { k += 1 }
                out.append(i..<k)
                i = k
                continue
            }
            // \s*[\r\n]+  |  \s+(?!\S)  |  \s+
            var k = i
            var lastNewline = -1
            while k < end && cls[k].contains(.space) {
                if cls[k].contains(.newline) { lastNewline = k }
                k += 1
            }
            if lastNewline >= 0 {
                out.append(i..<(lastNewline + 1))
                i = lastNewline + 1
                continue
            }
            if k > i {
                if k < end && k - i > 1 { k -= 1 }
                out.append(i..<k)
                i = k
                continue
            }
            out.append(i..<(i + 1))
            i += 1
        }
    }
}
