// Tensor: a typed, shaped view of bytes that live in a memory-mapped file or in owned memory.
import CKernels
#if canImport(Glibc)
import Glibc
#endif

/// Bytes that back one or more tensors: a region of a mapped file (kept alive by `owner`) or an
/// allocation this object frees.
public final class TensorStorage: @unchecked Sendable {
    public let base: UnsafeRawPointer
    public let byteCount: Int
    private let owner: AnyObject?
    private let ownsMemory: Bool

    /// Wraps memory that `owner` keeps alive (e.g. a mapped file).
    public init(base: UnsafeRawPointer, byteCount: Int, owner: AnyObject) {
        self.base = base
        self.byteCount = byteCount
        self.owner = owner
        self.ownsMemory = false
    }

    /// Allocates `byteCount` zeroed bytes, 64-byte aligned.
    public init(allocating byteCount: Int) {
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 1))
        self.base = UnsafeRawPointer(pointer)
        self.byteCount = byteCount
        self.owner = nil
        self.ownsMemory = true
    }

    public var mutableBase: UnsafeMutableRawPointer { UnsafeMutableRawPointer(mutating: base) }

    /// Whether these bytes are a read-only mapping of a file (every `owner` is one), whose pages the
    /// kernel can drop and read back from the file on the next access.
    public var isMappedFile: Bool { owner != nil }

    deinit {
        if ownsMemory { UnsafeMutableRawPointer(mutating: base).deallocate() }
    }
}

/// A tensor. `shape` is outermost-first (`[rows, columns]` for a weight matrix stored [out, in]);
/// GGUF stores dimensions innermost-first, and the reader reverses them.
public struct Tensor: Sendable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    public let storage: TensorStorage
    public let offset: Int

    public init(name: String, dtype: DType, shape: [Int], storage: TensorStorage, offset: Int = 0) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.storage = storage
        self.offset = offset
        precondition(offset + byteCount <= storage.byteCount, "tensor \(name) runs past its storage")
    }

    /// A float tensor that owns a copy of `values`.
    public init(name: String = "", shape: [Int], floats values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
        let storage = TensorStorage(allocating: values.count * 4)
        values.withUnsafeBytes { storage.mutableBase.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        self.init(name: name, dtype: .f32, shape: shape, storage: storage)
    }

    /// A tensor of `dtype` that owns a copy of `bytes` (already encoded in that type).
    public init(name: String = "", dtype: DType, shape: [Int], bytes: [UInt8]) {
        let storage = TensorStorage(allocating: bytes.count)
        bytes.withUnsafeBytes { storage.mutableBase.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        self.init(name: name, dtype: dtype, shape: shape, storage: storage)
    }

    public var elementCount: Int { shape.reduce(1, *) }
    /// Elements in the innermost dimension (one row).
    public var rowElements: Int { shape.last ?? 1 }
    /// Number of rows (product of all but the innermost dimension).
    public var rowCount: Int { shape.dropLast().reduce(1, *) }
    public var rowBytes: Int { rowElements / dtype.blockElements * dtype.blockBytes }
    public var byteCount: Int { rowCount * rowBytes }
    public var data: UnsafeRawPointer { storage.base + offset }

    /// Pointer to row `index`.
    public func row(_ index: Int) -> UnsafeRawPointer { data + index * rowBytes }

    /// The float values of an F32 tensor, in place.
    public var floatPointer: UnsafePointer<Float> {
        precondition(dtype == .f32, "tensor \(name) is \(dtype), not F32")
        return data.assumingMemoryBound(to: Float.self)
    }

    /// Dequantizes row `index` into `destination` (rowElements floats).
    public func dequantizeRow(_ index: Int, into destination: UnsafeMutablePointer<Float>) {
        let status = aigc_dequantize_row(dtype.rawValue, row(index), destination, Int64(rowElements))
        precondition(status == 0, "no dequantizer for \(dtype)")
    }

    /// Tells the kernel that this tensor's bytes are not needed for now, when they are pages of a
    /// mapped file (a no-op for owned memory): they leave the resident set and are read back from
    /// the file if touched again. For weights that a layer has copied into another layout.
    public func releaseResidentPages() {
        guard storage.isMappedFile, byteCount > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: data) + page - 1) / page * page, end = (Int(bitPattern: data) + byteCount) / page * page
        if end > start { madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_DONTNEED) }
    }

    /// All values as floats (dequantized).
    public func floats() -> [Float] {
        var result = [Float](repeating: 0, count: elementCount)
        result.withUnsafeMutableBufferPointer { buffer in
            for r in 0..<rowCount { dequantizeRow(r, into: buffer.baseAddress! + r * rowElements) }
        }
        return result
    }

    /// A float copy of this tensor (no copy when it already is F32).
    public func toFloat32() -> Tensor {
        if dtype == .f32 { return self }
        return Tensor(name: name, shape: shape, floats: floats())
    }

    /// The same bytes seen with another shape of the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == elementCount, "cannot reshape \(shape) to \(newShape)")
        return Tensor(name: name, dtype: dtype, shape: newShape, storage: storage, offset: offset)
    }

    /// Rows [start, start + count) of a matrix, without copying.
    public func rows(_ start: Int, count: Int) -> Tensor {
        precondition(shape.count == 2 && start >= 0 && start + count <= shape[0], "rows out of range of \(shape)")
        return Tensor(name: name, dtype: dtype, shape: [count, shape[1]], storage: storage, offset: offset + start * rowBytes)
    }
}
