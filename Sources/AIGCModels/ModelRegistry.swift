// ModelRegistry: one line per architecture, keyed by GGUF `general.architecture` or Hugging Face
// `model_type` (as mlx-swift-lm's LLMModelFactory does), instead of a growing switch.
import AIGCKernels
import AIGCTensor
import Foundation

public enum ModelRegistry {
    public typealias GGUFBuilder = @Sendable (_ metadata: ConfigurationSource, _ weights: any WeightSource, _ pool: ComputePool) throws -> any TextModel
    public typealias HuggingFaceBuilder = @Sendable (_ configJSON: Data, _ weights: any WeightSource, _ pool: ComputePool) throws -> any TextModel

    /// GGUF architectures.
    public static let gguf: [String: GGUFBuilder] = [
        "llama": { m, w, p in try llamaFromGGUF("llama", m, w, p) },
        "mistral": { m, w, p in try llamaFromGGUF("mistral", m, w, p) },
        "qwen2": { m, w, p in try llamaFromGGUF("qwen2", m, w, p) },
        "gpt2": { m, w, p in
            let vocab = try w.tensor("wte.weight").shape[0]
            return try GPT2Model(configuration: GPT2Configuration(gguf: m, vocabularySize: vocab), weights: w, conv1DLayout: false, pool: p)
        },
    ]

    /// Hugging Face `config.json` model types.
    public static let huggingFace: [String: HuggingFaceBuilder] = [
        "llama": { json, w, p in try llamaFromHuggingFace("llama", json, w, p) },
        "mistral": { json, w, p in try llamaFromHuggingFace("mistral", json, w, p) },
        "qwen2": { json, w, p in try llamaFromHuggingFace("qwen2", json, w, p) },
        "gpt2": { json, w, p in
            try GPT2Model(configuration: JSONDecoder().decode(GPT2Configuration.self, from: json), weights: w, conv1DLayout: true, pool: p)
        },
    ]

    static func llamaFromGGUF(_ arch: String, _ m: ConfigurationSource, _ w: any WeightSource, _ p: ComputePool) throws -> any TextModel {
        let embedding = try w.tensor("model.embed_tokens.weight")
        let config = try LlamaConfiguration(gguf: m, architecture: arch, vocabularySize: embedding.shape[0],
                                            tiedEmbeddings: !w.contains("lm_head.weight"))
        return try LlamaModel(configuration: config, weights: w, architecture: arch, pool: p)
    }

    static func llamaFromHuggingFace(_ arch: String, _ json: Data, _ w: any WeightSource, _ p: ComputePool) throws -> any TextModel {
        var config = try JSONDecoder().decode(LlamaConfiguration.self, from: json)
        if !w.contains("lm_head.weight") { config.tieWordEmbeddings = true }
        return try LlamaModel(configuration: config, weights: w, architecture: arch, pool: p)
    }
}
