// MappedFile: a read-only memory map of a whole file, plus a bounds-checked reader over bytes.
#if canImport(Glibc)
import Glibc
#endif

/// A file mapped read-only into memory (mmap, MAP_PRIVATE); the mapping lives as long as the object.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let base: UnsafeRawPointer
    public let size: Int

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            if errno == ENOENT { throw FormatError.missingFile(path: path, hint: "Check the path, or run `aigc models` to list installed models.") }
            throw FormatError.cannotOpen(file: path, reason: reason)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FormatError.cannotOpen(file: path, reason: String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw FormatError.cannotOpen(file: path, reason: "not a regular file") }
        size = Int(info.st_size)
        if size == 0 {
            // mmap cannot map zero bytes; an empty file still has to produce a clean "truncated" error.
            base = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 64))
            return
        }
        guard let pointer = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), pointer != MAP_FAILED else {
            throw FormatError.cannotOpen(file: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        base = UnsafeRawPointer(pointer)
    }

    private var isMapped = true

    /// An in-memory copy of `bytes` that reads like a mapped file named `path` (tests, fuzzing).
    public init(copying bytes: [UInt8], path: String) {
        self.path = path
        size = bytes.count
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: max(1, bytes.count), alignment: 64)
        bytes.withUnsafeBytes { if let b = $0.baseAddress { pointer.copyMemory(from: b, byteCount: bytes.count) } }
        base = UnsafeRawPointer(pointer)
        isMapped = false
    }

    deinit {
        if size == 0 || !isMapped { UnsafeMutableRawPointer(mutating: base).deallocate() } else { munmap(UnsafeMutableRawPointer(mutating: base), size) }
    }

    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: size) }
}

/// Reads little-endian values from a byte range, checking every read against the end.
public struct ByteReader {
    public let file: String
    public let bytes: UnsafeRawBufferPointer
    public var offset: Int

    public init(file: String, bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.file = file
        self.bytes = bytes
        self.offset = offset
    }

    public var remaining: Int { bytes.count - offset }

    public func need(_ count: Int, _ field: @autoclosure () -> String) throws {
        if count < 0 || count > remaining {
            throw FormatError.truncated(file: file, field: field(), offset: offset, need: count, fileSize: bytes.count)
        }
    }

    public mutating func read<T: FixedWidthInteger>(_: T.Type, _ field: @autoclosure () -> String) throws -> T {
        try need(MemoryLayout<T>.size, field())
        let value = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: value)
    }

    public mutating func readFloat(_ field: @autoclosure () -> String) throws -> Float {
        Float(bitPattern: try read(UInt32.self, field()))
    }

    public mutating func readDouble(_ field: @autoclosure () -> String) throws -> Double {
        Double(bitPattern: try read(UInt64.self, field()))
    }

    public mutating func readBytes(_ count: Int, _ field: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        try need(count, field())
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
        offset += count
        return slice
    }

    /// UTF-8 text of `count` bytes; invalid sequences are an error naming the field.
    public mutating func readString(_ count: Int, _ field: @autoclosure () -> String) throws -> String {
        let start = offset
        let raw = try readBytes(count, field())
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw FormatError.invalidValue(file: file, field: field(), offset: start, value: "\(count) bytes", reason: "not valid UTF-8")
        }
        return text
    }
}
