// Block formats: dequantization against gguf-py's numpy reference, the fast (AVX2) dot products
// against the portable ones on odd sizes, and quantize -> dequantize error bounds.
import AIGCKernels
import AIGCTestSupport
import AIGCTensor
import CKernels
import Foundation
import Testing

let blockTypes: [DType] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K]
let dotTypes: [DType] = blockTypes + [.f16, .bf16, .f32]

@Suite struct DequantizationTests {
    @Test(arguments: blockTypes + [.f16, .bf16])
    func matchesGGUFPyReference(_ type: DType) throws {
        let blocks = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.fixture("quant/\(type).blocks"))))
        let expectedData = try Data(contentsOf: URL(fileURLWithPath: Fixtures.fixture("quant/\(type).f32")))
        let expected = expectedData.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        #expect(blocks.count == expected.count / type.blockElements * type.blockBytes)
        var actual = [Float](repeating: .nan, count: expected.count)
        let status = blocks.withUnsafeBytes { b in
            actual.withUnsafeMutableBufferPointer { aigc_dequantize_row(type.rawValue, b.baseAddress, $0.baseAddress, Int64(expected.count)) }
        }
        #expect(status == 0)
        expectClose(actual, expected, atol: 1e-6, rtol: 1e-6, "\(type)")
    }

    @Test func halfPrecisionConversionIsExact() {
        let cases: [(UInt16, Float)] = [(0x0000, 0), (0x3C00, 1), (0xC000, -2), (0x7BFF, 65504), (0x0001, 5.9604645e-08),
                                        (0x03FF, 6.097555e-05), (0x3555, 0.33325195), (0x7C00, .infinity), (0xFC00, -.infinity)]
        for (bits, value) in cases {
            #expect(aigc_f16_to_f32(bits) == value, "half \(bits)")
            #expect(aigc_f32_to_f16(value) == bits, "float \(value)")
        }
        #expect(aigc_f16_to_f32(0x7E00).isNaN)
        #expect(aigc_f32_to_f16(1.0 / 3.0) == 0x3555)
        #expect(aigc_f32_to_f16(70000) == 0x7C00, "overflow becomes infinity")
        var row = [Float](repeating: 0, count: 19)
        let halves: [UInt16] = (0..<19).map { UInt16($0 * 1000) }
        aigc_f16_to_f32_row(halves, &row, 19)
        #expect(row == halves.map { aigc_f16_to_f32($0) }, "row conversion (F16C) equals scalar")
    }
}

/// Random weights and activations of `count` elements: the weight row encoded as `type`, the
/// activation prepared for it, and the float dot product of the dequantized weights with the activation.
func dotCase(_ type: DType, count: Int, seed: UInt64) -> (weights: [UInt8], activation: [UInt8], floatDot: Float, magnitude: Float) {
    var rng = TestRandom(seed: seed)
    let w = rng.floats(count), x = rng.floats(count)
    let weights: Tensor
    if TensorConversion.canQuantize(to: type) {
        weights = TensorConversion.convert(Tensor(shape: [1, count], floats: w), to: type)
    } else {
        // No quantizer for this format: random blocks with sane float16 scales.
        var raw = rng.bytes(count / type.blockElements * type.blockBytes)
        let halfFields: [DType: [Int]] = [.q2_K: [80, 82], .q3_K: [108]]
        for b in 0..<(count / type.blockElements) {
            for f in halfFields[type] ?? [] {
                let h = aigc_f32_to_f16(0.01 + Float(rng.int(0..<100)) / 2000)
                raw[b * type.blockBytes + f] = UInt8(h & 0xFF)
                raw[b * type.blockBytes + f + 1] = UInt8(h >> 8)
            }
        }
        weights = Tensor(dtype: type, shape: [1, count], bytes: raw)
    }
    let bytes = [UInt8](UnsafeRawBufferPointer(start: weights.data, count: weights.byteCount))
    var dequantized = [Float](repeating: 0, count: count)
    weights.dequantizeRow(0, into: &dequantized)
    var activation = [UInt8](repeating: 0, count: Int(aigc_activation_row_bytes(type.rawValue, Int64(count))))
    aigc_prepare_activation(type.rawValue, x, &activation, Int64(count))
    let magnitude = zip(dequantized, x).reduce(Float(0)) { $0 + abs($1.0 * $1.1) }
    return (bytes, activation, Reference.dot(dequantized, x), magnitude)
}

/// `rows` random activation rows of k values, prepared (quantized) for `type`'s kernels, and the
/// bytes per prepared row.
func preparedActivations(_ type: DType, k: Int, rows: Int, _ rng: inout TestRandom) -> (bytes: [UInt8], stride: Int) {
    let stride = Int(aigc_activation_row_bytes(type.rawValue, Int64(k)))
    var bytes = [UInt8](repeating: 0, count: stride * rows)
    for t in 0..<rows {
        let x = rng.floats(k)
        bytes.withUnsafeMutableBytes { aigc_prepare_activation(type.rawValue, x, $0.baseAddress! + t * stride, Int64(k)) }
    }
    return (bytes, stride)
}

@Suite(.serialized) struct FastKernelParityTests {
    /// Sizes that are not powers of two and leave odd tails of blocks (1, 3, 5, 7, 9 blocks...).
    static func sizes(_ type: DType) -> [Int] { [1, 3, 5, 7, 9, 17].map { $0 * max(type.blockElements, 32) } + (type.isQuantized ? [] : [1, 7, 13, 31, 33, 63]) }

    @Test(arguments: dotTypes)
    func fastDotEqualsPortableDot(_ type: DType) {
        guard aigc_cpu_simd_level() >= AIGC_SIMD_AVX2.rawValue else { return }
        for (i, n) in Self.sizes(type).enumerated() {
            let c = dotCase(type, count: n, seed: UInt64(1000 + i))
            defer { aigc_set_simd_level(aigc_cpu_simd_level()) }
            aigc_set_simd_level(Int32(AIGC_SIMD_SCALAR.rawValue))
            let portable = aigc_vec_dot(type.rawValue, c.weights, c.activation, Int64(n))
            aigc_set_simd_level(Int32(AIGC_SIMD_AVX2.rawValue))
            let fast = aigc_vec_dot(type.rawValue, c.weights, c.activation, Int64(n))
            // Same integer sums, different float summation order: a few ulps of the magnitude.
            #expect(abs(fast - portable) <= 1e-5 * c.magnitude + 1e-6, "\(type) n=\(n): fast \(fast) portable \(portable)")
        }
    }

    /// Activation quantization (8-bit blocks of 32 for the 32-element formats, of 256 with block sums
    /// for the K formats): the AVX2 quantizers give the same bytes as the portable ones.
    @Test(arguments: [DType.q4_1, .q4_K])
    func fastActivationQuantizerGivesThePortableBytes(_ type: DType) {
        guard aigc_cpu_simd_level() >= AIGC_SIMD_AVX2.rawValue else { return }
        var rng = TestRandom(seed: 31)
        for blocks in [1, 2, 3, 7] {
            let n = blocks * max(type.blockElements, 32)
            var x = rng.floats(n, scale: 3)
            x[0] = 0
            if blocks == 2 { for j in 0..<max(type.blockElements, 32) { x[j] = 0 } } // an all-zero block (scale 0)
            let bytes = Int(aigc_activation_row_bytes(type.rawValue, Int64(n)))
            var portable = [UInt8](repeating: 0, count: bytes), fast = [UInt8](repeating: 1, count: bytes)
            defer { aigc_set_simd_level(aigc_cpu_simd_level()) }
            aigc_set_simd_level(Int32(AIGC_SIMD_SCALAR.rawValue))
            portable.withUnsafeMutableBytes { aigc_prepare_activation(type.rawValue, x, $0.baseAddress!, Int64(n)) }
            aigc_set_simd_level(Int32(AIGC_SIMD_AVX2.rawValue))
            fast.withUnsafeMutableBytes { aigc_prepare_activation(type.rawValue, x, $0.baseAddress!, Int64(n)) }
            #expect(fast == portable, "\(type) \(blocks) blocks")
        }
    }

    @Test(arguments: dotTypes)
    func blockDotApproximatesFloatDot(_ type: DType) {
        for (i, n) in Self.sizes(type).enumerated() {
            let c = dotCase(type, count: n, seed: UInt64(2000 + i))
            let q = aigc_vec_dot(type.rawValue, c.weights, c.activation, Int64(n))
            // Activations are quantized to 8 bits per block (|error| <= scale/2 per element).
            let tolerance: Float = type.isQuantized ? 0.01 * c.magnitude + 1e-4 : 1e-5 * c.magnitude + 1e-5
            #expect(abs(q - c.floatDot) <= tolerance, "\(type) n=\(n): \(q) vs float \(c.floatDot)")
        }
    }

    /// Weights interleaved four rows at a time: the same products as the row-major kernels (up to
    /// summation order) for 1 to 70 activation rows (prefill takes this path too), on every level the
    /// CPU has (AVX-512 with VNNI, AVX2, portable), and rows dequantized from the interleaved copy
    /// equal the original rows.
    @Test(arguments: [DType.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .f16, .bf16])
    func interleavedRowsMatchRowMajorRows(_ type: DType) {
        guard aigc_cpu_simd_level() >= AIGC_SIMD_AVX2.rawValue else { return }
        var rng = TestRandom(seed: UInt64(type.rawValue) + 91)
        for (rows, blocks) in [(4, 1), (8, 3), (12, 18), (16, 5)] {
            let k = blocks * 32
            let weights = TensorConversion.convert(Tensor(shape: [rows, k], floats: rng.floats(rows * k)), to: type)
            #expect(aigc_can_interleave_rows4(type.rawValue, Int64(rows), Int64(k)) != 0)
            var packed = [UInt8](repeating: 0, count: rows * weights.rowBytes)
            aigc_interleave_rows4(type.rawValue, weights.data, Int64(weights.rowBytes), Int64(rows), Int64(k), &packed)
            var original = [Float](repeating: 0, count: k), copy = [Float](repeating: .nan, count: k)
            for r in 0..<rows {
                weights.dequantizeRow(r, into: &original)
                #expect(aigc_dequantize_row_interleaved(type.rawValue, packed, Int64(k), Int64(r), &copy) == 0)
                #expect(copy == original, "\(type) row \(r) of \(rows)")
            }
            for m in [1, 2, 3, 4, 5, 8, 37, 70] {
                let (act, actBytes) = preparedActivations(type, k: k, rows: m, &rng)
                var rowMajor = [Float](repeating: .nan, count: m * rows)
                aigc_matmul_rows(type.rawValue, weights.data, Int64(weights.rowBytes), Int64(k), act, Int64(actBytes), Int64(m), &rowMajor, Int64(rows), 0, Int64(rows))
                var byLevel: [UInt32: [Float]] = [:]
                let levels = aigc_cpu_simd_level() >= AIGC_SIMD_AVX512.rawValue ? [AIGC_SIMD_AVX512, AIGC_SIMD_AVX2, AIGC_SIMD_SCALAR]
                    : [AIGC_SIMD_AVX2, AIGC_SIMD_SCALAR]
                defer {
                    // The AVX-512 VNNI kernels for two and four activation rows add the same int32 sums
                    // in the same order as the AVX2 ones. The one-row (decode) kernel on 512-bit
                    // registers converts quarter-block sums where AVX2 converts half-block sums, so
                    // where it runs (odd m) the two agree to rounding, at a quarter of the tolerance below.
                    if let vnni = byLevel[AIGC_SIMD_AVX512.rawValue], let avx2 = byLevel[AIGC_SIMD_AVX2.rawValue] {
                        if m % 2 == 0 || ![DType.q4_0, .q4_1].contains(type) {
                            #expect(vnni == avx2, "\(type) rows \(rows) blocks \(blocks) m \(m): AVX-512 and AVX2 differ")
                        } else {
                            for i in 0..<(m * rows) {
                                #expect(abs(vnni[i] - avx2[i]) <= 5e-6 * (abs(avx2[i]) + Float(k) * 0.05),
                                        "\(type) rows \(rows) blocks \(blocks) m \(m) [\(i)]: AVX-512 \(vnni[i]) vs AVX2 \(avx2[i])")
                            }
                        }
                    }
                }
                for level in levels {
                    defer { aigc_set_simd_level(aigc_cpu_simd_level()) }
                    aigc_set_simd_level(Int32(level.rawValue))
                    var interleaved = [Float](repeating: .nan, count: m * rows)
                    defer { byLevel[level.rawValue] = interleaved }
                    // Two halves, as two tasks would split the rows.
                    let half = rows / 8 * 4
                    for (r0, r1) in [(0, half), (half, rows)] {
                        aigc_matmul_rows_interleaved(type.rawValue, packed, Int64(k), act, Int64(actBytes), Int64(m), &interleaved, Int64(rows), Int64(r0), Int64(r1))
                    }
                    for i in 0..<(m * rows) {
                        let tolerance = 2e-5 * (abs(rowMajor[i]) + Float(k) * 0.05) + 1e-5
                        #expect(abs(interleaved[i] - rowMajor[i]) <= tolerance,
                                "\(type) \(level) rows \(rows) blocks \(blocks) m \(m) [\(i)]: \(interleaved[i]) vs \(rowMajor[i])")
                    }
                }
            }
        }
    }

    /// The multi-row matrix kernels (four rows at a time, software prefetch) against the portable
    /// one-row dot product, for row counts with tails and block counts with odd lengths.
    @Test(arguments: [DType.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q6_K, .f16, .bf16])
    func matmulRowsMatchPortableDots(_ type: DType) {
        var rng = TestRandom(seed: UInt64(type.rawValue) + 77)
        for rows in [1, 3, 4, 5, 7, 9, 13] {
            for blocks in [1, 2, 3, 5, 7, 18] {
                let k = blocks * type.blockElements == 1 ? blocks * 32 : blocks * max(type.blockElements, 32)
                let m = 2
                let weights = TensorConversion.convert(Tensor(shape: [rows, k], floats: rng.floats(rows * k)), to: type)
                let (act, actBytes) = preparedActivations(type, k: k, rows: m, &rng)
                var fast = [Float](repeating: .nan, count: m * rows)
                aigc_matmul_rows(type.rawValue, weights.data, Int64(weights.rowBytes), Int64(k), act, Int64(actBytes), Int64(m), &fast, Int64(rows), 0, Int64(rows))
                defer { aigc_set_simd_level(aigc_cpu_simd_level()) }
                aigc_set_simd_level(Int32(AIGC_SIMD_SCALAR.rawValue))
                for t in 0..<m {
                    for r in 0..<rows {
                        let portable = act.withUnsafeBytes { aigc_vec_dot(type.rawValue, weights.row(r), $0.baseAddress! + t * actBytes, Int64(k)) }
                        let magnitude = weights.floats()[(r * k)..<((r + 1) * k)].reduce(0) { $0 + abs($1) } * 2
                        #expect(abs(fast[t * rows + r] - portable) <= 2e-5 * magnitude + 1e-5,
                                "\(type) rows \(rows) blocks \(blocks) t=\(t) r=\(r): \(fast[t * rows + r]) vs \(portable)")
                    }
                }
                aigc_set_simd_level(aigc_cpu_simd_level())
            }
        }
    }
}

@Suite struct QuantizeRoundTripTests {
    /// The largest |x - dequantize(quantize(x))| each format allows for a block, from its design:
    /// half a quantization step of the block's range (plus the rounding of f16 scales, and for
    /// K-quants the 6-bit quantization of sub-block scales).
    static func bound(_ type: DType, block: ArraySlice<Float>) -> Float {
        let amax = block.map(abs).max() ?? 0
        let range = (block.max() ?? 0) - min(0, block.min() ?? 0)
        switch type {
        case .q8_0: return amax / 127 * 0.5 + amax * 1e-3
        // d = max / -8: the far end of the range clips by one step.
        case .q4_0: return amax / 8 * 1.01 + amax * 2e-3
        case .q5_0: return amax / 16 * 1.01 + amax * 2e-3
        case .q4_1: return ((block.max() ?? 0) - (block.min() ?? 0)) / 15 * 0.5 * 1.01 + amax * 2e-3
        case .q5_1: return ((block.max() ?? 0) - (block.min() ?? 0)) / 31 * 0.5 * 1.01 + amax * 2e-3
        case .q4_K: return range / 15 * 1.5 + amax * 2e-2
        case .q5_K: return range / 31 * 1.5 + amax * 2e-2
        case .q6_K: return amax / 32 * 1.5 + amax * 2e-2
        case .f16: return amax * 1e-3
        case .bf16: return amax * 8e-3
        default: return .infinity
        }
    }

    @Test(arguments: [DType.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K, .f16, .bf16])
    func errorStaysWithinTheFormatBound(_ type: DType) {
        var rng = TestRandom(seed: 4242)
        let n = 256 * 6
        let x = rng.floats(n, scale: 2)
        let q = TensorConversion.convert(Tensor(shape: [1, n], floats: x), to: type)
        let back = q.floats()
        let group = type.isQuantized ? type.blockElements : 32
        for start in stride(from: 0, to: n, by: group) {
            let block = x[start..<(start + group)]
            let b = Self.bound(type, block: block)
            for i in block.indices {
                #expect(abs(back[i] - x[i]) <= b, "\(type) element \(i): \(x[i]) -> \(back[i]), bound \(b)")
            }
        }
    }
}
