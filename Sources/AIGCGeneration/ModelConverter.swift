// ModelConverter: writes a GGUF file of a chosen weight type from any model aigc loads — a GGUF
// (re-quantized), a Hugging Face safetensors folder, or a llama2.c checkpoint (converted, as
// llama.cpp's convert_hf_to_gguf.py would). Tensor choices follow llama.cpp's llama-quant.cpp:
// 1-D tensors stay F32; rows that are not whole K-quant blocks fall back (Q4_K -> Q5_0, Q6_K -> Q8_0);
// the output projection (or the tied token embedding) keeps Q6_K/Q8_0; Q4_K_M keeps some attn_v /
// ffn_down layers in Q6_K.
import AIGCFormats
import AIGCModels
import AIGCTensor
import AIGCTokenizers
import Foundation

public enum QuantizationTarget: String, CaseIterable, Sendable {
    case f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q4_k_m, q5_k, q6_k

    /// llama.cpp's `general.file_type` number for the file.
    var fileType: Int {
        switch self {
        case .f32: 0
        case .f16: 1
        case .q4_0: 2
        case .q4_1: 3
        case .q8_0: 7
        case .q5_0: 8
        case .q5_1: 9
        case .q4_k: 14
        case .q4_k_m: 15
        case .q5_k: 17
        case .q6_k: 18
        case .bf16: 32
        }
    }

    var baseType: DType {
        switch self {
        case .f32: .f32
        case .f16: .f16
        case .bf16: .bf16
        case .q8_0: .q8_0
        case .q4_0: .q4_0
        case .q4_1: .q4_1
        case .q5_0: .q5_0
        case .q5_1: .q5_1
        case .q4_k, .q4_k_m: .q4_K
        case .q5_k: .q5_K
        case .q6_k: .q6_K
        }
    }
}

public enum ModelConverter {
    public struct Progress: Sendable {
        public let tensor: String
        public let type: DType
        public let done: Int
        public let total: Int
    }

    /// Converts the model at `input` into a GGUF at `output` with weights of `target`.
    public static func quantize(input: String, output: String, target: QuantizationTarget, tokenizerPath: String? = nil,
                                progress: (Progress) -> Void = { _ in }) throws {
        var writer = GGUFWriter()
        let plan: [(name: String, tensor: Tensor)]
        switch try ModelFormat.detect(input) {
        case .gguf:
            let gguf = try GGUFFile(path: input)
            guard !gguf.tensorInfos.isEmpty else { throw ModelLoaderError.noWeights(path: input) }
            for key in gguf.metadataKeys where key != "general.file_type" && key != "general.alignment" {
                writer.set(key, gguf.metadata[key]!)
            }
            plan = try gguf.tensorInfos.map { ($0.name, try gguf.tensor($0.name)) }
        case .safetensors, .llama2c:
            plan = try describe(input: input, tokenizerPath: tokenizerPath, into: &writer)
        }
        writer.set("general.file_type", uint32: target.fileType)
        writer.set("general.quantization_version", uint32: 2)
        let layers = Set(plan.compactMap { layerIndex($0.name) }).count
        let hasOutput = plan.contains { $0.name == "output.weight" }
        for (i, item) in plan.enumerated() {
            let type = chooseType(for: item.name, tensor: item.tensor, target: target, layers: layers, hasOutput: hasOutput)
            progress(Progress(tensor: item.name, type: type, done: i, total: plan.count))
            let source = item.tensor.reshaped(item.tensor.shape.count == 1 ? [1, item.tensor.elementCount] : item.tensor.shape)
            let converted = type == item.tensor.dtype ? source : TensorConversion.convert(source, to: type)
            writer.add(converted.reshaped(item.tensor.shape), name: item.name)
        }
        progress(Progress(tensor: "", type: target.baseType, done: plan.count, total: plan.count))
        try writer.write(to: output)
    }

    /// The type a tensor gets, with llama.cpp's fallbacks and the Q4_K_M mixture.
    static func chooseType(for name: String, tensor: Tensor, target: QuantizationTarget, layers: Int, hasOutput: Bool = true) -> DType {
        guard tensor.shape.count >= 2, tensor.dtype.isComputable, name.hasSuffix(".weight") else {
            return tensor.dtype == .f64 ? .f32 : (tensor.dtype.isQuantized ? .f32 : tensor.dtype)
        }
        var type = target.baseType
        let isFloatTarget = [.f32, .f16, .bf16].contains(target)
        // The output projection (the token embedding when tied) keeps more bits: Q6_K, or Q8_0 when
        // its rows are not whole K-quant blocks (llama_tensor_get_type).
        if !isFloatTarget && (name == "output.weight" || (name == "token_embd.weight" && !hasOutput)) {
            type = tensor.rowElements % 256 != 0 || target == .q8_0 ? .q8_0 : .q6_K
        } else if target == .q4_k_m, let layer = layerIndex(name), name.contains("attn_v") || name.contains("ffn_down"), usesMoreBits(layer, layers) {
            type = .q6_K
        }
        if tensor.rowElements % type.blockElements != 0 {
            switch type {
            case .q4_K: type = .q5_0
            case .q5_K, .q6_K: type = .q8_0
            default: type = .f16
            }
            if tensor.rowElements % type.blockElements != 0 { type = .f16 }
        }
        return type
    }

    /// llama.cpp's use_more_bits: the first and last eighth of the layers, and every third in between.
    static func usesMoreBits(_ layer: Int, _ layers: Int) -> Bool {
        layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2
    }

    static func layerIndex(_ name: String) -> Int? {
        guard name.hasPrefix("blk.") else { return nil }
        return Int(name.dropFirst(4).prefix { $0.isNumber })
    }
}
