// GGUF reader (versions 2 and 3), following the spec in ggml/docs/gguf.md.
//
// Layout, all little-endian:
//   u32 magic "GGUF" | u32 version | u64 tensor_count | u64 metadata_kv_count
//   metadata_kv_count × { string key | u32 value_type | value }
//   tensor_count × { string name | u32 n_dims | u64 dims[n_dims] (innermost first) | u32 ggml_type | u64 offset }
//   padding to `general.alignment` (default 32)
//   tensor data; each tensor at data_start + offset (offsets aligned)
// where string = u64 length + UTF-8 bytes (no terminator), and an array value is
// u32 element_type + u64 count + elements. Version 1 (u32 counts) is not supported.
import AIGCTensor

/// One metadata value of a GGUF file.
public enum GGUFValue: Sendable, Equatable, CustomStringConvertible {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    case array(GGUFValueType, [GGUFValue])

    /// The value as an integer, for any integer type (or a bool).
    public var int: Int? {
        switch self {
        case let .uint8(v): Int(v)
        case let .int8(v): Int(v)
        case let .uint16(v): Int(v)
        case let .int16(v): Int(v)
        case let .uint32(v): Int(v)
        case let .int32(v): Int(v)
        case let .uint64(v): Int(exactly: v)
        case let .int64(v): Int(v)
        case let .bool(v): v ? 1 : 0
        default: nil
        }
    }

    public var float: Double? {
        switch self {
        case let .float32(v): Double(v)
        case let .float64(v): v
        default: int.map(Double.init)
        }
    }

    public var bool: Bool? {
        if case let .bool(v) = self { return v }
        return int.map { $0 != 0 }
    }

    public var string: String? {
        if case let .string(v) = self { return v }
        return nil
    }

    public var array: [GGUFValue]? {
        if case let .array(_, v) = self { return v }
        return nil
    }

    public var description: String {
        switch self {
        case let .string(s): return s.count > 80 ? "\"\(s.prefix(77))...\"" : "\"\(s)\""
        case let .array(type, values): return "[\(type); \(values.count) values]"
        case let .bool(b): return String(b)
        case let .float32(f): return String(f)
        case let .float64(f): return String(f)
        default: return String(int ?? 0)
        }
    }
}

/// GGUF metadata value type ids.
public enum GGUFValueType: UInt32, Sendable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// Smallest number of bytes one value of this type occupies (bounds array counts before allocating).
    var minimumSize: Int {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64, .string: 8
        case .array: 12
        }
    }
}

/// Where a tensor's data lies in a GGUF file.
public struct GGUFTensorInfo: Sendable {
    public let name: String
    /// Outermost-first (reversed from the file's innermost-first order).
    public let shape: [Int]
    public let dtype: DType
    /// Absolute byte offset in the file.
    public let fileOffset: Int
    public let byteCount: Int
}

/// A parsed, memory-mapped GGUF file. Tensors are views into the mapping (no copy).
public final class GGUFFile: WeightSource, @unchecked Sendable {
    public let path: String
    public let version: Int
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    public let tensorInfos: [GGUFTensorInfo]
    public let alignment: Int
    public let dataOffset: Int
    private let file: MappedFile
    private let storage: TensorStorage
    private let tensorIndex: [String: Int]

    public static let magic: UInt32 = 0x4655_4747 // "GGUF" read little-endian
    static let maxDimensions = 4
    static let maxNesting = 4

    public convenience init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws {
        self.file = file
        self.path = file.path
        var reader = ByteReader(file: file.path, bytes: file.bytes)
        let magic = try reader.read(UInt32.self, "magic")
        guard magic == GGUFFile.magic else {
            let found = withUnsafeBytes(of: magic.littleEndian) { Array($0) }.map { String(format02x: $0) }.joined(separator: " ")
            throw FormatError.badMagic(file: file.path, expected: "GGUF", found: found)
        }
        let rawVersion = try reader.read(UInt32.self, "version")
        if rawVersion > 0xFFFF && rawVersion.byteSwapped <= 3 {
            throw FormatError.invalidValue(file: file.path, field: "version", offset: 4, value: String(rawVersion),
                                           reason: "this is a big-endian GGUF file; only little-endian files are supported")
        }
        guard rawVersion == 2 || rawVersion == 3 else {
            throw FormatError.unsupportedVersion(file: file.path, version: Int(rawVersion), supported: "2, 3")
        }
        version = Int(rawVersion)
        let tensorCountOffset = reader.offset
        let tensorCount = try reader.read(UInt64.self, "tensor_count")
        let kvCountOffset = reader.offset
        let kvCount = try reader.read(UInt64.self, "metadata_kv_count")
        // Each key/value takes at least 8 (key length) + 4 (type) + 1 bytes, each tensor info 8+4+4+8.
        guard kvCount <= UInt64(reader.remaining / 13) else {
            throw FormatError.invalidValue(file: file.path, field: "metadata_kv_count", offset: kvCountOffset, value: String(kvCount),
                                           reason: "more entries than the file has room for")
        }
        guard tensorCount <= UInt64(reader.remaining / 24) else {
            throw FormatError.invalidValue(file: file.path, field: "tensor_count", offset: tensorCountOffset, value: String(tensorCount),
                                           reason: "more tensors than the file has room for")
        }

        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        for index in 0..<Int(kvCount) {
            let key = try GGUFFile.readString(&reader, "metadata key #\(index)")
            let typeOffset = reader.offset
            let rawType = try reader.read(UInt32.self, "type of '\(key)'")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw FormatError.invalidValue(file: file.path, field: "type of '\(key)'", offset: typeOffset, value: String(rawType),
                                               reason: "not a GGUF value type (0...12)")
            }
            let value = try GGUFFile.readValue(&reader, type: type, field: key, depth: 0)
            if metadata.updateValue(value, forKey: key) != nil {
                throw FormatError.invalidValue(file: file.path, field: "metadata key", offset: typeOffset, value: key, reason: "duplicate key")
            }
            keys.append(key)
        }
        metadata.reserveCapacity(keys.count)
        self.metadata = metadata
        self.metadataKeys = keys

        var alignment = 32
        if let value = metadata["general.alignment"] {
            guard let a = value.int, a > 0, a <= 1 << 20, a & (a - 1) == 0 else {
                throw FormatError.invalidValue(file: file.path, field: "general.alignment", offset: 0, value: value.description,
                                               reason: "must be a power of two")
            }
            alignment = a
        }
        self.alignment = alignment

        struct Pending { let name: String; let shape: [Int]; let dtype: DType; let offset: Int; let bytes: Int; let at: Int }
        var pending: [Pending] = []
        var index: [String: Int] = [:]
        for t in 0..<Int(tensorCount) {
            let infoOffset = reader.offset
            let name = try GGUFFile.readString(&reader, "name of tensor #\(t)")
            let dimsOffset = reader.offset
            let nDims = try reader.read(UInt32.self, "n_dims of '\(name)'")
            guard nDims >= 1 && nDims <= GGUFFile.maxDimensions else {
                throw FormatError.invalidValue(file: file.path, field: "n_dims of '\(name)'", offset: dimsOffset, value: String(nDims),
                                               reason: "must be 1...\(GGUFFile.maxDimensions)")
            }
            var dims: [Int] = []
            var elements = 1
            for d in 0..<Int(nDims) {
                let dimOffset = reader.offset
                let dim = try reader.read(UInt64.self, "dimension \(d) of '\(name)'")
                guard dim >= 1, dim <= UInt64(Int32.max) else {
                    throw FormatError.invalidValue(file: file.path, field: "dimension \(d) of '\(name)'", offset: dimOffset,
                                                   value: String(dim), reason: "must be between 1 and 2^31-1")
                }
                let (product, overflow) = elements.multipliedReportingOverflow(by: Int(dim))
                guard !overflow, product <= file.size * 8 + 64 else {
                    throw FormatError.invalidValue(file: file.path, field: "dimensions of '\(name)'", offset: dimOffset,
                                                   value: "\(dims + [Int(dim)])", reason: "more elements than the file can hold")
                }
                elements = product
                dims.append(Int(dim))
            }
            let typeOffset = reader.offset
            let rawType = try reader.read(UInt32.self, "type of '\(name)'")
            guard let dtype = DType(rawValue: Int32(bitPattern: rawType)), dtype.blockBytes > 0 else {
                throw FormatError.unknownTensorType(file: file.path, tensor: name, offset: typeOffset, type: Int(rawType))
            }
            guard dims[0] % dtype.blockElements == 0, let bytes = dtype.byteCount(elements: elements) else {
                throw FormatError.invalidValue(file: file.path, field: "dimension 0 of '\(name)'", offset: dimsOffset, value: String(dims[0]),
                                               reason: "not a multiple of the \(dtype) block size \(dtype.blockElements)")
            }
            let offsetAt = reader.offset
            let relative = try reader.read(UInt64.self, "data offset of '\(name)'")
            guard relative <= UInt64(file.size), Int(relative) % alignment == 0 else {
                throw FormatError.invalidValue(file: file.path, field: "data offset of '\(name)'", offset: offsetAt, value: String(relative),
                                               reason: relative > UInt64(file.size) ? "past the end of the file" : "not aligned to \(alignment)")
            }
            guard index[name] == nil else {
                throw FormatError.invalidValue(file: file.path, field: "tensor name", offset: infoOffset, value: name, reason: "duplicate tensor")
            }
            index[name] = pending.count
            pending.append(Pending(name: name, shape: dims.reversed(), dtype: dtype, offset: Int(relative), bytes: bytes, at: offsetAt))
        }
        let dataOffset = (reader.offset + alignment - 1) / alignment * alignment
        self.dataOffset = dataOffset
        var infos: [GGUFTensorInfo] = []
        infos.reserveCapacity(pending.count)
        for p in pending {
            let start = dataOffset + p.offset
            let (end, overflow) = start.addingReportingOverflow(p.bytes)
            guard !overflow, end <= file.size else {
                throw FormatError.tensorOutOfBounds(file: file.path, tensor: p.name, offset: start, end: overflow ? Int.max : end, fileSize: file.size)
            }
            infos.append(GGUFTensorInfo(name: p.name, shape: p.shape, dtype: p.dtype, fileOffset: start, byteCount: p.bytes))
        }
        tensorInfos = infos
        tensorIndex = index
        storage = TensorStorage(base: file.base, byteCount: file.size, owner: file)
    }

    static func readString(_ reader: inout ByteReader, _ field: @autoclosure () -> String) throws -> String {
        let lengthOffset = reader.offset
        let length = try reader.read(UInt64.self, field() + " length")
        if length == 0 { return "" }
        guard length <= UInt64(reader.remaining) else {
            throw FormatError.truncated(file: reader.file, field: field(), offset: lengthOffset + 8, need: Int(clamping: length),
                                        fileSize: reader.bytes.count)
        }
        return try reader.readString(Int(length), field())
    }

    /// One value; `field` (the key, or key[index]) is only built when an error needs it.
    static func readValue(_ reader: inout ByteReader, type: GGUFValueType, field: @autoclosure () -> String, depth: Int) throws -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try reader.read(UInt8.self, field()))
        case .int8: return .int8(try reader.read(Int8.self, field()))
        case .uint16: return .uint16(try reader.read(UInt16.self, field()))
        case .int16: return .int16(try reader.read(Int16.self, field()))
        case .uint32: return .uint32(try reader.read(UInt32.self, field()))
        case .int32: return .int32(try reader.read(Int32.self, field()))
        case .uint64: return .uint64(try reader.read(UInt64.self, field()))
        case .int64: return .int64(try reader.read(Int64.self, field()))
        case .float32: return .float32(try reader.readFloat(field()))
        case .float64: return .float64(try reader.readDouble(field()))
        case .bool:
            let at = reader.offset
            let b = try reader.read(UInt8.self, field())
            guard b <= 1 else {
                throw FormatError.invalidValue(file: reader.file, field: field(), offset: at, value: String(b), reason: "a bool must be 0 or 1")
            }
            return .bool(b == 1)
        case .string: return .string(try readString(&reader, field()))
        case .array:
            let at = reader.offset
            let rawType = try reader.read(UInt32.self, field() + " element type")
            guard let elementType = GGUFValueType(rawValue: rawType) else {
                throw FormatError.invalidValue(file: reader.file, field: field() + " element type", offset: at, value: String(rawType),
                                               reason: "not a GGUF value type (0...12)")
            }
            guard depth < maxNesting || elementType != .array else {
                throw FormatError.invalidValue(file: reader.file, field: field(), offset: at, value: "depth \(depth + 1)", reason: "arrays nested too deeply")
            }
            let countAt = reader.offset
            let count = try reader.read(UInt64.self, field() + " count")
            guard count <= UInt64(reader.remaining / elementType.minimumSize) else {
                throw FormatError.invalidValue(file: reader.file, field: field() + " count", offset: countAt, value: String(count),
                                               reason: "more elements than the file has room for")
            }
            var values: [GGUFValue] = []
            values.reserveCapacity(Int(count))
            for i in 0..<Int(count) {
                values.append(try readValue(&reader, type: elementType, field: "\(field())[\(i)]", depth: depth + 1))
            }
            return .array(elementType, values)
        }
    }

    // MARK: WeightSource

    public var sourceName: String { path }
    public var tensorNames: [String] { tensorInfos.map(\.name) }
    public var fileSize: Int { file.size }

    public func tensorIfPresent(_ name: String) -> Tensor? {
        guard let i = tensorIndex[name] else { return nil }
        let info = tensorInfos[i]
        return Tensor(name: name, dtype: info.dtype, shape: info.shape, storage: storage, offset: info.fileOffset)
    }

    // MARK: typed metadata access

    public func string(_ key: String) -> String? { metadata[key]?.string }
    public func int(_ key: String) -> Int? { metadata[key]?.int }
    public func float(_ key: String) -> Double? { metadata[key]?.float }
    public func bool(_ key: String) -> Bool? { metadata[key]?.bool }

    public func requireInt(_ key: String) throws -> Int {
        guard let value = metadata[key] else { throw FormatError.missingKey(file: path, key: key) }
        guard let v = value.int else {
            throw FormatError.invalidValue(file: path, field: key, offset: 0, value: value.description, reason: "expected an integer")
        }
        return v
    }

    public func stringArray(_ key: String) throws -> [String]? {
        guard let value = metadata[key] else { return nil }
        guard case let .array(.string, items) = value else {
            throw FormatError.invalidValue(file: path, field: key, offset: 0, value: value.description, reason: "expected an array of strings")
        }
        return items.map { $0.string ?? "" }
    }

    public func floatArray(_ key: String) throws -> [Float]? {
        guard let value = metadata[key] else { return nil }
        guard let items = value.array, let floats = Optional(items.compactMap(\.float)), floats.count == items.count else {
            throw FormatError.invalidValue(file: path, field: key, offset: 0, value: value.description, reason: "expected an array of numbers")
        }
        return floats.map(Float.init)
    }

    public func intArray(_ key: String) throws -> [Int]? {
        guard let value = metadata[key] else { return nil }
        guard let items = value.array, let ints = Optional(items.compactMap(\.int)), ints.count == items.count else {
            throw FormatError.invalidValue(file: path, field: key, offset: 0, value: value.description, reason: "expected an array of integers")
        }
        return ints
    }
}

extension String {
    init(format02x byte: UInt8) {
        let digits = Array("0123456789abcdef")
        self = String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }
}
