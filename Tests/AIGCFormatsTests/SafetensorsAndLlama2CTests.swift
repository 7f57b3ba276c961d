// safetensors and llama2.c readers: round trips, real files, and clear errors for broken ones.
import AIGCFormats
import AIGCTensor
import AIGCTestSupport
import Foundation
import Testing

func safetensors(header: String, data: Int) -> [UInt8] {
    var b: [UInt8] = []
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { b += $0 }
    return b + Array(header.utf8) + [UInt8](repeating: 0, count: data)
}

@Suite struct SafetensorsTests {
    @Test func writeReadRoundTrip() throws {
        let a = Tensor(name: "a", shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        let b = TensorConversion.convert(Tensor(name: "b", shape: [4], floats: [0.5, -1, 2, 8]), to: .bf16)
        let bytes = SafetensorsFile.serialize([a, b], metadata: ["format": "pt"])
        let file = try SafetensorsFile(file: MappedFile(copying: bytes, path: "x.safetensors"))
        #expect(file.metadata["format"] == "pt")
        #expect(try file.tensor("a").floats() == [1, 2, 3, 4, 5, 6])
        #expect(try file.tensor("b").floats() == [0.5, -1, 2, 8])
        #expect(try file.tensor("b").dtype == .bf16)
    }

    @Test func readsTheTinyModelFolder() throws {
        let folder = try SafetensorsFolder(path: Fixtures.fixture("tiny-models/gpt2/hf"))
        #expect(try folder.tensor("h.0.attn.c_attn.weight").shape == [64, 192])
    }

    @Test func badHeadersAreNamed() {
        func error(_ bytes: [UInt8]) -> String {
            do { _ = try SafetensorsFile(file: MappedFile(copying: bytes, path: "bad.safetensors")); return "" } catch { return "\(error)" }
        }
        #expect(error([1, 2, 3]).contains("header length"))
        var huge: [UInt8] = []
        withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { huge += $0 }
        #expect(error(huge).contains("header length"))
        #expect(error(safetensors(header: "{not json", data: 0)).contains("not valid JSON"))
        #expect(error(safetensors(header: "[1]", data: 0)).contains("must be a JSON object"))
        #expect(error(safetensors(header: #"{"w":{"dtype":"Q9","shape":[1],"data_offsets":[0,4]}}"#, data: 4)).contains("dtype of 'w'"))
        #expect(error(safetensors(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: 4)).contains("past the end"))
        #expect(error(safetensors(header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: 8)).contains("needs 12"))
        #expect(error(safetensors(header: #"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: 4)).contains("shape of 'w'"))
        #expect(error(safetensors(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, data: 4)).contains("data_offsets of 'w'"))
    }

    @Test func missingFolderFilesAreExplained() {
        let empty = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: empty) }
        do {
            _ = try SafetensorsFolder(path: empty.path)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("model.safetensors"))
        }
    }
}

@Suite struct Llama2CTests {
    @Test func readsStories260K() throws {
        let model = try Llama2CCheckpoint(path: Fixtures.shared("models/llama2c/stories260K.bin"))
        #expect(model.header == Llama2CHeader(dim: 64, hiddenDim: 172, layers: 5, heads: 8, kvHeads: 4, vocabSize: 512,
                                              sequenceLength: 512, sharedClassifier: true))
        #expect(try model.tensor("model.layers.4.self_attn.k_proj.weight").shape == [32, 64])
        let vocab = try Llama2CVocabulary(path: Fixtures.shared("models/llama2c/tok512.bin"), vocabSize: 512)
        #expect(vocab.pieces.count == 512)
        #expect(String(decoding: vocab.pieces[1], as: UTF8.self) == "\n<s>\n")
    }

    @Test func wrongSizesAndHeadersAreExplained() throws {
        let real = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.shared("models/llama2c/stories260K.bin"))))
        func error(_ bytes: [UInt8]) -> String {
            do { _ = try Llama2CCheckpoint(file: MappedFile(copying: bytes, path: "m.bin")); return "" } catch { return "\(error)" }
        }
        #expect(error(Array(real.prefix(10))).contains("truncated"))
        #expect(error(Array(real.dropLast(4))).contains("needs exactly"))
        var badHeads = real
        badHeads[12] = 7
        #expect(error(badHeads).contains("n_heads"))
        var negative = real
        negative[0] = 0; negative[1] = 0; negative[2] = 0; negative[3] = 0x80
        #expect(error(negative).contains("dim"))
        do {
            _ = try Llama2CVocabulary(path: Fixtures.shared("models/llama2c/tok512.bin"), vocabSize: 32000)
            Issue.record("expected a token count error")
        } catch {
            #expect("\(error)".contains("expects 32000 tokens"))
        }
    }
}
