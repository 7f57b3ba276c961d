// GGUF writer (version 3): metadata in insertion order, tensor data aligned to `general.alignment`.
import AIGCTensor
import Foundation

/// Builds a GGUF file in memory and writes it out; used by `aigc quantize` and by tests that make
/// tiny models.
public struct GGUFWriter {
    public private(set) var metadata: [(String, GGUFValue)] = []
    private var tensors: [(name: String, dtype: DType, shape: [Int], bytes: UnsafeRawBufferPointer, keep: AnyObject?)] = []
    public var alignment = 32

    public init() {}

    public mutating func set(_ key: String, _ value: GGUFValue) {
        if let i = metadata.firstIndex(where: { $0.0 == key }) { metadata[i].1 = value } else { metadata.append((key, value)) }
        if key == "general.alignment", let a = value.int { alignment = a }
    }

    public mutating func set(_ key: String, _ value: String) { set(key, .string(value)) }
    public mutating func set(_ key: String, uint32 value: Int) { set(key, .uint32(UInt32(value))) }
    public mutating func set(_ key: String, float32 value: Double) { set(key, .float32(Float(value))) }
    public mutating func set(_ key: String, strings: [String]) { set(key, .array(.string, strings.map { .string($0) })) }
    public mutating func set(_ key: String, int32s: [Int]) { set(key, .array(.int32, int32s.map { .int32(Int32($0)) })) }
    public mutating func set(_ key: String, float32s: [Float]) { set(key, .array(.float32, float32s.map { .float32($0) })) }

    /// Adds a tensor whose bytes are already encoded in `tensor.dtype` (the tensor keeps them alive).
    public mutating func add(_ tensor: Tensor, name: String? = nil) {
        tensors.append((name ?? tensor.name, tensor.dtype, tensor.shape,
                        UnsafeRawBufferPointer(start: tensor.data, count: tensor.byteCount), tensor.storage))
    }

    /// Adds float values, stored as `dtype` (quantized with the reference quantizer when needed).
    public mutating func add(name: String, shape: [Int], floats: [Float], as dtype: DType = .f32) {
        let tensor = Tensor(name: name, shape: shape, floats: floats)
        add(dtype == .f32 ? tensor : TensorConversion.convert(tensor, to: dtype))
    }

    /// The complete file.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func putString(_ s: String) { let u = Array(s.utf8); put(UInt64(u.count)); out.append(contentsOf: u) }
        func putValue(_ v: GGUFValue) {
            switch v {
            case let .uint8(x): put(x)
            case let .int8(x): put(x)
            case let .uint16(x): put(x)
            case let .int16(x): put(x)
            case let .uint32(x): put(x)
            case let .int32(x): put(x)
            case let .uint64(x): put(x)
            case let .int64(x): put(x)
            case let .float32(x): put(x.bitPattern)
            case let .float64(x): put(x.bitPattern)
            case let .bool(x): put(UInt8(x ? 1 : 0))
            case let .string(x): putString(x)
            case let .array(type, items):
                put(type.rawValue)
                put(UInt64(items.count))
                items.forEach(putValue)
            }
        }
        func typeOf(_ v: GGUFValue) -> GGUFValueType {
            switch v {
            case .uint8: .uint8
            case .int8: .int8
            case .uint16: .uint16
            case .int16: .int16
            case .uint32: .uint32
            case .int32: .int32
            case .uint64: .uint64
            case .int64: .int64
            case .float32: .float32
            case .float64: .float64
            case .bool: .bool
            case .string: .string
            case .array: .array
            }
        }
        put(GGUFFile.magic)
        put(UInt32(3))
        put(UInt64(tensors.count))
        put(UInt64(metadata.count))
        for (key, value) in metadata {
            putString(key)
            put(typeOf(value).rawValue)
            putValue(value)
        }
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            offsets.append(offset)
            offset = (offset + t.bytes.count + alignment - 1) / alignment * alignment
        }
        for (i, t) in tensors.enumerated() {
            putString(t.name)
            put(UInt32(t.shape.count))
            for d in t.shape.reversed() { put(UInt64(d)) }
            put(UInt32(bitPattern: t.dtype.rawValue))
            put(UInt64(offsets[i]))
        }
        while out.count % alignment != 0 { out.append(0) }
        let dataStart = out.count
        for (i, t) in tensors.enumerated() {
            while out.count < dataStart + offsets[i] { out.append(0) }
            out.append(contentsOf: t.bytes)
        }
        while out.count % alignment != 0 { out.append(0) }
        return out
    }

    /// Writes the file atomically (to a temporary name, then renamed).
    public func write(to path: String) throws {
        let temporary = path + ".partial"
        let data = Data(serialized())
        do {
            try data.write(to: URL(fileURLWithPath: temporary))
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: temporary, toPath: path)
        } catch {
            throw FormatError.cannotOpen(file: path, reason: "cannot write: \(error.localizedDescription)")
        }
    }
}
