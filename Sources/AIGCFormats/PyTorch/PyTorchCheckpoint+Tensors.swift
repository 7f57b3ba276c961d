// Turning torch's strided views into aigc tensors: contiguous row-major views stay in place,
// everything else (transposes, narrowed columns, stride-0 expands) is gathered into new memory,
// and F64 is narrowed to F32 because no kernel computes in double.
import AIGCTensor

extension PyTorchCheckpoint {
    /// The most bytes one strided tensor may be copied into (stride 0 can make a view far larger
    /// than its storage; a corrupt size must not allocate without bound).
    static let maxCopyBytes = 1 << 30

    /// True when `stride` is the row-major stride of `size` (dimensions of extent 1 may have any stride).
    static func isContiguous(size: [Int], stride: [Int]) -> Bool {
        var expected = 1
        for (n, s) in zip(size, stride).reversed() {
            if n != 1 && s != expected { return false }
            expected *= n
        }
        return true
    }

    /// A tensor for `view`, whose storage's bytes start at `byteOffset` inside `storage`.
    static func makeTensor(name: String, view: PickleTensor, storage: TensorStorage, byteOffset: Int, file: String) throws -> Tensor {
        let type = view.storage.type
        let count = view.size.reduce(1, *)
        let elementSize = type.elementSize
        if count == 0 {
            return Tensor(name: name, dtype: type.loadedDType, shape: view.size, storage: TensorStorage(allocating: 0))
        }
        let contiguous = isContiguous(size: view.size, stride: view.stride)
        if contiguous && type != .float64 {
            return Tensor(name: name, dtype: type.loadedDType, shape: view.size, storage: storage, offset: byteOffset + view.offset * elementSize)
        }
        let bytes = count * elementSize
        guard bytes <= maxCopyBytes else {
            throw FormatError.invalidValue(file: file, field: "tensor '\(name)'", offset: 0, value: "size \(view.size), stride \(view.stride)",
                                           reason: "copying this strided view would take \(bytes) bytes (limit \(maxCopyBytes))")
        }
        let source = storage.base + byteOffset
        let gathered = TensorStorage(allocating: bytes)
        if contiguous {
            gathered.mutableBase.copyMemory(from: source + view.offset * elementSize, byteCount: bytes)
        } else {
            gather(from: source, elementSize: elementSize, view: view, into: gathered.mutableBase)
        }
        guard type == .float64 else { return Tensor(name: name, dtype: type.loadedDType, shape: view.size, storage: gathered) }
        let floats = TensorStorage(allocating: count * 4)
        let from = gathered.base.assumingMemoryBound(to: Double.self)
        let to = floats.mutableBase.assumingMemoryBound(to: Float.self)
        for i in 0..<count { to[i] = Float(from[i]) }
        return Tensor(name: name, dtype: .f32, shape: view.size, storage: floats)
    }

    /// Copies the elements of a strided view in row-major order into `destination`.
    /// The innermost dimension is a strided loop; the outer ones advance an index like an odometer.
    static func gather(from source: UnsafeRawPointer, elementSize: Int, view: PickleTensor, into destination: UnsafeMutableRawPointer) {
        let size = view.size, stride = view.stride, rank = size.count
        let inner = rank > 0 ? size[rank - 1] : 1
        let innerStride = (rank > 0 ? stride[rank - 1] : 0) * elementSize
        var index = [Int](repeating: 0, count: max(0, rank - 1))
        var base = view.offset * elementSize
        var out = destination
        while true {
            var p = base
            switch elementSize {
            case 4:
                for _ in 0..<inner { out.storeBytes(of: source.loadUnaligned(fromByteOffset: p, as: UInt32.self), as: UInt32.self); out += 4; p += innerStride }
            case 2:
                for _ in 0..<inner { out.storeBytes(of: source.loadUnaligned(fromByteOffset: p, as: UInt16.self), as: UInt16.self); out += 2; p += innerStride }
            default:
                for _ in 0..<inner { out.copyMemory(from: source + p, byteCount: elementSize); out += elementSize; p += innerStride }
            }
            var d = rank - 2
            while d >= 0 {
                index[d] += 1
                base += stride[d] * elementSize
                if index[d] < size[d] { break }
                base -= stride[d] * size[d] * elementSize
                index[d] = 0
                d -= 1
            }
            if d < 0 { return }
        }
    }
}
