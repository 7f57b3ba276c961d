// aigc quantize: Hugging Face and llama2.c models converted to GGUF compute what the originals compute;
// re-quantized weights stay within their format's error; llama.cpp's type choices.
@testable import AIGCGeneration
import AIGCFormats
import AIGCModels
import AIGCTensor
import AIGCTestSupport
import Foundation
import Testing

@Suite(.serialized) struct ModelConverterTests {
    let folder = Fixtures.temporaryDirectory("convert")

    /// With a float key/value cache, so that the float references hold to 1e-4.
    func logits(_ path: String, _ tokens: [Int]) throws -> [Float] {
        let model = try ModelLoader.load(path: path).model
        model.cachePrecision = .f32
        return try model.forward(.prompt(tokens), cache: model.makeCache(sequences: 1, contextLength: nil)).values
    }

    @Test(arguments: ["llama", "qwen2", "gpt2"])
    func huggingFaceFolderBecomesAnEquivalentGGUF(_ name: String) throws {
        let out = folder.appendingPathComponent("\(name).gguf").path
        try ModelConverter.quantize(input: TinyModels.huggingFace(name), output: out, target: .f32)
        let reference = try TinyModels.reference(name)
        let scale = reference.logits.last!.map(abs).max()!
        expectClose(try logits(out, reference.prompt), reference.logits.last!, atol: 1e-4 * scale, rtol: 0, "\(name) converted")
        let gguf = try GGUFFile(path: out)
        #expect(gguf.int("general.file_type") == 0)
        #expect(gguf.string("tokenizer.ggml.model") == "gpt2")
    }

    @Test func requantizedWeightsStayWithinTheFormatBound() throws {
        let out = folder.appendingPathComponent("llama-q8.gguf").path
        try ModelConverter.quantize(input: TinyModels.gguf("llama"), output: out, target: .q8_0)
        let source = try GGUFFile(path: TinyModels.gguf("llama")), result = try GGUFFile(path: out)
        #expect(result.metadataKeys.count == source.metadataKeys.count + 1)
        for info in source.tensorInfos {
            let original = try source.tensor(info.name).floats(), converted = try result.tensor(info.name)
            #expect(converted.dtype == (info.shape.count == 2 ? .q8_0 : .f32), "\(info.name)")
            let values = converted.floats()
            for start in stride(from: 0, to: original.count, by: 32) {
                let block = original[start..<min(original.count, start + 32)]
                // Half a step, plus the float16 rounding of the block scale (relative 2^-11 at q = 127).
                let amax = block.map(abs).max() ?? 0
                let bound = amax / 127 * 0.5 + amax * 1e-3 + 1e-7
                for i in block.indices { #expect(abs(values[i] - original[i]) <= bound, "\(info.name)[\(i)]") }
            }
        }
        let reference = try TinyModels.reference("llama")
        let scale = reference.logits.last!.map(abs).max()!
        expectClose(try logits(out, reference.prompt), reference.logits.last!, atol: 0.05 * scale, rtol: 0, "q8_0 model")
    }

    @Test func llama2CheckpointBecomesAGGUFThatTellsTheSameStory() throws {
        let d = Fixtures.shared("models/llama2c")
        let out = folder.appendingPathComponent("stories.gguf").path
        try ModelConverter.quantize(input: d + "/stories260K.bin", output: out, target: .f32, tokenizerPath: d + "/tok512.bin")
        let generator = TextGenerator(try ModelLoader.load(path: out))
        var r = GenerationRequest(prompt: "")
        r.sampling = .greedy
        r.maxTokens = 256
        let expected = try String(contentsOfFile: Fixtures.fixture("llama2c/stories260K-greedy-256.txt"), encoding: .utf8)
        #expect(try generator.generate(r).text == expected)
    }

    @Test func typeChoicesFollowLlamaCpp() {
        let wide = Tensor(shape: [2, 512], floats: [Float](repeating: 1, count: 1024))
        let narrow = Tensor(shape: [2, 576], floats: [Float](repeating: 1, count: 1152))
        let norm = Tensor(shape: [576], floats: [Float](repeating: 1, count: 576))
        #expect(ModelConverter.chooseType(for: "blk.3.ffn_up.weight", tensor: wide, target: .q4_k, layers: 30) == .q4_K)
        #expect(ModelConverter.chooseType(for: "blk.3.ffn_up.weight", tensor: narrow, target: .q4_k, layers: 30) == .q5_0)
        #expect(ModelConverter.chooseType(for: "blk.0.ffn_down.weight", tensor: wide, target: .q4_k_m, layers: 30) == .q6_K)
        #expect(ModelConverter.chooseType(for: "blk.4.ffn_down.weight", tensor: wide, target: .q4_k_m, layers: 30) == .q4_K)
        #expect(ModelConverter.chooseType(for: "output.weight", tensor: narrow, target: .q4_k_m, layers: 30) == .q8_0)
        #expect(ModelConverter.chooseType(for: "output.weight", tensor: wide, target: .q4_0, layers: 30) == .q6_K)
        #expect(ModelConverter.chooseType(for: "token_embd.weight", tensor: narrow, target: .q4_0, layers: 30, hasOutput: false) == .q8_0)
        #expect(ModelConverter.chooseType(for: "token_embd.weight", tensor: narrow, target: .q4_0, layers: 30, hasOutput: true) == .q4_0)
        #expect(ModelConverter.chooseType(for: "output.weight", tensor: narrow, target: .f16, layers: 30) == .f16)
        #expect(ModelConverter.chooseType(for: "blk.0.attn_norm.weight", tensor: norm, target: .q4_0, layers: 30) == .f32)
    }
}
