// PNG encoder for 8-bit gray, gray+alpha, RGB and RGBA images with text chunks.
// Spec: PNG (Third Edition), W3C Recommendation 2025 — https://www.w3.org/TR/png-3/
//
// Layout: the 8-byte signature 89 50 4E 47 0D 0A 1A 0A, then chunks, each
//   u32 big-endian length | 4-byte type | data | u32 big-endian CRC-32 of type + data
// written in this order: IHDR (width, height, bit depth 8, colour type 0/4/2/6, compression 0,
// filter method 0, interlace 0), the text chunks (tEXt/zTXt/iTXt, before the image data so that
// readers that stop early still see labels), IDAT chunks holding one zlib stream of the filtered
// rows (each row: a filter-type byte, then the row's bytes), and IEND.
import Foundation

/// Encodes `PNGImage`s.
public enum PNGWriter {
    /// How rows are filtered before compression.
    public enum FilterStrategy: Sendable, Equatable {
        /// Per row, the filter whose output has the smallest sum of absolute values (as signed
        /// bytes) — the heuristic the PNG spec suggests (section 12.8) and libpng uses.
        case adaptive
        /// One filter type for every row: 0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth.
        case fixed(UInt8)
    }

    /// Encoder settings.
    public struct Options: Sendable {
        /// zlib level 0-9 (6 is zlib's default balance of size and speed).
        public var compressionLevel: Int32
        public var filter: FilterStrategy
        /// Largest IDAT chunk; the zlib stream is split across chunks of this size.
        public var maxIDATBytes: Int

        public init(compressionLevel: Int32 = 6, filter: FilterStrategy = .adaptive, maxIDATBytes: Int = 1 << 20) {
            self.compressionLevel = compressionLevel
            self.filter = filter
            self.maxIDATBytes = maxIDATBytes
        }
    }

    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    static let colorTypes = [1: UInt8(0), 2: 4, 3: 2, 4: 6]

    /// The PNG file bytes of `image`. Throws when a text chunk cannot be written as asked
    /// (a keyword that is not 1-79 Latin-1 characters, non-Latin-1 text in tEXt/zTXt).
    public static func encode(_ image: PNGImage, options: Options = Options()) throws -> [UInt8] {
        guard let colorType = colorTypes[image.channels], image.width > 0, image.height > 0, image.width <= Int(Int32.max),
              image.height <= Int(Int32.max), image.pixels.count == image.width * image.height * image.channels else {
            throw FormatError.invalidValue(file: "<png writer>", field: "image", offset: 0, value: "\(image.width)x\(image.height)x\(image.channels)",
                                           reason: "needs 1-4 channels and width * height * channels = \(image.pixels.count) samples")
        }
        var out = signature
        var header: [UInt8] = []
        appendBigEndian(UInt32(image.width), to: &header)
        appendBigEndian(UInt32(image.height), to: &header)
        header += [8, colorType, 0, 0, 0]
        appendChunk("IHDR", header, to: &out)
        for text in image.textChunks { appendChunk(text.kind.rawValue, try textChunkData(text), to: &out) }
        let filtered = filterRows(image, strategy: options.filter)
        let stream = PNGZlib.compress(filtered, level: max(0, min(9, options.compressionLevel)))
        var start = 0
        repeat {
            let end = min(stream.count, start + max(1, options.maxIDATBytes))
            appendChunk("IDAT", Array(stream[start..<end]), to: &out)
            start = end
        } while start < stream.count
        appendChunk("IEND", [], to: &out)
        return out
    }

    /// Encodes `image` and writes it to `path` atomically.
    public static func write(_ image: PNGImage, to path: String, options: Options = Options()) throws {
        let bytes = try encode(image, options: options)
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw FormatError.cannotOpen(file: path, reason: error.localizedDescription)
        }
    }

    // MARK: chunks

    static func appendBigEndian(_ value: UInt32, to out: inout [UInt8]) {
        out += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    static func appendChunk(_ type: String, _ data: [UInt8], to out: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        precondition(typeBytes.count == 4, "chunk types have four letters")
        appendBigEndian(UInt32(data.count), to: &out)
        out += typeBytes
        out += data
        let crc = typeBytes.withUnsafeBytes { t in data.withUnsafeBytes { d in PNGZlib.crc(type: t, data: d) } }
        appendBigEndian(crc, to: &out)
    }

    /// The data of a tEXt, zTXt or iTXt chunk (spec 11.3.3).
    static func textChunkData(_ text: PNGTextChunk) throws -> [UInt8] {
        func bad(_ reason: String) -> FormatError {
            .invalidValue(file: "<png writer>", field: "\(text.kind.rawValue) chunk '\(text.keyword)'", offset: 0, value: text.keyword, reason: reason)
        }
        guard let keyword = Latin1.encode(text.keyword), (1...79).contains(keyword.count), !keyword.contains(0),
              keyword.first != 0x20, keyword.last != 0x20 else {
            throw bad("keywords are 1-79 Latin-1 characters without NUL or leading/trailing spaces")
        }
        var data = keyword + [0]
        switch text.kind {
        case .tEXt, .zTXt:
            guard let latin1 = Latin1.encode(text.text) else { throw bad("\(text.kind.rawValue) holds Latin-1 text only; use iTXt for UTF-8") }
            data += text.kind == .tEXt ? latin1 : [0] + PNGZlib.compress(latin1)
        case .iTXt:
            guard !text.languageTag.utf8.contains(0), !text.translatedKeyword.utf8.contains(0) else { throw bad("language tag and translated keyword may not contain NUL") }
            let utf8 = Array(text.text.utf8)
            data += [text.compressed ? 1 : 0, 0] + Array(text.languageTag.utf8) + [0] + Array(text.translatedKeyword.utf8) + [0]
            data += text.compressed ? PNGZlib.compress(utf8) : utf8
        }
        return data
    }

    // MARK: filters

    /// Each row prefixed by its filter type byte (spec 7.3, 9): the bytes the zlib stream holds.
    static func filterRows(_ image: PNGImage, strategy: FilterStrategy) -> [UInt8] {
        let bpp = image.channels, rowBytes = image.width * image.channels
        var out = [UInt8](repeating: 0, count: image.height * (rowBytes + 1))
        var candidates = [UInt8](repeating: 0, count: 5 * rowBytes)
        let zeros = [UInt8](repeating: 0, count: rowBytes)
        image.pixels.withUnsafeBufferPointer { pixels in
            out.withUnsafeMutableBufferPointer { out in
                candidates.withUnsafeMutableBufferPointer { scratch in
                    zeros.withUnsafeBufferPointer { zeros in
                        for y in 0..<image.height {
                            let row = UnsafeBufferPointer(rebasing: pixels[(y * rowBytes)..<((y + 1) * rowBytes)])
                            let prior = y == 0 ? zeros : UnsafeBufferPointer(rebasing: pixels[((y - 1) * rowBytes)..<(y * rowBytes)])
                            let destination = UnsafeMutableBufferPointer(rebasing: out[(y * (rowBytes + 1) + 1)..<((y + 1) * (rowBytes + 1))])
                            out[y * (rowBytes + 1)] = filterRow(row, prior: prior, bpp: bpp, strategy: strategy, scratch: scratch, into: destination)
                        }
                    }
                }
            }
        }
        return out
    }

    /// Filters one row into `destination` and returns the filter type used.
    static func filterRow(_ row: UnsafeBufferPointer<UInt8>, prior: UnsafeBufferPointer<UInt8>, bpp: Int, strategy: FilterStrategy,
                          scratch: UnsafeMutableBufferPointer<UInt8>, into destination: UnsafeMutableBufferPointer<UInt8>) -> UInt8 {
        let n = row.count
        func apply(_ type: UInt8, _ d: UnsafeMutableBufferPointer<UInt8>) {
            switch type {
            case 1:
                for i in 0..<min(bpp, n) { d[i] = row[i] }
                for i in min(bpp, n)..<n { d[i] = row[i] &- row[i - bpp] }
            case 2:
                for i in 0..<n { d[i] = row[i] &- prior[i] }
            case 3:
                for i in 0..<min(bpp, n) { d[i] = row[i] &- prior[i] >> 1 }
                for i in min(bpp, n)..<n { d[i] = row[i] &- UInt8((Int(row[i - bpp]) + Int(prior[i])) >> 1) }
            case 4:
                for i in 0..<min(bpp, n) { d[i] = row[i] &- prior[i] }  // Paeth(0, b, 0) = b
                for i in min(bpp, n)..<n { d[i] = row[i] &- paeth(row[i - bpp], prior[i], prior[i - bpp]) }
            default:
                for i in 0..<n { d[i] = row[i] }
            }
        }
        if case let .fixed(type) = strategy {
            apply(type <= 4 ? type : 0, destination)
            return type <= 4 ? type : 0
        }
        var best: UInt8 = 0, bestCost = Int.max
        for type in UInt8(0)...4 {
            let d = UnsafeMutableBufferPointer(rebasing: scratch[(Int(type) * n)..<(Int(type) * n + n)])
            apply(type, d)
            var cost = 0
            for v in d { cost += Int(v < 128 ? v : 255 - v + 1) }
            if cost < bestCost { best = type; bestCost = cost }
        }
        destination.baseAddress!.update(from: scratch.baseAddress! + Int(best) * n, count: n)
        return best
    }

    /// The Paeth predictor (spec 9.4): whichever of left, up, up-left is closest to left + up - up-left.
    @inline(__always)
    static func paeth(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt8 {
        let p = Int(a) + Int(b) - Int(c)
        let pa = abs(p - Int(a)), pb = abs(p - Int(b)), pc = abs(p - Int(c))
        return pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
    }
}
