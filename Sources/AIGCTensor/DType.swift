// Element types of tensors, numbered as ggml numbers them (the ids GGUF files store).
import CKernels

/// A tensor element type: plain floats and integers, or a quantized block format.
public enum DType: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
    case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15
    case i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, bf16 = 30

    /// Elements per block (1 for plain types).
    public var blockElements: Int { Int(aigc_type_block_elements(rawValue)) }
    /// Bytes per block (bytes per element for plain types).
    public var blockBytes: Int { Int(aigc_type_block_bytes(rawValue)) }
    public var isQuantized: Bool { blockElements > 1 }
    /// Can the kernels multiply weights of this type (dequantize and take dot products)?
    public var isComputable: Bool {
        switch self {
        case .i8, .i16, .i32, .i64, .f64, .q8_1, .q8_K: return false
        default: return true
        }
    }

    /// Bytes taken by `count` elements, or nil when count is not a whole number of blocks or overflows.
    public func byteCount(elements count: Int) -> Int? {
        guard count >= 0, count % blockElements == 0 else { return nil }
        let (bytes, overflow) = (count / blockElements).multipliedReportingOverflow(by: blockBytes)
        return overflow ? nil : bytes
    }

    /// The GGUF / llama.cpp spelling: "F32", "Q4_K", ...
    public var description: String {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .bf16: "BF16"
        case .q4_0: "Q4_0"
        case .q4_1: "Q4_1"
        case .q5_0: "Q5_0"
        case .q5_1: "Q5_1"
        case .q8_0: "Q8_0"
        case .q8_1: "Q8_1"
        case .q2_K: "Q2_K"
        case .q3_K: "Q3_K"
        case .q4_K: "Q4_K"
        case .q5_K: "Q5_K"
        case .q6_K: "Q6_K"
        case .q8_K: "Q8_K"
        case .i8: "I8"
        case .i16: "I16"
        case .i32: "I32"
        case .i64: "I64"
        case .f64: "F64"
        }
    }

    /// Parses "q4_k", "Q8_0", "f16" and friends.
    public init?(name: String) {
        guard let match = DType.allCases.first(where: { $0.description.lowercased() == name.lowercased() }) else { return nil }
        self = match
    }
}
