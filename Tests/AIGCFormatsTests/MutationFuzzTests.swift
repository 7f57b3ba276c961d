// Mutation fuzzing of the GGUF and safetensors readers and everything built on them: thousands of
// corrupted files per run (bit flips, truncations, insertions, deletions, extreme integers). Every
// case must load or throw one of aigc's typed errors — never crash, hang, or allocate absurdly.
import AIGCFormats
import AIGCGeneration
import AIGCModels
import AIGCTensor
import AIGCTestSupport
import AIGCTokenizers
import Foundation
import Testing

enum Fuzz {
    static let cases = Int(ProcessInfo.processInfo.environment["AIGC_FUZZ_CASES"] ?? "") ?? 5000

    /// A small but complete Llama model with a byte-level tokenizer, written by GGUFWriter.
    static func seedGGUF() -> [UInt8] {
        var rng = TestRandom(seed: 5)
        var w = GGUFWriter()
        w.set("general.architecture", "llama")
        w.set("general.name", "fuzz")
        w.set("llama.context_length", uint32: 64)
        w.set("llama.embedding_length", uint32: 32)
        w.set("llama.block_count", uint32: 1)
        w.set("llama.feed_forward_length", uint32: 64)
        w.set("llama.attention.head_count", uint32: 4)
        w.set("llama.attention.head_count_kv", uint32: 2)
        w.set("llama.rope.dimension_count", uint32: 8)
        w.set("llama.attention.layer_norm_rms_epsilon", float32: 1e-5)
        w.set("tokenizer.ggml.model", "gpt2")
        w.set("tokenizer.ggml.pre", "gpt-2")
        let tokens = (0..<64).map { String(ByteLevel.byteToScalar[$0 + 32]) } + ["\u{120}a", "ab"]
        w.set("tokenizer.ggml.tokens", strings: tokens)
        w.set("tokenizer.ggml.token_type", int32s: Array(repeating: 1, count: tokens.count))
        w.set("tokenizer.ggml.merges", strings: ["\u{120} a", "a b"])
        w.set("tokenizer.ggml.eos_token_id", uint32: 0)
        let vocab = tokens.count
        w.add(name: "token_embd.weight", shape: [vocab, 32], floats: rng.floats(vocab * 32), as: .q8_0)
        w.add(name: "blk.0.attn_norm.weight", shape: [32], floats: rng.floats(32))
        w.add(name: "blk.0.attn_q.weight", shape: [32, 32], floats: rng.floats(1024), as: .q4_1)
        w.add(name: "blk.0.attn_k.weight", shape: [16, 32], floats: rng.floats(512), as: .q4_0)
        w.add(name: "blk.0.attn_v.weight", shape: [16, 32], floats: rng.floats(512), as: .f16)
        w.add(name: "blk.0.attn_output.weight", shape: [32, 32], floats: rng.floats(1024), as: .q5_1)
        w.add(name: "blk.0.ffn_norm.weight", shape: [32], floats: rng.floats(32))
        w.add(name: "blk.0.ffn_gate.weight", shape: [64, 32], floats: rng.floats(2048), as: .q5_0)
        w.add(name: "blk.0.ffn_up.weight", shape: [64, 32], floats: rng.floats(2048), as: .bf16)
        w.add(name: "blk.0.ffn_down.weight", shape: [32, 64], floats: rng.floats(2048), as: .q8_0)
        w.add(name: "output_norm.weight", shape: [32], floats: rng.floats(32))
        return w.serialized()
    }

    static func seedSafetensors() -> [UInt8] {
        var rng = TestRandom(seed: 6)
        return SafetensorsFile.serialize([
            Tensor(name: "model.embed_tokens.weight", shape: [8, 4], floats: rng.floats(32)),
            TensorConversion.convert(Tensor(name: "lm_head.weight", shape: [8, 4], floats: rng.floats(32)), to: .f16),
            TensorConversion.convert(Tensor(name: "norm", shape: [4], floats: rng.floats(4)), to: .bf16),
        ], metadata: ["format": "pt"])
    }

    /// One random corruption of `bytes`, mostly inside the first `hot` bytes (headers and metadata).
    static func mutate(_ bytes: [UInt8], hot: Int, _ rng: inout TestRandom) -> [UInt8] {
        var b = bytes
        let region = max(1, min(hot, b.count))
        switch rng.int(0..<7) {
        case 0:
            for _ in 0..<rng.int(1..<9) { let i = rng.int(0..<region); b[i] ^= UInt8(1 << rng.int(0..<8)) }
        case 1:
            b = Array(b.prefix(rng.int(0..<b.count)))
        case 2:
            let i = rng.int(0..<region)
            b.insert(contentsOf: rng.bytes(rng.int(1..<16)), at: i)
        case 3:
            let i = rng.int(0..<region)
            b.removeSubrange(i..<min(b.count, i + rng.int(1..<16)))
        case 4:
            let extremes: [UInt64] = [0, 1, UInt64.max, UInt64(Int64.max), 1 << 31, 1 << 32, 1 << 63, 0xFFFF_FFFF, 7]
            let v = extremes[rng.int(0..<extremes.count)]
            let i = rng.int(0..<max(1, region - 8))
            withUnsafeBytes(of: v.littleEndian) { for (k, x) in $0.enumerated() where i + k < b.count { b[i + k] = x } }
        case 5:
            let i = rng.int(0..<region)
            b[i] = UInt8(truncatingIfNeeded: rng.next())
        default:
            let i = rng.int(0..<region), j = rng.int(0..<region)
            let n = min(8, b.count - max(i, j))
            if n > 0 { for k in 0..<n { b[j + k] = b[i + k] } }
        }
        return b
    }

    static func isTyped(_ error: Error) -> Bool {
        error is FormatError || error is TokenizerError || error is TensorError || error is ModelError || error is ModelLoaderError
    }
}

@Suite struct MutationFuzzTests {
    @Test func seedFilesAreValid() throws {
        let gguf = try GGUFFile(file: MappedFile(copying: Fuzz.seedGGUF(), path: "seed.gguf"))
        let loaded = try ModelLoader.load(gguf: gguf)
        let logits = try loaded.model.forward(.prompt(loaded.tokenizer.encode("ab a")), cache: loaded.model.makeCache(sequences: 1, contextLength: nil))
        #expect(logits.columns == 66)
        _ = try SafetensorsFile(file: MappedFile(copying: Fuzz.seedSafetensors(), path: "seed.safetensors"))
    }

    @Test func corruptedGGUFNeverCrashes() throws {
        let seed = Fuzz.seedGGUF()
        let hot = try GGUFFile(file: MappedFile(copying: seed, path: "seed.gguf")).dataOffset
        var rng = TestRandom(seed: 20261123)
        var outcomes = [String: Int]()
        for i in 0..<Fuzz.cases {
            let bytes = Fuzz.mutate(seed, hot: hot, &rng)
            do {
                let file = try GGUFFile(file: MappedFile(copying: bytes, path: "fuzz.gguf"))
                for info in file.tensorInfos where info.dtype.isComputable {
                    let t = try file.tensor(info.name)
                    var row = [Float](repeating: 0, count: t.rowElements)
                    t.dequantizeRow(t.rowCount - 1, into: &row)
                }
                let loaded = try ModelLoader.load(gguf: file)
                let ids = loaded.tokenizer.encode("ab a b!", addSpecial: true, parseSpecial: true)
                _ = loaded.tokenizer.decode(ids)
                if i % 4 == 0, !ids.isEmpty {
                    _ = try loaded.model.forward(.prompt(Array(ids.prefix(4))), cache: loaded.model.makeCache(sequences: 1, contextLength: nil))
                }
                outcomes["loaded", default: 0] += 1
            } catch {
                #expect(Fuzz.isTyped(error), "case \(i) (seed \(rng.seed)): untyped error \(type(of: error)): \(error)")
                outcomes[String(describing: type(of: error)), default: 0] += 1
            }
        }
        print("GGUF fuzz outcomes: \(outcomes)")
        #expect(outcomes.values.reduce(0, +) == Fuzz.cases)
        #expect((outcomes["FormatError"] ?? 0) > Fuzz.cases / 4, "most corruptions are caught by the reader: \(outcomes)")
    }

    @Test func corruptedSafetensorsNeverCrashes() throws {
        let seed = Fuzz.seedSafetensors()
        let headerEnd = 8 + Int(seed.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        var rng = TestRandom(seed: 7)
        for i in 0..<(Fuzz.cases * 2 / 3) {
            let bytes = Fuzz.mutate(seed, hot: headerEnd, &rng)
            do {
                let file = try SafetensorsFile(file: MappedFile(copying: bytes, path: "fuzz.safetensors"))
                for name in file.tensorNames { _ = try file.tensor(name).floats() }
            } catch {
                #expect(Fuzz.isTyped(error), "case \(i): untyped error \(type(of: error)): \(error)")
            }
        }
    }

    @Test func corruptedLlama2CNeverCrashes() throws {
        let real = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.shared("models/llama2c/stories260K.bin"))))
        var rng = TestRandom(seed: 8)
        for i in 0..<300 {
            let bytes = Fuzz.mutate(real, hot: 28, &rng)
            do { _ = try Llama2CCheckpoint(file: MappedFile(copying: bytes, path: "fuzz.bin")) } catch {
                #expect(Fuzz.isTyped(error), "case \(i): \(error)")
            }
        }
    }
}
