// ZIP archive reader (PKWARE APPNOTE 6.3.x): the central directory at the end, then each member's
// local header and its data, stored or deflated. Enough for Python wheels and PyTorch checkpoints.
//
// Layout: [local file header + data]... [central directory entries] [zip64 end records] [end of
// central directory: signature 0x06054b50, entry count, directory size and offset, comment].
import CZlib

public struct ZipEntry: Sendable {
    public let name: String
    public let method: UInt16
    public let compressedSize: Int
    public let uncompressedSize: Int
    public let crc32: UInt32
    public let localHeaderOffset: Int
}

public final class ZipArchive: @unchecked Sendable {
    public let path: String
    public let entries: [ZipEntry]
    private let file: MappedFile
    private let index: [String: Int]

    public convenience init(path: String) throws { try self.init(file: MappedFile(path: path)) }

    public init(file: MappedFile) throws {
        self.file = file
        path = file.path
        let bytes = file.bytes
        // The end-of-central-directory record is in the last 22 + 65535 bytes.
        var eocd = -1
        var i = bytes.count - 22
        while i >= max(0, bytes.count - 22 - 65535) {
            if bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self) == 0x0605_4b50 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw FormatError.badMagic(file: file.path, expected: "ZIP", found: "no end-of-central-directory record") }
        var r = ByteReader(file: file.path, bytes: bytes, offset: eocd + 10)
        var count = Int(try r.read(UInt16.self, "entry count"))
        var directorySize = Int(try r.read(UInt32.self, "central directory size"))
        var directoryOffset = Int(try r.read(UInt32.self, "central directory offset"))
        if directoryOffset == 0xFFFF_FFFF || count == 0xFFFF {
            // Zip64: the locator sits right before the EOCD record.
            var l = ByteReader(file: file.path, bytes: bytes, offset: max(0, eocd - 20))
            guard try l.read(UInt32.self, "zip64 locator") == 0x0706_4b50 else {
                throw FormatError.invalidValue(file: file.path, field: "zip64 locator", offset: eocd - 20, value: "", reason: "missing")
            }
            l.offset += 4
            let recordOffset = Int(clamping: try l.read(UInt64.self, "zip64 record offset"))
            var z = ByteReader(file: file.path, bytes: bytes, offset: recordOffset)
            guard recordOffset < bytes.count, try z.read(UInt32.self, "zip64 record") == 0x0606_4b50 else {
                throw FormatError.invalidValue(file: file.path, field: "zip64 record", offset: recordOffset, value: "", reason: "missing")
            }
            z.offset += 20
            count = Int(clamping: try z.read(UInt64.self, "zip64 entry count"))
            z.offset += 8
            directorySize = Int(clamping: try z.read(UInt64.self, "zip64 directory size"))
            directoryOffset = Int(clamping: try z.read(UInt64.self, "zip64 directory offset"))
        }
        guard directoryOffset <= bytes.count, directorySize <= bytes.count - directoryOffset, count <= directorySize / 46 + 1 else {
            throw FormatError.invalidValue(file: file.path, field: "central directory", offset: eocd, value: "\(count) entries at \(directoryOffset)",
                                           reason: "lies outside the file")
        }
        var entries: [ZipEntry] = []
        var c = ByteReader(file: file.path, bytes: bytes, offset: directoryOffset)
        for n in 0..<count {
            let at = c.offset
            guard try c.read(UInt32.self, "central entry \(n)") == 0x0201_4b50 else {
                throw FormatError.invalidValue(file: file.path, field: "central entry \(n)", offset: at, value: "", reason: "bad signature")
            }
            c.offset += 6
            let method = try c.read(UInt16.self, "method")
            c.offset += 4
            let crc = try c.read(UInt32.self, "crc32")
            var compressed = Int(try c.read(UInt32.self, "compressed size"))
            var uncompressed = Int(try c.read(UInt32.self, "uncompressed size"))
            let nameLength = Int(try c.read(UInt16.self, "name length"))
            let extraLength = Int(try c.read(UInt16.self, "extra length"))
            let commentLength = Int(try c.read(UInt16.self, "comment length"))
            c.offset += 8
            var localOffset = Int(try c.read(UInt32.self, "local header offset"))
            let name = String(decoding: try c.readBytes(nameLength, "entry name"), as: UTF8.self)
            var extra = ByteReader(file: file.path, bytes: try c.readBytes(extraLength, "extra field"))
            while extra.remaining >= 4 {
                let id = try extra.read(UInt16.self, "extra id"), size = Int(try extra.read(UInt16.self, "extra size"))
                if id == 0x0001 {
                    var z = ByteReader(file: file.path, bytes: try extra.readBytes(size, "zip64 extra"))
                    if uncompressed == 0xFFFF_FFFF { uncompressed = Int(clamping: try z.read(UInt64.self, "zip64 size")) }
                    if compressed == 0xFFFF_FFFF { compressed = Int(clamping: try z.read(UInt64.self, "zip64 compressed")) }
                    if localOffset == 0xFFFF_FFFF { localOffset = Int(clamping: try z.read(UInt64.self, "zip64 offset")) }
                } else {
                    extra.offset += min(size, extra.remaining)
                }
            }
            c.offset += commentLength
            entries.append(ZipEntry(name: name, method: method, compressedSize: compressed, uncompressedSize: uncompressed,
                                    crc32: crc, localHeaderOffset: localOffset))
        }
        self.entries = entries
        index = Dictionary(entries.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    public func entry(_ name: String) -> ZipEntry? { index[name].map { entries[$0] } }

    /// The raw (possibly compressed) bytes of a member, in place.
    public func rawData(_ entry: ZipEntry) throws -> UnsafeRawBufferPointer {
        var r = ByteReader(file: path, bytes: file.bytes, offset: entry.localHeaderOffset)
        guard entry.localHeaderOffset < file.size, try r.read(UInt32.self, "local header of \(entry.name)") == 0x0403_4b50 else {
            throw FormatError.invalidValue(file: path, field: "local header of \(entry.name)", offset: entry.localHeaderOffset, value: "", reason: "bad signature")
        }
        r.offset += 22
        let nameLength = Int(try r.read(UInt16.self, "name length")), extraLength = Int(try r.read(UInt16.self, "extra length"))
        r.offset += nameLength + extraLength
        return try r.readBytes(entry.compressedSize, "data of \(entry.name)")
    }

    /// A stored (uncompressed) member's bytes in place — PyTorch checkpoints store tensors this way.
    public func storedData(_ entry: ZipEntry) throws -> UnsafeRawBufferPointer? {
        entry.method == 0 ? try rawData(entry) : nil
    }

    /// Decompresses a member chunk by chunk into `sink` (stored or deflated), checking its CRC-32.
    public func extract(_ entry: ZipEntry, chunk: Int = 1 << 20, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let raw = try rawData(entry)
        var crc = crc32(0, nil, 0)
        var produced = 0
        switch entry.method {
        case 0:
            var offset = 0
            while offset < raw.count {
                let piece = UnsafeRawBufferPointer(rebasing: raw[offset..<min(raw.count, offset + chunk)])
                crc = crc32(crc, piece.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(piece.count))
                try sink(piece)
                offset += piece.count
            }
            produced = raw.count
        case 8:
            var stream = z_stream()
            guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                throw FormatError.invalidValue(file: path, field: entry.name, offset: entry.localHeaderOffset, value: "", reason: "zlib init failed")
            }
            defer { inflateEnd(&stream) }
            let output = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
            defer { output.deallocate() }
            stream.next_in = UnsafeMutablePointer(mutating: raw.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(raw.count)
            var status: Int32 = Z_OK
            repeat {
                stream.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(chunk)
                status = inflate(&stream, Z_NO_FLUSH)
                guard status == Z_OK || status == Z_STREAM_END else {
                    throw FormatError.invalidValue(file: path, field: "deflate data of \(entry.name)", offset: entry.localHeaderOffset,
                                                   value: "zlib status \(status)", reason: "corrupt or truncated")
                }
                let n = chunk - Int(stream.avail_out)
                crc = crc32(crc, output.baseAddress!.assumingMemoryBound(to: Bytef.self), uInt(n))
                produced += n
                try sink(UnsafeRawBufferPointer(rebasing: output[0..<n]))
                if status != Z_STREAM_END && stream.avail_in == 0 && n == 0 {
                    throw FormatError.truncated(file: path, field: "deflate data of \(entry.name)", offset: entry.localHeaderOffset,
                                                need: entry.compressedSize, fileSize: file.size)
                }
            } while status != Z_STREAM_END
        default:
            throw FormatError.invalidValue(file: path, field: "compression of \(entry.name)", offset: entry.localHeaderOffset,
                                           value: String(entry.method), reason: "only stored (0) and deflate (8) are supported")
        }
        guard produced == entry.uncompressedSize, UInt32(crc) == entry.crc32 else {
            throw FormatError.invalidValue(file: path, field: entry.name, offset: entry.localHeaderOffset, value: "crc \(crc)",
                                           reason: "CRC-32 or size mismatch: the archive is corrupt")
        }
    }
}
