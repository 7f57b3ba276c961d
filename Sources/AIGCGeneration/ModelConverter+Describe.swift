// GGUF metadata and tensor names for models that are not GGUF yet (Hugging Face folders, llama2.c),
// after llama.cpp's convert_hf_to_gguf.py: Llama q/k rows permuted for interleaved rotary pairs,
// GPT-2 Conv1D weights transposed to [out, in], the tokenizer written as tokenizer.ggml.* keys.
import AIGCFormats
import AIGCModels
import AIGCTensor
import AIGCTokenizers
import Foundation

extension ModelConverter {
    static func describe(input: String, tokenizerPath: String?, into w: inout GGUFWriter) throws -> [(name: String, tensor: Tensor)] {
        let format = try ModelFormat.detect(input)
        let tokenizer = try ModelLoader.loadTokenizer(path: input, tokenizerPath: tokenizerPath)
        let name = ((input as NSString).lastPathComponent as NSString).deletingPathExtension
        w.set("general.name", name)
        var plan: [(name: String, tensor: Tensor)] = []
        if format == .llama2c {
            let checkpoint = try Llama2CCheckpoint(path: input)
            let h = checkpoint.header
            let config = LlamaConfiguration(hiddenSize: h.dim, intermediateSize: h.hiddenDim, layers: h.layers, heads: h.heads, kvHeads: h.kvHeads,
                                            vocabularySize: h.vocabSize, contextLength: h.sequenceLength, ropeInterleaved: true,
                                            tieWordEmbeddings: h.sharedClassifier)
            setLlama(config, architecture: "llama", into: &w)
            plan = try llamaTensors(checkpoint, config: config, permute: false)
        } else {
            let folder = ModelLoader.folderOf(input)
            let configPath = (folder as NSString).appendingPathComponent("config.json")
            guard let json = FileManager.default.contents(atPath: configPath),
                  let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
                throw FormatError.missingFile(path: configPath, hint: "A Hugging Face model folder needs its config.json.")
            }
            let weights = StrippedPrefixWeights(input.hasSuffix(".safetensors") ? try SafetensorsFile(path: input) : try SafetensorsFolder(path: folder))
            switch object["model_type"] as? String ?? "?" {
            case "llama", "mistral", "qwen2":
                let arch = object["model_type"] as? String == "qwen2" ? "qwen2" : "llama"
                var config = try JSONDecoder().decode(LlamaConfiguration.self, from: json)
                if !weights.contains("lm_head.weight") { config.tieWordEmbeddings = true }
                setLlama(config, architecture: arch, into: &w)
                plan = try llamaTensors(weights, config: config, permute: arch == "llama")
                if let factors = try config.ropeFrequencyFactors() {
                    plan.append(("rope_freqs.weight", Tensor(name: "rope_freqs.weight", shape: [factors.count], floats: factors)))
                }
            case "gpt2":
                let config = try JSONDecoder().decode(GPT2Configuration.self, from: json)
                setGPT2(config, into: &w)
                plan = try gpt2Tensors(weights, config: config)
            case let other:
                throw ModelLoaderError.unsupportedArchitecture(path: configPath, architecture: other, supported: ["llama", "mistral", "qwen2", "gpt2"])
            }
            if let template = try? ModelLoader.huggingFaceChatTemplate(folder: folder) { w.set("tokenizer.chat_template", template) }
        }
        setTokenizer(tokenizer.vocabulary, into: &w)
        return plan
    }

    static func setLlama(_ c: LlamaConfiguration, architecture a: String, into w: inout GGUFWriter) {
        w.set("general.architecture", a)
        w.set("\(a).context_length", uint32: c.contextLength)
        w.set("\(a).embedding_length", uint32: c.hiddenSize)
        w.set("\(a).block_count", uint32: c.layers)
        w.set("\(a).feed_forward_length", uint32: c.intermediateSize)
        w.set("\(a).attention.head_count", uint32: c.heads)
        w.set("\(a).attention.head_count_kv", uint32: c.kvHeads)
        w.set("\(a).attention.layer_norm_rms_epsilon", float32: Double(c.rmsNormEps))
        w.set("\(a).rope.freq_base", float32: Double(c.ropeTheta))
        w.set("\(a).rope.dimension_count", uint32: c.ropeDims)
        if c.headDim != c.hiddenSize / c.heads {
            w.set("\(a).attention.key_length", uint32: c.headDim)
            w.set("\(a).attention.value_length", uint32: c.headDim)
        }
        if let s = c.ropeScaling, s.type == "linear" {
            w.set("\(a).rope.scaling.type", "linear")
            w.set("\(a).rope.scaling.factor", float32: Double(s.factor))
        }
    }

    static func setGPT2(_ c: GPT2Configuration, into w: inout GGUFWriter) {
        w.set("general.architecture", "gpt2")
        w.set("gpt2.context_length", uint32: c.contextLength)
        w.set("gpt2.embedding_length", uint32: c.hiddenSize)
        w.set("gpt2.block_count", uint32: c.layers)
        w.set("gpt2.feed_forward_length", uint32: c.intermediateSize)
        w.set("gpt2.attention.head_count", uint32: c.heads)
        w.set("gpt2.attention.layer_norm_epsilon", float32: Double(c.layerNormEps))
    }

    static func setTokenizer(_ v: Vocabulary, into w: inout GGUFWriter) {
        switch v.model {
        case let .byteLevelBPE(kind):
            w.set("tokenizer.ggml.model", "gpt2")
            let pre: [PreTokenizerKind: String] = [.gpt2: "gpt-2", .llama3: "llama-bpe", .qwen2: "qwen2", .digitsGPT2: "smollm"]
            w.set("tokenizer.ggml.pre", pre[kind] ?? "default")
            w.set("tokenizer.ggml.merges", strings: v.merges)
        case .sentencePiece:
            w.set("tokenizer.ggml.model", "llama")
            w.set("tokenizer.ggml.pre", "default")
            w.set("tokenizer.ggml.scores", float32s: v.scores.isEmpty ? Array(repeating: 0, count: v.count) : v.scores)
            w.set("tokenizer.ggml.add_space_prefix", .bool(v.addSpacePrefix))
        }
        w.set("tokenizer.ggml.tokens", strings: v.tokens)
        w.set("tokenizer.ggml.token_type", int32s: v.types.map(\.rawValue))
        for (key, id) in [("bos", v.bos), ("eos", v.eos), ("unknown", v.unknown), ("padding", v.padding)] {
            if let id { w.set("tokenizer.ggml.\(key)_token_id", uint32: id) }
        }
        w.set("tokenizer.ggml.add_bos_token", .bool(v.addBOS))
        w.set("tokenizer.ggml.add_eos_token", .bool(v.addEOS))
    }

    static func llamaTensors(_ weights: any WeightSource, config c: LlamaConfiguration, permute: Bool) throws -> [(name: String, tensor: Tensor)] {
        var names = ["model.embed_tokens.weight"]
        for l in 0..<c.layers {
            for part in ["input_layernorm", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                         "post_attention_layernorm", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"] {
                names += ["model.layers.\(l).\(part).weight", "model.layers.\(l).\(part).bias"]
            }
        }
        names += ["model.norm.weight"] + (c.tieWordEmbeddings ? [] : ["lm_head.weight"])
        return try names.compactMap { hf -> (String, Tensor)? in
            guard var t = weights.tensorIfPresent(hf), let gguf = TensorNames.gguf(fromHuggingFace: hf) else { return nil }
            if permute && hf.contains("q_proj") { t = try interleaveRotaryPairs(t, heads: c.heads) }
            if permute && hf.contains("k_proj") { t = try interleaveRotaryPairs(t, heads: c.kvHeads) }
            return (gguf, t)
        }
    }

    static func gpt2Tensors(_ weights: any WeightSource, config c: GPT2Configuration) throws -> [(name: String, tensor: Tensor)] {
        var names = ["wte.weight", "wpe.weight"]
        for l in 0..<c.layers {
            for part in ["ln_1", "attn.c_attn", "attn.c_proj", "ln_2", "mlp.c_fc", "mlp.c_proj"] { names += ["h.\(l).\(part).weight", "h.\(l).\(part).bias"] }
        }
        names += ["ln_f.weight", "ln_f.bias"]
        return try names.map { hf in
            var t = try weights.tensor(hf)
            if t.shape.count == 2 && hf.hasPrefix("h.") { t = transposed(t) } // Conv1D [in, out] -> [out, in]
            return (TensorNames.gguf(fromHuggingFace: hf) ?? hf, t)
        }
    }

    /// Rows of each head reordered from (i, i + D/2) pairs to (2i, 2i + 1) pairs (convert_hf_to_gguf's permute).
    static func interleaveRotaryPairs(_ t: Tensor, heads: Int) throws -> Tensor {
        let rows = t.shape[0], cols = t.rowElements, d = rows / heads
        guard rows % heads == 0, d % 2 == 0 else {
            throw ModelError.invalidConfiguration("cannot split \(rows) rows of \(t.name) into \(heads) heads of even size")
        }
        let source = t.floats()
        var out = [Float](repeating: 0, count: source.count)
        for h in 0..<heads {
            for half in 0..<2 {
                for i in 0..<(d / 2) {
                    let from = h * d + half * (d / 2) + i, to = h * d + 2 * i + half
                    out[(to * cols)..<((to + 1) * cols)] = source[(from * cols)..<((from + 1) * cols)]
                }
            }
        }
        return Tensor(name: t.name, shape: t.shape, floats: out)
    }

    static func transposed(_ t: Tensor) -> Tensor {
        let rows = t.shape[0], cols = t.shape[1], source = t.floats()
        var out = [Float](repeating: 0, count: source.count)
        for r in 0..<rows { for c in 0..<cols { out[c * rows + r] = source[r * cols + c] } }
        return Tensor(name: t.name, shape: [cols, rows], floats: out)
    }
}
