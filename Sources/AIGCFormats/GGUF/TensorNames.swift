// The one table between Hugging Face tensor names (what models ask for) and GGUF tensor names
// (what llama.cpp's converters write), after llama.cpp's gguf-py/gguf/tensor_mapping.py.
import AIGCTensor

public enum TensorNames {
    /// Names outside the transformer blocks.
    static let global: [String: String] = [
        "model.embed_tokens": "token_embd",
        "model.norm": "output_norm",
        "lm_head": "output",
        "wte": "token_embd",
        "wpe": "position_embd",
        "ln_f": "output_norm",
    ]

    /// Names inside block N, after the "model.layers.N." / "h.N." prefix.
    static let block: [String: String] = [
        // Llama family
        "input_layernorm": "attn_norm",
        "self_attn.q_proj": "attn_q",
        "self_attn.k_proj": "attn_k",
        "self_attn.v_proj": "attn_v",
        "self_attn.o_proj": "attn_output",
        "post_attention_layernorm": "ffn_norm",
        "mlp.gate_proj": "ffn_gate",
        "mlp.up_proj": "ffn_up",
        "mlp.down_proj": "ffn_down",
        // GPT-2
        "ln_1": "attn_norm",
        "attn.c_attn": "attn_qkv",
        "attn.c_proj": "attn_output",
        "ln_2": "ffn_norm",
        "mlp.c_fc": "ffn_up",
        "mlp.c_proj": "ffn_down",
    ]

    /// The GGUF name for a Hugging Face tensor name, or nil when the name has no GGUF counterpart.
    public static func gguf(fromHuggingFace name: String) -> String? {
        var stem = name
        var suffix = ""
        for s in [".weight", ".bias"] where stem.hasSuffix(s) {
            stem.removeLast(s.count)
            suffix = s
        }
        if let mapped = global[stem] { return mapped + suffix }
        for prefix in ["model.layers.", "h.", "transformer.h."] where stem.hasPrefix(prefix) {
            let rest = stem.dropFirst(prefix.count)
            guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]) else { return nil }
            guard let mapped = block[String(rest[rest.index(after: dot)...])] else { return nil }
            return "blk.\(layer).\(mapped)\(suffix)"
        }
        if stem.hasPrefix("transformer.") { return gguf(fromHuggingFace: String(name.dropFirst("transformer.".count))) }
        return nil
    }
}

/// A GGUF file seen through Hugging Face tensor names (GGUF names work too).
public struct GGUFWeights: WeightSource {
    public let file: GGUFFile
    public init(_ file: GGUFFile) { self.file = file }
    public var sourceName: String { file.path }
    public var tensorNames: [String] { file.tensorNames }
    public func tensorIfPresent(_ name: String) -> Tensor? {
        if let mapped = TensorNames.gguf(fromHuggingFace: name), let t = file.tensorIfPresent(mapped) { return t }
        return file.tensorIfPresent(name)
    }
}
