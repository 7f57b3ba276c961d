// Tiny Llama, Qwen2 and GPT-2 models (GGUF and Hugging Face safetensors forms of the same weights)
// against the numpy reference of scripts/reference/make_tiny_models.py.
import AIGCFormats
import AIGCGeneration
import AIGCLayers
import AIGCModels
import AIGCSampling
import AIGCTensor
import AIGCTestSupport
import Foundation
import Testing

/// A tiny model in one file form, run with one key/value cache precision.
struct TinyCase: CustomTestStringConvertible, Sendable {
    let name: String
    let form: String
    let cache: KVCachePrecision
    var path: String { form == "gguf" ? TinyModels.gguf(name) : TinyModels.huggingFace(name) }
    var testDescription: String { "\(name) (\(form), \(cache.rawValue) cache)" }
    /// Logit tolerance relative to the largest reference logit: the float reference is matched to
    /// 1e-4 with a float cache; half-float keys and values (rounded to 2^-11 relative) moved the
    /// tiny models' logits by up to 3e-4.
    var tolerance: Float { cache == .f32 ? 1e-4 : 1e-3 }
    static let all = TinyModels.names.flatMap { n in
        ["gguf", "safetensors"].flatMap { f in KVCachePrecision.allCases.map { TinyCase(name: n, form: f, cache: $0) } }
    }

    func load() throws -> LoadedModel { try ModelLoader.load(path: path, cachePrecision: cache) }
}

/// |a - e| <= 1e-4 relative to the largest reference logit (and 1e-5 absolute).
func expectLogitsClose(_ actual: [Float], _ expected: [Float], relative: Float = 1e-4, _ what: String,
                       sourceLocation: SourceLocation = #_sourceLocation) {
    let scale = expected.map(abs).max() ?? 1
    expectClose(actual, expected, atol: relative * scale + 1e-5, rtol: 0, what, sourceLocation: sourceLocation)
}

@Suite struct TinyModelReferenceTests {
    @Test(arguments: TinyCase.all)
    func prefillLogitsMatchNumpy(_ c: TinyCase) throws {
        let reference = try TinyModels.reference(c.name)
        let model = try c.load().model
        let logits = try model.forward(.prompt(reference.prompt, allLogits: true), cache: model.makeCache(sequences: 1, contextLength: nil))
        #expect(logits.rows == reference.prompt.count && logits.columns == 256)
        for (i, row) in reference.logits.enumerated() { expectLogitsClose(Array(logits.row(i)), row, relative: c.tolerance, "\(c) position \(i)") }
    }

    @Test(arguments: TinyCase.all)
    func incrementalDecodingMatchesFullPrefill(_ c: TinyCase) throws {
        let reference = try TinyModels.reference(c.name)
        let model = try c.load().model
        let cache = model.makeCache(sequences: 1, contextLength: nil)
        let split = 5
        _ = try model.forward(.prompt(Array(reference.prompt[..<split])), cache: cache)
        for i in split..<reference.prompt.count {
            let row = try model.forward(.prompt([reference.prompt[i]], startingAt: i), cache: cache)
            expectLogitsClose(row.values, reference.logits[i], relative: c.tolerance, "\(c) step \(i)")
        }
        #expect(cache.lengths[0] == reference.prompt.count)
    }

    @Test(arguments: TinyCase.all)
    func greedyTokensMatchNumpy(_ c: TinyCase) throws {
        let reference = try TinyModels.reference(c.name)
        let generator = TextGenerator(try c.load())
        var request = GenerationRequest(prompt: "")
        request.promptTokens = reference.prompt
        request.sampling = .greedy
        request.maxTokens = 24
        let result = try generator.generate(request)
        #expect(result.tokens == reference.greedy)
    }

    @Test func sequencesInOneBatchDoNotSeeEachOther() throws {
        let model = try ModelLoader.load(path: TinyModels.gguf("llama")).model
        let a = [1, 2, 3, 4, 5], b = [9, 8, 7]
        let alone = try model.forward(.prompt(a, allLogits: true), cache: model.makeCache(sequences: 1, contextLength: nil))
        let aloneB = try model.forward(.prompt(b, allLogits: true), cache: model.makeCache(sequences: 1, contextLength: nil))
        let batch = TokenBatch(tokens: a + b, positions: Array(0..<5) + Array(0..<3), sequences: [0, 0, 0, 0, 0, 1, 1, 1],
                               wantsLogits: Array(repeating: true, count: 8))
        let both = try model.forward(batch, cache: model.makeCache(sequences: 2, contextLength: nil))
        for i in 0..<5 { expectLogitsClose(Array(both.row(i)), Array(alone.row(i)), "sequence a, \(i)") }
        for i in 0..<3 { expectLogitsClose(Array(both.row(5 + i)), Array(aloneB.row(i)), "sequence b, \(i)") }
    }

    @Test func longPromptGEMMPathMatchesTokenByToken() throws {
        // 40 tokens take the dequantize + sgemm path; one token at a time takes the dot-product path.
        let model = try ModelLoader.load(path: TinyModels.gguf("gpt2")).model
        let tokens = (0..<40).map { ($0 * 37 + 11) % 255 + 1 }
        let full = try model.forward(.prompt(tokens, allLogits: true), cache: model.makeCache(sequences: 1, contextLength: nil))
        let cache = model.makeCache(sequences: 1, contextLength: nil)
        for (i, t) in tokens.enumerated() {
            let row = try model.forward(.prompt([t], startingAt: i), cache: cache)
            expectLogitsClose(row.values, Array(full.row(i)), "position \(i)")
        }
    }

    /// Prefill attention runs in blocks of 64 queries, each against the keys it can see: a 110-token
    /// prompt in one pass (blocks of 64 and 46) and in two (37, then 73 from position 37: blocks of
    /// 64 and 9 with cached keys before them) give the logits of one token at a time.
    @Test(arguments: TinyModels.names)
    func blockedPrefillAttentionMatchesTokenByToken(_ name: String) throws {
        let model = try ModelLoader.load(path: TinyModels.gguf(name)).model
        let tokens = (0..<110).map { ($0 * 53 + 7) % 255 + 1 }
        let stepwise = model.makeCache(sequences: 1, contextLength: nil)
        let expected = try tokens.enumerated().map { i, t in try model.forward(.prompt([t], startingAt: i), cache: stepwise).values }
        let whole = try model.forward(.prompt(tokens, allLogits: true), cache: model.makeCache(sequences: 1, contextLength: nil))
        let cache = model.makeCache(sequences: 1, contextLength: nil)
        let first = try model.forward(.prompt(Array(tokens[..<37]), allLogits: true), cache: cache)
        let second = try model.forward(.prompt(Array(tokens[37...]), startingAt: 37, allLogits: true), cache: cache)
        for i in tokens.indices {
            expectLogitsClose(Array(whole.row(i)), expected[i], "\(name) one pass, position \(i)")
            expectLogitsClose(Array(i < 37 ? first.row(i) : second.row(i - 37)), expected[i], "\(name) two passes, position \(i)")
        }
    }

    @Test func contextOverflowIsAnErrorNotACrash() throws {
        let model = try ModelLoader.load(path: TinyModels.gguf("llama")).model
        let cache = model.makeCache(sequences: 1, contextLength: nil)
        #expect(throws: ModelError.contextOverflow(position: 128, contextLength: 128)) {
            try model.forward(.prompt([1], startingAt: 128), cache: cache)
        }
        #expect(throws: ModelError.tokenOutOfRange(token: 256, vocabularySize: 256)) {
            try model.forward(.prompt([256]), cache: cache)
        }
    }
}

@Suite struct HuggingFaceFolderTests {
    /// Splits the tiny Llama's model.safetensors into two shards with an index, as large checkpoints come.
    @Test func shardedCheckpointLoadsLikeASingleFile() throws {
        let source = TinyModels.huggingFace("llama")
        let folder = Fixtures.temporaryDirectory("sharded")
        defer { try? FileManager.default.removeItem(at: folder) }
        let single = try SafetensorsFile(path: source + "/model.safetensors")
        let names = single.tensorNames
        let halves = [Array(names.prefix(names.count / 2)), Array(names.dropFirst(names.count / 2))]
        var weightMap: [String: String] = [:]
        for (i, part) in halves.enumerated() {
            let file = "model-0000\(i + 1)-of-00002.safetensors"
            try Data(SafetensorsFile.serialize(try part.map { try single.tensor($0) })).write(to: folder.appendingPathComponent(file))
            for n in part { weightMap[n] = file }
        }
        let index = try JSONSerialization.data(withJSONObject: ["metadata": [:], "weight_map": weightMap])
        try index.write(to: folder.appendingPathComponent("model.safetensors.index.json"))
        for f in ["config.json", "vocab.json", "merges.txt"] {
            try FileManager.default.copyItem(atPath: source + "/" + f, toPath: folder.appendingPathComponent(f).path)
        }
        let reference = try TinyModels.reference("llama")
        let model = try ModelLoader.load(path: folder.path).model
        model.cachePrecision = .f32
        let logits = try model.forward(.prompt(reference.prompt), cache: model.makeCache(sequences: 1, contextLength: nil))
        expectLogitsClose(logits.values, reference.logits.last!, "sharded")
    }

    @Test func ropeScalingFromConfigJSON() throws {
        let json = #"{"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 4,"# +
            #""vocab_size": 16, "rope_theta": 500000.0, "rope_scaling": {"rope_type": "llama3", "factor": 8.0,"# +
            #""low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}}"#
        let config = try JSONDecoder().decode(LlamaConfiguration.self, from: Data(json.utf8))
        let factors = try #require(try config.ropeFrequencyFactors())
        #expect(factors.count == 8)
        #expect(factors.first == 1, "high frequencies are kept")
        #expect(abs(factors.last! - 8) < 1e-4, "low frequencies are divided by the factor")
        let linear = try JSONDecoder().decode(LlamaConfiguration.self, from: Data(
            #"{"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 4, "vocab_size": 16, "rope_scaling": {"type": "linear", "factor": 2.0}}"#.utf8))
        #expect(try linear.ropeFrequencyFactors() == [Float](repeating: 2, count: 8))
        let yarn = try JSONDecoder().decode(LlamaConfiguration.self, from: Data(
            #"{"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 4, "vocab_size": 16, "rope_scaling": {"rope_type": "yarn", "factor": 4.0}}"#.utf8))
        #expect(throws: ModelError.self) { try yarn.ropeFrequencyFactors() }
    }
}
