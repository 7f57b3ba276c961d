// Linear: y = x · Wᵀ (+ b) with W used in place in whatever type the file stores (F32, F16, BF16 or
// quantized blocks). Few rows (decode): activations are prepared once (quantized to 8 bits for block
// formats) and each thread takes a range of output rows. Many rows (prefill): each thread dequantizes
// a chunk of weight rows and multiplies it with all activations through BLAS sgemm.
import AIGCKernels
import AIGCTensor
import CKernels

public struct Linear: @unchecked Sendable {
    public let weight: Tensor
    public let bias: Tensor?
    /// The weight is stored [in, out] (Hugging Face GPT-2 Conv1D), as F32.
    public let inputMajor: Bool
    public let inFeatures: Int
    public let outFeatures: Int

    /// Activation rows from which dequantize + sgemm beats block dot products.
    public static let gemmThreshold = 16
    static let gemmChunkRows = 64

    public init(weight: Tensor, bias: Tensor? = nil, inputMajor: Bool = false) throws {
        guard weight.shape.count == 2 else {
            throw TensorError.shapeMismatch(name: weight.name, expected: [-1, -1], actual: weight.shape, source: "linear layer")
        }
        guard weight.dtype.isComputable else {
            throw TensorError.unsupportedType(name: weight.name, dtype: weight.dtype, hint: "aigc cannot multiply with")
        }
        self.inputMajor = inputMajor
        self.weight = inputMajor ? weight.toFloat32() : weight
        inFeatures = inputMajor ? weight.shape[0] : weight.shape[1]
        outFeatures = inputMajor ? weight.shape[1] : weight.shape[0]
        if let bias {
            guard bias.elementCount == outFeatures else {
                throw TensorError.shapeMismatch(name: bias.name, expected: [outFeatures], actual: bias.shape, source: "linear layer")
            }
            self.bias = bias.toFloat32()
        } else {
            self.bias = nil
        }
    }

    /// y[m, out] = x[m, in] · Wᵀ + b. `y` rows are `yStride` floats apart (default: outFeatures).
    public func forward(_ x: ConstFloatPointer, rows m: Int, into y: FloatPointer, yStride: Int? = nil,
                        workspace: Workspace, pool: ComputePool) {
        let ldy = yStride ?? outFeatures
        if inputMajor {
            forwardInputMajor(x, rows: m, into: y, ldy: ldy, pool: pool)
        } else if m >= Linear.gemmThreshold {
            forwardGEMM(x, rows: m, into: y, ldy: ldy, workspace: workspace, pool: pool)
        } else {
            forwardDot(x, rows: m, into: y, ldy: ldy, workspace: workspace, pool: pool)
        }
        if let bias {
            let b = bias.floatPointer
            for r in 0..<m { add(into: y + r * ldy, b, count: outFeatures) }
        }
    }

    private func forwardDot(_ x: ConstFloatPointer, rows m: Int, into y: FloatPointer, ldy: Int, workspace: Workspace, pool: ComputePool) {
        let type = weight.dtype.rawValue
        let actBytes = Int(aigc_activation_row_bytes(type, Int64(inFeatures)))
        let act = workspace.bytes("linear.activations", actBytes * m)
        for r in 0..<m { aigc_prepare_activation(type, x + r * inFeatures, act + r * actBytes, Int64(inFeatures)) }
        let w = weight.data, wStride = weight.rowBytes, k = inFeatures
        // Split by output rows; about 32 KiB of weights per task keeps the per-task overhead small.
        let minimumRows = max(8, 32768 / max(1, wStride))
        pool.parallelRanges(outFeatures, minimum: minimumRows) { range, _ in
            aigc_matmul_rows(type, w, Int64(wStride), Int64(k), act, Int64(actBytes), Int64(m), y, Int64(ldy),
                             Int64(range.lowerBound), Int64(range.upperBound))
        }
    }

    private func forwardGEMM(_ x: ConstFloatPointer, rows m: Int, into y: FloatPointer, ldy: Int, workspace: Workspace, pool: ComputePool) {
        let k = inFeatures
        let chunk = Linear.gemmChunkRows
        let isFloat = weight.dtype == .f32
        if !isFloat { workspace.reserveThreadScratch(threads: pool.threads, bytes: chunk * k * 4) }
        let tasks = (outFeatures + chunk - 1) / chunk
        pool.parallelFor(tasks) { task, thread in
            let r0 = task * chunk, rows = min(chunk, outFeatures - r0)
            let w: ConstFloatPointer
            if isFloat {
                w = weight.data.assumingMemoryBound(to: Float.self) + r0 * k
            } else {
                let scratch = workspace.scratch(thread: thread).assumingMemoryBound(to: Float.self)
                for r in 0..<rows { weight.dequantizeRow(r0 + r, into: scratch + r * k) }
                w = UnsafePointer(scratch)
            }
            matmulTransposedB(into: y + r0, x, w, m: m, n: rows, k: k, ldc: ldy)
        }
    }

    private func forwardInputMajor(_ x: ConstFloatPointer, rows m: Int, into y: FloatPointer, ldy: Int, pool: ComputePool) {
        let w = weight.floatPointer, k = inFeatures, n = outFeatures
        pool.parallelRanges(n, minimum: 64) { range, _ in
            matmul(into: y + range.lowerBound, x, w + range.lowerBound, m: m, n: range.count, k: k, ldb: n, ldc: ldy)
        }
    }
}
