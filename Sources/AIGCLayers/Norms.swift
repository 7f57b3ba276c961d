// Normalisation layers holding their (float) parameters.
import AIGCKernels
import AIGCTensor

/// RMSNorm (Llama): y = x / rms(x) * weight.
public struct RMSNorm: @unchecked Sendable {
    public let weight: Tensor
    public let eps: Float
    public init(weight: Tensor, eps: Float) {
        self.weight = weight.toFloat32()
        self.eps = eps
    }
    public func forward(_ x: ConstFloatPointer, rows: Int, into y: FloatPointer) {
        let n = weight.elementCount
        for r in 0..<rows { rmsNorm(into: y + r * n, x + r * n, weight: weight.floatPointer, count: n, eps: eps) }
    }
}

/// LayerNorm (GPT-2): y = (x - mean) / std * weight + bias.
public struct LayerNorm: @unchecked Sendable {
    public let weight: Tensor
    public let bias: Tensor?
    public let eps: Float
    public init(weight: Tensor, bias: Tensor?, eps: Float) {
        self.weight = weight.toFloat32()
        self.bias = bias?.toFloat32()
        self.eps = eps
    }
    public func forward(_ x: ConstFloatPointer, rows: Int, into y: FloatPointer) {
        let n = weight.elementCount
        for r in 0..<rows {
            layerNorm(into: y + r * n, x + r * n, weight: weight.floatPointer, bias: bias?.floatPointer, count: n, eps: eps)
        }
    }
}

/// Token embedding table used in place (rows dequantized on lookup).
public struct Embedding: @unchecked Sendable {
    public let table: Tensor
    public init(table: Tensor) { self.table = table }
    public var count: Int { table.shape[0] }
    public var dimension: Int { table.shape[1] }
    public func lookup(_ token: Int, into y: FloatPointer) { table.dequantizeRow(token, into: y) }
}
