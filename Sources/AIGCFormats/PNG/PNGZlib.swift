// zlib (RFC 1950) streams and CRC-32 for PNG: IDAT and zTXt/iTXt payloads are zlib streams, and
// every chunk ends with the CRC-32 of its type and data (PNG spec 5.3, ISO 3309 polynomial).
import CZlib

enum PNGZlib {
    /// CRC-32 of `type` followed by `data`, as a chunk's trailer holds it.
    static func crc(type: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer) -> UInt32 {
        var c = crc32(0, type.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(type.count))
        if data.count > 0 { c = crc32(c, data.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(data.count)) }
        return UInt32(c)
    }

    /// A complete zlib stream of `bytes` at `level` (0-9), through compress2.
    static func compress(_ bytes: UnsafeRawBufferPointer, level: Int32) -> [UInt8] {
        var size = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        let status = out.withUnsafeMutableBytes { o in
            compress2(o.baseAddress!.assumingMemoryBound(to: Bytef.self), &size,
                      bytes.baseAddress?.assumingMemoryBound(to: Bytef.self) ?? UnsafePointer(o.baseAddress!.assumingMemoryBound(to: Bytef.self)),
                      uLong(bytes.count), level)
        }
        precondition(status == Z_OK, "compress2 failed with status \(status) (out of memory?)")
        out.removeSubrange(Int(size)...)
        return out
    }

    static func compress(_ bytes: [UInt8], level: Int32 = 9) -> [UInt8] { bytes.withUnsafeBytes { compress($0, level: level) } }

    enum InflateOutcome: Equatable {
        /// The stream ended; `produced` bytes were written.
        case complete(produced: Int)
        /// The input ran out before the stream ended.
        case truncated(produced: Int)
        /// The output is full but the stream goes on.
        case overflow
        /// zlib reported corrupt data.
        case corrupt(status: Int32, message: String)
    }

    /// Inflates the concatenation of `pieces` (e.g. all IDAT chunks) into `output` (not empty).
    static func inflate(_ pieces: [UnsafeRawBufferPointer], into output: UnsafeMutableRawBufferPointer) -> InflateOutcome {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            return .corrupt(status: Z_MEM_ERROR, message: "zlib init failed")
        }
        defer { inflateEnd(&stream) }
        precondition(output.count > 0, "inflate needs room for output")
        stream.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = uInt(output.count)
        for piece in pieces where piece.count > 0 {
            stream.next_in = UnsafeMutablePointer(mutating: piece.baseAddress!.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(piece.count)
            while stream.avail_in > 0 {
                // With the output full, zlib may still consume the end of the stream (its checksum).
                let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                if status == Z_STREAM_END { return .complete(produced: output.count - Int(stream.avail_out)) }
                guard status == Z_OK else {
                    let message = stream.msg.map { String(cString: $0) } ?? "status \(status)"
                    return status == Z_BUF_ERROR && stream.avail_out == 0 ? .overflow : .corrupt(status: status, message: message)
                }
            }
        }
        return .truncated(produced: output.count - Int(stream.avail_out))
    }

    /// Inflates a whole small stream (zTXt/iTXt text), refusing output over `limit` bytes.
    static func inflate(_ bytes: UnsafeRawBufferPointer, limit: Int) -> Result<[UInt8], InflateFailure> {
        var size = max(256, min(limit, bytes.count * 4))
        while true {
            var out = [UInt8](repeating: 0, count: size)
            let outcome = out.withUnsafeMutableBytes { inflate([bytes], into: $0) }
            switch outcome {
            case let .complete(produced):
                out.removeSubrange(produced...)
                return .success(out)
            case .overflow:
                guard size < limit else { return .failure(.tooLarge) }
                size = min(limit, size * 4)
            case .truncated: return .failure(.truncated)
            case let .corrupt(_, message): return .failure(.corrupt(message))
            }
        }
    }

    enum InflateFailure: Error, Equatable {
        case tooLarge, truncated, corrupt(String)

        var reason: String {
            switch self {
            case .tooLarge: "decompresses to more than the limit (a zip bomb?)"
            case .truncated: "the zlib stream ends early"
            case let .corrupt(message): "corrupt zlib data (\(message))"
            }
        }
    }
}
