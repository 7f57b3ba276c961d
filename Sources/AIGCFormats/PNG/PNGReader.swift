// PNG decoder: chunk structure, IHDR/PLTE/tRNS/IDAT/IEND and the tEXt/zTXt/iTXt text chunks.
// Spec: PNG (Third Edition), W3C Recommendation 2025 — https://www.w3.org/TR/png-3/
//
// Layout: signature 89 50 4E 47 0D 0A 1A 0A, then chunks of
//   u32 BE length (< 2^31) | type: 4 ASCII letters | data | u32 BE CRC-32 of type + data.
// IHDR (13 bytes: u32 width, u32 height, bit depth, colour type, compression 0, filter 0, interlace)
// comes first; PLTE (3-byte RGB entries) before the first IDAT; the IDAT chunks are consecutive and
// hold one zlib stream of filtered rows; IEND is last. A type whose first letter is upper case is
// critical: a reader that does not know it must stop. Colour types: 0 gray (1/2/4/8/16 bits),
// 2 RGB (8/16), 3 palette (1/2/4/8), 4 gray+alpha (8/16), 6 RGBA (8/16).
//
// Supported: every colour type and bit depth, all five filter types, tRNS (palette alpha or a
// colour key), text chunks. Output is always 8-bit (see PNGReader+Pixels). Adam7 interlacing is
// refused with a clear error. Every problem is a FormatError naming the chunk and its offset.

/// Decodes PNG files into `PNGImage`s.
public enum PNGReader {
    /// The largest image accepted: width * height * 4 may not exceed this (256 MiB).
    public static let maxPixelBytes = 256 << 20
    /// The most bytes a compressed text chunk may inflate to.
    public static let maxTextBytes = 16 << 20

    /// Reads and decodes the PNG file at `path`.
    public static func read(path: String) throws -> PNGImage {
        let file = try MappedFile(path: path)
        return try decode(file.bytes, file: path)
    }

    /// Decodes PNG bytes held in memory; `file` names them in errors.
    public static func decode(_ bytes: [UInt8], file: String = "<memory>.png") throws -> PNGImage {
        try bytes.withUnsafeBytes { try decode($0, file: file) }
    }

    /// Decodes PNG bytes; `file` names them in errors.
    public static func decode(_ bytes: UnsafeRawBufferPointer, file: String) throws -> PNGImage {
        let parts = try PNGChunks(bytes, file: file)
        let pixels = try parts.decodePixels()
        return PNGImage(width: parts.header.width, height: parts.header.height, channels: pixels.channels, pixels: pixels.samples,
                        textChunks: parts.texts)
    }
}

/// IHDR: the image's size and sample format.
struct PNGHeader {
    let width: Int, height: Int, bitDepth: Int, colorType: Int

    /// Samples per pixel as stored in the file.
    var fileChannels: Int { [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colorType]! }
}

/// The chunks of one PNG file, checked and sorted out; `decodePixels` (PNGReader+Pixels) does the rest.
struct PNGChunks {
    let file: String
    var header: PNGHeader!
    var palette: [UInt8]?
    var transparency: [UInt8]?
    var idat: [UnsafeRawBufferPointer] = []
    var idatOffset = 0
    var texts: [PNGTextChunk] = []

    static let validDepths: [Int: Set<Int>] = [0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]]

    func fail(_ type: String, _ offset: Int, _ value: String, _ reason: String) -> FormatError {
        .invalidValue(file: file, field: "\(type) chunk", offset: offset, value: value, reason: reason)
    }

    init(_ bytes: UnsafeRawBufferPointer, file: String) throws {
        self.file = file
        var r = ByteReader(file: file, bytes: bytes)
        let signature = try r.readBytes(min(8, bytes.count), "PNG signature")
        guard Array(signature) == PNGWriter.signature else {
            throw FormatError.invalidValue(file: file, field: "PNG signature", offset: 0, value: signature.map { String($0, radix: 16) }.joined(separator: " "),
                                           reason: "not a PNG file (expected 89 50 4e 47 0d 0a 1a 0a)")
        }
        var idatClosed = false
        while true {
            let start = r.offset
            guard r.remaining > 0 else {
                throw FormatError.truncated(file: file, field: "IEND chunk (the file ends before it)", offset: start, need: 12, fileSize: bytes.count)
            }
            let length = try r.read(UInt32.self, "chunk length").byteSwapped
            let typeBytes = try r.readBytes(4, "chunk type")
            let type = Latin1.decode(typeBytes)
            guard typeBytes.allSatisfy({ (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) else {
                throw fail("chunk type", start + 4, typeBytes.map { String($0, radix: 16) }.joined(separator: " "), "not four ASCII letters: the file is corrupt")
            }
            guard length <= UInt32(Int32.max) else { throw fail(type, start, "length \(length)", "chunk lengths are below 2^31") }
            let data = try r.readBytes(Int(length), "\(type) chunk data")
            let stored = try r.read(UInt32.self, "\(type) chunk CRC").byteSwapped
            let computed = PNGZlib.crc(type: typeBytes, data: data)
            guard stored == computed else {
                throw fail(type, start, "CRC \(hex(stored))", "CRC mismatch (computed \(hex(computed))): the file is corrupt")
            }
            if header == nil && type != "IHDR" { throw fail(type, start, "", "the first chunk must be IHDR") }
            if !idat.isEmpty && type != "IDAT" { idatClosed = true }
            switch type {
            case "IHDR":
                guard header == nil else { throw fail(type, start, "", "more than one IHDR") }
                header = try parseHeader(data, at: start)
            case "PLTE": try parsePalette(data, at: start)
            case "tRNS": try parseTransparency(data, at: start)
            case "IDAT":
                guard !idatClosed else { throw fail(type, start, "", "IDAT chunks must be consecutive") }
                if idat.isEmpty { idatOffset = start }
                idat.append(data)
            case "IEND":
                guard !idat.isEmpty else { throw fail("IDAT", start, "", "the file has no image data before IEND") }
                if header.colorType == 3 && palette == nil { throw fail("PLTE", start, "", "a palette image needs a PLTE chunk") }
                return
            case "tEXt", "zTXt", "iTXt": texts.append(try parseText(type, data, at: start))
            default:
                if typeBytes[0] & 0x20 == 0 {
                    throw fail(type, start, type, "unknown critical chunk '\(type)': this decoder cannot show the image correctly without it")
                }
            }
        }
    }

    func hex(_ v: UInt32) -> String { "0x" + String(v, radix: 16) }

    func parseHeader(_ data: UnsafeRawBufferPointer, at offset: Int) throws -> PNGHeader {
        guard data.count == 13 else { throw fail("IHDR", offset, "\(data.count) bytes", "IHDR holds 13 bytes") }
        var r = ByteReader(file: file, bytes: data)
        let width = Int(try r.read(UInt32.self, "IHDR width").byteSwapped), height = Int(try r.read(UInt32.self, "IHDR height").byteSwapped)
        let depth = Int(data[8]), color = Int(data[9])
        guard (1...Int(Int32.max)).contains(width), (1...Int(Int32.max)).contains(height) else {
            throw fail("IHDR", offset, "\(width)x\(height)", "width and height are 1...2^31-1")
        }
        let (area, o1) = width.multipliedReportingOverflow(by: height)
        let (bytes, o2) = area.multipliedReportingOverflow(by: 4)
        guard !o1, !o2, bytes <= PNGReader.maxPixelBytes else {
            throw fail("IHDR", offset, "\(width)x\(height)", "larger than the \(PNGReader.maxPixelBytes >> 20) MiB limit for width * height * 4")
        }
        guard let depths = PNGChunks.validDepths[color], depths.contains(depth) else {
            throw fail("IHDR", offset, "colour type \(color), bit depth \(depth)", "not a combination PNG allows")
        }
        guard data[10] == 0, data[11] == 0 else { throw fail("IHDR", offset, "method \(data[10])/\(data[11])", "compression and filter methods must be 0") }
        guard data[12] == 0 else {
            throw fail("IHDR", offset, "interlace \(data[12])", data[12] == 1 ? "Adam7 interlaced PNGs are not supported; re-save the image without interlacing" : "unknown interlace method")
        }
        return PNGHeader(width: width, height: height, bitDepth: depth, colorType: color)
    }

    mutating func parsePalette(_ data: UnsafeRawBufferPointer, at offset: Int) throws {
        guard palette == nil, idat.isEmpty else { throw fail("PLTE", offset, "", "one PLTE, before the image data") }
        guard header.colorType != 0, header.colorType != 4 else { throw fail("PLTE", offset, "", "gray images may not have a palette") }
        let entries = data.count / 3
        guard data.count % 3 == 0, (1...256).contains(entries), header.colorType != 3 || entries <= 1 << header.bitDepth else {
            throw fail("PLTE", offset, "\(data.count) bytes", "a palette has 1...\(header.colorType == 3 ? 1 << header.bitDepth : 256) RGB entries")
        }
        if header.colorType == 3 { palette = Array(data) }
    }

    mutating func parseTransparency(_ data: UnsafeRawBufferPointer, at offset: Int) throws {
        guard transparency == nil, idat.isEmpty else { throw fail("tRNS", offset, "", "one tRNS, before the image data") }
        switch header.colorType {
        case 3:
            guard let palette, data.count <= palette.count / 3 else { throw fail("tRNS", offset, "\(data.count) bytes", "needs a PLTE first and at most one alpha per entry") }
        case 0, 2:
            let need = header.colorType == 0 ? 2 : 6
            guard data.count == need else { throw fail("tRNS", offset, "\(data.count) bytes", "a colour key of this colour type holds \(need) bytes") }
        default:
            return  // colour types 4 and 6 carry alpha already; the spec forbids tRNS, readers ignore it
        }
        transparency = Array(data)
    }

    /// tEXt: keyword NUL Latin-1 text. zTXt: keyword NUL method deflated-Latin-1. iTXt: keyword NUL
    /// flag method language NUL translated-keyword NUL UTF-8 text (deflated when flag is 1).
    func parseText(_ type: String, _ data: UnsafeRawBufferPointer, at offset: Int) throws -> PNGTextChunk {
        guard let nul = data.firstIndex(of: 0), (1...79).contains(nul) else {
            throw fail(type, offset, "", "the keyword must be 1-79 bytes followed by NUL")
        }
        let keyword = Latin1.decode(data[0..<nul])
        var rest = UnsafeRawBufferPointer(rebasing: data[(nul + 1)...])
        func inflated(_ bytes: UnsafeRawBufferPointer) throws -> [UInt8] {
            switch PNGZlib.inflate(bytes, limit: PNGReader.maxTextBytes) {
            case let .success(out): return out
            case let .failure(failure): throw fail(type, offset, "text of '\(keyword)'", failure.reason)
            }
        }
        switch type {
        case "tEXt":
            return PNGTextChunk(.tEXt, keyword: keyword, text: Latin1.decode(rest))
        case "zTXt":
            guard rest.first == 0 else { throw fail(type, offset, "method \(rest.first.map(String.init) ?? "missing")", "compression method must be 0") }
            return PNGTextChunk(.zTXt, keyword: keyword, text: Latin1.decode(try inflated(UnsafeRawBufferPointer(rebasing: rest[1...]))))
        default:
            guard rest.count >= 2, rest[0] <= 1, rest[1] == 0 else { throw fail(type, offset, "", "compression flag must be 0 or 1 and method 0") }
            let compressed = rest[0] == 1
            rest = UnsafeRawBufferPointer(rebasing: rest[2...])
            func field(_ name: String) throws -> String {
                guard let end = rest.firstIndex(of: 0) else { throw fail(type, offset, "", "the \(name) must end with NUL") }
                guard let text = String(validating: rest[..<end], as: UTF8.self) else { throw fail(type, offset, "", "the \(name) is not UTF-8") }
                rest = UnsafeRawBufferPointer(rebasing: rest[(end + 1)...])
                return text
            }
            let language = try field("language tag"), translated = try field("translated keyword")
            let raw = compressed ? try inflated(rest) : Array(rest)
            guard let text = String(validating: raw, as: UTF8.self) else { throw fail(type, offset, "text of '\(keyword)'", "not valid UTF-8") }
            return PNGTextChunk(.iTXt, keyword: keyword, text: text, languageTag: language, translatedKeyword: translated, compressed: compressed)
        }
    }
}
