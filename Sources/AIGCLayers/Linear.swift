// Linear: y = x · Wᵀ (+ b) with W used in place in whatever type the file stores (F32, F16, BF16 or
// quantized blocks). Few rows (decode): activations are prepared once (quantized to 8 bits for block
// formats) and each task takes a range of output rows. Many rows (prefill): each task dequantizes a
// chunk of weight rows and multiplies it with all activations through BLAS sgemm. Several maps of
// the same input (q, k, v; gate and up) run in one parallel pass, so a token costs fewer thread hand-offs.
import AIGCKernels
import AIGCTensor
import CKernels
import Foundation

public struct Linear: @unchecked Sendable {
    public let weight: Tensor
    public let bias: Tensor?
    /// The weight is stored [in, out] (Hugging Face GPT-2 Conv1D), as F32.
    public let inputMajor: Bool
    public let inFeatures: Int
    public let outFeatures: Int
    /// The weight interleaved four rows at a time for the decode kernels (nil where no four-row
    /// kernel serves its type or its rows are not a multiple of 4). When set, the original tensor's
    /// file pages are released and every product and dequantization reads this copy.
    let interleaved: InterleavedWeight?

    /// Activation rows from which dequantize + sgemm beats the multi-row block kernels (measured: equal
    /// at 64 rows on SmolLM2 Q4_1, dot products 2.6x faster at 16, sgemm 1.25x faster at 512; AIGC_GEMM_THRESHOLD
    /// overrides it for measurements).
    public static let gemmThreshold = Int(ProcessInfo.processInfo.environment["AIGC_GEMM_THRESHOLD"] ?? "") ?? 64
    /// Q4_0/Q4_1 weights interleaved with split scales take the int8 block kernels at every batch size
    /// unless AIGC_GEMM_THRESHOLD says otherwise: pp512 on SmolLM2 312 -> 350 tokens/s (Q4_0) and
    /// 315 -> 349 (Q4_1) on one thread, 530 -> 629 and 472 -> 652 on two, where Q8_0 and the row-major
    /// formats stay faster through sgemm (Q8_0 248 against 312).
    static let int8Prefill = ProcessInfo.processInfo.environment["AIGC_GEMM_THRESHOLD"] == nil
    static let gemmChunkRows = 64
    /// AIGC_INTERLEAVE=0 keeps weights in the file's row order (for measuring what interleaving gives).
    static let interleaves = ProcessInfo.processInfo.environment["AIGC_INTERLEAVE"] != "0"
    /// Decode tasks (up to `decodeRows` activation rows) take a whole thread's share of a matrix (at
    /// least 32 KiB): every task start costs a fresh hardware-prefetch ramp from DRAM, and small
    /// matrices are most of a token. SmolLM2 Q4_1 tg128 on 2 threads, six paired runs: a quarter of
    /// a share (at least 64 KiB) 192 t/s median, whole shares 1.16-1.24x that. A worker preempted
    /// mid-task leaves a bigger share to wait for, which the pool's solo mode bounds (CKernels/pool.c).
    static let decodeRows = 8
    static let decodeChunkBytes = 32768
    /// Prefill tasks with dot products: a quarter of a thread's share, at least 64 KiB (F16 decode
    /// on 2 threads ran at 81-89 tokens/s with 64 KiB tasks, 99-102 with quarter shares).
    static let chunkBytes = 65536
    static let chunksPerThread = 4
    static let slotNames = (0..<8).map { "linear.activations.\($0)" }

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
        interleaved = inputMajor || !Linear.interleaves ? nil : InterleavedWeight(weight)
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
        Linear.forward([(self, y, yStride ?? outFeatures)], input: x, rows: m, workspace: workspace, pool: pool)
    }

    /// Several maps of the same input in one parallel pass (e.g. the q, k and v projections).
    public static func forward(_ maps: [(linear: Linear, output: FloatPointer, stride: Int)], input x: ConstFloatPointer, rows m: Int,
                               workspace: Workspace, pool: ComputePool) {
        // Maps of the same weight type share one prepared (quantized) copy of the input.
        var inputs: [PreparedInput?] = []
        for (i, map) in maps.enumerated() {
            if let j = maps[..<i].firstIndex(where: { $0.linear.weight.dtype == map.linear.weight.dtype }) { inputs.append(inputs[j]) } else {
                inputs.append(map.linear.prepare(x, rows: m, workspace: workspace, slot: i, pool: pool))
            }
        }
        var chunks: [(map: Int, rows: Range<Int>)] = []
        for (i, map) in maps.enumerated() {
            let size = map.linear.chunkRows(m: m, threads: pool.threads)
            for start in stride(from: 0, to: map.linear.outFeatures, by: size) {
                chunks.append((i, start..<min(map.linear.outFeatures, start + size)))
            }
        }
        if maps.contains(where: { !$0.linear.usesDotProducts(m: m) }) {
            workspace.reserveThreadScratch(threads: pool.threads, bytes: gemmChunkRows * (maps.map(\.linear.inFeatures).max() ?? 0) * 4)
        }
        pool.parallelFor(chunks.count) { task, thread in
            let (i, rows) = chunks[task]
            let map = maps[i]
            map.linear.compute(rows: rows, input: x, prepared: inputs[i], m: m, into: map.output, ldy: map.stride,
                               scratch: workspace.scratch(thread: thread))
        }
    }

    /// silu(x · Gateᵀ) ⊙ (x · Upᵀ) into `output` ([m, rows of gate]), gate and up computed for the same
    /// rows by the same task and combined while they are in cache. `upScratch` holds m × rows floats.
    public static func forwardGated(gate: Linear, up: Linear, input x: ConstFloatPointer, rows m: Int, into output: FloatPointer,
                                    upScratch: FloatPointer, workspace: Workspace, pool: ComputePool) {
        precondition(gate.outFeatures == up.outFeatures && gate.inFeatures == up.inFeatures)
        let gateInput = gate.prepare(x, rows: m, workspace: workspace, slot: 0, pool: pool)
        let upInput = up.weight.dtype == gate.weight.dtype ? gateInput : up.prepare(x, rows: m, workspace: workspace, slot: 1, pool: pool)
        let n = gate.outFeatures
        let size = gate.chunkRows(m: m, threads: pool.threads)
        if !gate.usesDotProducts(m: m) { workspace.reserveThreadScratch(threads: pool.threads, bytes: gemmChunkRows * gate.inFeatures * 4) }
        pool.parallelFor((n + size - 1) / size) { task, thread in
            let rows = (task * size)..<min(n, task * size + size)
            let scratch = workspace.scratch(thread: thread)
            gate.compute(rows: rows, input: x, prepared: gateInput, m: m, into: output, ldy: n, scratch: scratch)
            up.compute(rows: rows, input: x, prepared: upInput, m: m, into: upScratch, ldy: n, scratch: scratch)
            for t in 0..<m { swiglu(output + t * n + rows.lowerBound, upScratch + t * n + rows.lowerBound, count: rows.count) }
        }
    }

    // MARK: pieces

    /// Activations in the form the kernels take: quantized rows for block dot products, nil for sgemm.
    struct PreparedInput: @unchecked Sendable {
        let bytes: UnsafeMutableRawPointer
        let stride: Int
    }

    func usesDotProducts(m: Int) -> Bool {
        !inputMajor && (m < Linear.gemmThreshold || (Linear.int8Prefill && interleaved?.hasSplitScales == true))
    }

    /// Prefill prepares its rows on every thread: on one, quantizing 512 rows was serial work that
    /// held Q4_1 pp512 on two threads to 1.6x of one.
    func prepare(_ x: ConstFloatPointer, rows m: Int, workspace: Workspace, slot: Int, pool: ComputePool) -> PreparedInput? {
        guard usesDotProducts(m: m) else { return nil }
        let type = weight.dtype.rawValue, k = inFeatures
        let stride = Int(aigc_activation_row_bytes(type, Int64(k)))
        let bytes = workspace.bytes(Linear.slotNames[min(slot, Linear.slotNames.count - 1)], stride * m)
        // Ranges of at least 16 rows: fewer than 32 rows stay one range, run on this thread.
        pool.parallelRanges(m, minimum: 16) { rows, _ in
            for r in rows { aigc_prepare_activation(type, x + r * k, bytes + r * stride, Int64(k)) }
        }
        return PreparedInput(bytes: bytes, stride: stride)
    }

    /// Rows per task for dot products (multiples of 4 for the four-row kernels): a thread's share of
    /// the weights in decode, a quarter of it in prefill; the dequantization chunk for sgemm.
    func chunkRows(m: Int, threads: Int) -> Int {
        if !usesDotProducts(m: m) { return inputMajor ? max(64, (outFeatures + 2 * threads - 1) / (2 * threads)) : Linear.gemmChunkRows }
        if threads == 1 { return outFeatures }
        let decode = m <= Linear.decodeRows
        let tasks = threads * (decode ? 1 : Linear.chunksPerThread)
        let bytes = max(decode ? Linear.decodeChunkBytes : Linear.chunkBytes, (weight.rowBytes * outFeatures + tasks - 1) / tasks)
        let rows = max(16, bytes / max(1, weight.rowBytes))
        return (rows + 3) / 4 * 4
    }

    /// Output rows `rows` (all m activation rows), bias included.
    func compute(rows: Range<Int>, input x: ConstFloatPointer, prepared: PreparedInput?, m: Int, into y: FloatPointer, ldy: Int,
                 scratch: UnsafeMutableRawPointer) {
        let k = inFeatures
        if inputMajor {
            let w = weight.floatPointer
            matmul(into: y + rows.lowerBound, x, w + rows.lowerBound, m: m, n: rows.count, k: k, ldb: outFeatures, ldc: ldy)
        } else if let prepared {
            if let interleaved {
                aigc_matmul_rows_interleaved(weight.dtype.rawValue, interleaved.bytes, Int64(k), prepared.bytes, Int64(prepared.stride),
                                             Int64(m), y, Int64(ldy), Int64(rows.lowerBound), Int64(rows.upperBound))
            } else {
                aigc_matmul_rows(weight.dtype.rawValue, weight.data, Int64(weight.rowBytes), Int64(k), prepared.bytes, Int64(prepared.stride),
                                 Int64(m), y, Int64(ldy), Int64(rows.lowerBound), Int64(rows.upperBound))
            }
        } else {
            let w: ConstFloatPointer
            if weight.dtype == .f32 && interleaved == nil {
                w = weight.floatPointer + rows.lowerBound * k
            } else {
                let floats = scratch.assumingMemoryBound(to: Float.self)
                for (i, r) in rows.enumerated() {
                    if let interleaved { interleaved.dequantizeRow(r, into: floats + i * k) } else { weight.dequantizeRow(r, into: floats + i * k) }
                }
                w = UnsafePointer(floats)
            }
            matmulTransposedB(into: y + rows.lowerBound, x, w, m: m, n: rows.count, k: k, ldc: ldy)
        }
        if let bias {
            let b = bias.floatPointer + rows.lowerBound
            for t in 0..<m { add(into: y + t * ldy + rows.lowerBound, b, count: rows.count) }
        }
    }
}

/// A weight matrix copied into the four-row interleaved layout of CKernels (aigc_interleave_rows4):
/// one sequential stream for the decode kernels instead of four short ones per group of rows.
final class InterleavedWeight: @unchecked Sendable {
    let bytes: UnsafeMutableRawPointer
    /// The arena slab holding `bytes` (nil: an allocation of its own).
    private let slab: WeightSlab?
    let type: Int32
    let columns: Int
    /// Q4_0/Q4_1: the four rows' scales precede their codes (matvec_q4_interleaved.c).
    var hasSplitScales: Bool { type == DType.q4_0.rawValue || type == DType.q4_1.rawValue }

    /// nil when the type has no four-row kernel at this SIMD level or the shape does not divide.
    init?(_ weight: Tensor) {
        guard weight.shape.count == 2,
              aigc_can_interleave_rows4(weight.dtype.rawValue, Int64(weight.shape[0]), Int64(weight.shape[1])) != 0 else { return nil }
        type = weight.dtype.rawValue
        columns = weight.shape[1]
        let byteCount = max(weight.shape[0] * weight.rowBytes, 1)
        // From the weight arena: on transparent huge pages where the kernel has them to spare.
        if let allocation = WeightArena.shared.allocate(byteCount: byteCount) {
            bytes = allocation.bytes
            slab = allocation.slab
        } else {
            bytes = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
            slab = nil
        }
        aigc_interleave_rows4(type, weight.data, Int64(weight.rowBytes), Int64(weight.shape[0]), Int64(columns), bytes)
        weight.releaseResidentPages()
    }

    deinit { if slab == nil { bytes.deallocate() } }

    func dequantizeRow(_ row: Int, into destination: FloatPointer) {
        let status = aigc_dequantize_row_interleaved(type, bytes, Int64(columns), Int64(row), destination)
        precondition(status == 0, "no dequantizer for type \(type)")
    }
}
