// Converting tensors between element types (dequantize to floats, quantize floats to blocks).
import CKernels

public enum TensorConversion {
    /// A copy of `tensor` with its rows encoded as `dtype`. Rows must hold whole blocks of `dtype`.
    public static func convert(_ tensor: Tensor, to dtype: DType) -> Tensor {
        if tensor.dtype == dtype { return tensor }
        let rowElements = tensor.rowElements
        precondition(rowElements % dtype.blockElements == 0, "rows of \(rowElements) do not fill \(dtype) blocks")
        let rowBytes = rowElements / dtype.blockElements * dtype.blockBytes
        let storage = TensorStorage(allocating: rowBytes * tensor.rowCount)
        var row = [Float](repeating: 0, count: rowElements)
        row.withUnsafeMutableBufferPointer { buffer in
            for r in 0..<tensor.rowCount {
                tensor.dequantizeRow(r, into: buffer.baseAddress!)
                let status = aigc_quantize_row(dtype.rawValue, buffer.baseAddress!, storage.mutableBase + r * rowBytes, Int64(rowElements))
                precondition(status == 0, "no quantizer for \(dtype)")
            }
        }
        return Tensor(name: tensor.name, dtype: dtype, shape: tensor.shape, storage: storage)
    }

    /// Can `convert` produce this type?
    public static func canQuantize(to dtype: DType) -> Bool {
        switch dtype {
        case .f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K: return true
        default: return false
        }
    }
}
