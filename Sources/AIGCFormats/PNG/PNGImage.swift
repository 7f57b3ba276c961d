// PNGImage: the 8-bit pixels and text chunks that PNGWriter encodes and PNGReader decodes.

/// An 8-bit image with interleaved channels, rows top to bottom, plus its text chunks in order.
/// Channels: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA.
public struct PNGImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    /// `width * height * channels` samples.
    public var pixels: [UInt8]
    /// tEXt / zTXt / iTXt chunks in file order (the writer puts them all before the image data).
    public var textChunks: [PNGTextChunk]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8], textChunks: [PNGTextChunk] = []) {
        precondition((1...4).contains(channels), "PNG images have 1 to 4 channels, not \(channels)")
        precondition(width > 0 && height > 0 && pixels.count == width * height * channels,
                     "\(width)x\(height)x\(channels) needs \(width * height * channels) samples, got \(pixels.count)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
        self.textChunks = textChunks
    }

    /// The text of the first chunk with `keyword`, if any.
    public func text(_ keyword: String) -> String? { textChunks.first { $0.keyword == keyword }?.text }
}

/// One textual chunk. tEXt holds Latin-1 text; zTXt is the same, deflated; iTXt holds UTF-8 text
/// with an optional language tag and translated keyword, deflated when `compressed` is set.
public struct PNGTextChunk: Sendable, Equatable {
    /// The chunk type the text is stored in.
    public enum Kind: String, Sendable {
        case tEXt, zTXt, iTXt
    }

    public var kind: Kind
    /// 1-79 Latin-1 characters, no leading, trailing or double spaces (PNG spec 11.3.4.3).
    public var keyword: String
    public var text: String
    /// iTXt only: an RFC 5646 language tag ("zh-CN"), or empty.
    public var languageTag: String
    /// iTXt only: the keyword translated into that language (UTF-8), or empty.
    public var translatedKeyword: String
    /// iTXt only: whether the text is deflated (zTXt always is, tEXt never).
    public var compressed: Bool

    public init(_ kind: Kind = .iTXt, keyword: String, text: String, languageTag: String = "", translatedKeyword: String = "", compressed: Bool = false) {
        self.kind = kind
        self.keyword = keyword
        self.text = text
        self.languageTag = languageTag
        self.translatedKeyword = translatedKeyword
        self.compressed = kind == .zTXt || (kind == .iTXt && compressed)
    }
}

/// Latin-1 (ISO 8859-1) text as PNG's tEXt/zTXt chunks and keywords store it: one byte per character.
enum Latin1 {
    static func decode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    }

    /// The bytes of `text`, or nil when a character lies outside Latin-1.
    static func encode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            guard scalar.value < 256 else { return nil }
            out.append(UInt8(scalar.value))
        }
        return out
    }
}
