// GGUF: write -> read round trips of every metadata type, real files, and precise errors for bad input.
import AIGCFormats
import AIGCTensor
import AIGCTestSupport
import Foundation
import Testing

/// Builds GGUF bytes field by field, to make well-formed and deliberately broken files.
struct GGUFBytes {
    var bytes: [UInt8] = []
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func string(_ s: String) { u64(UInt64(s.utf8.count)); bytes += Array(s.utf8) }
    static func header(version: UInt32 = 3, tensors: UInt64, kvs: UInt64) -> GGUFBytes {
        var b = GGUFBytes()
        b.bytes += Array("GGUF".utf8)
        b.u32(version)
        b.u64(tensors)
        b.u64(kvs)
        return b
    }
}

func parse(_ bytes: [UInt8], name: String = "test.gguf") throws -> GGUFFile {
    try GGUFFile(file: MappedFile(copying: bytes, path: name))
}

func formatError(_ body: () throws -> Void) -> FormatError? {
    do { try body() } catch let e as FormatError { return e } catch { return nil }
    return nil
}

@Suite struct GGUFRoundTripTests {
    @Test func everyMetadataTypeSurvivesWriteRead() throws {
        var w = GGUFWriter()
        let values: [(String, GGUFValue)] = [
            ("u8", .uint8(200)), ("i8", .int8(-5)), ("u16", .uint16(60000)), ("i16", .int16(-30000)), ("u32", .uint32(4_000_000_000)),
            ("i32", .int32(-2_000_000_000)), ("u64", .uint64(1 << 60)), ("i64", .int64(-(1 << 60))), ("f32", .float32(3.5)),
            ("f64", .float64(-2.25)), ("bool", .bool(true)), ("string", .string("héllo 世界")),
            ("strings", .array(.string, [.string("a"), .string(""), .string("ü")])), ("ints", .array(.int32, [.int32(1), .int32(-2)])),
            ("nested", .array(.array, [.array(.uint8, [.uint8(1)]), .array(.uint8, [])])), ("empty", .array(.float32, [])),
        ]
        for (k, v) in values { w.set(k, v) }
        var rng = TestRandom(seed: 1)
        w.add(name: "a", shape: [3, 64], floats: rng.floats(192))
        w.add(name: "b", shape: [2, 32], floats: rng.floats(64), as: .q8_0)
        w.add(name: "c", shape: [1, 256], floats: rng.floats(256), as: .q4_K)
        w.add(name: "d", shape: [5], floats: rng.floats(5), as: .f16)
        let file = try parse(w.serialized())
        #expect(file.version == 3)
        for (k, v) in values { #expect(file.metadata[k] == v, "\(k)") }
        #expect(file.metadataKeys == values.map(\.0))
        #expect(file.tensorInfos.map(\.name) == ["a", "b", "c", "d"])
        #expect(try file.tensor("a").shape == [3, 64])
        #expect(try file.tensor("c").dtype == .q4_K)
        for info in file.tensorInfos { #expect((info.fileOffset - file.dataOffset) % 32 == 0, "aligned \(info.name)") }
        #expect(try file.tensor("d").floats().count == 5)
    }

    @Test func customAlignmentIsHonoured() throws {
        var w = GGUFWriter()
        w.set("general.alignment", uint32: 64)
        w.add(name: "x", shape: [3], floats: [1, 2, 3])
        w.add(name: "y", shape: [2], floats: [4, 5])
        let file = try parse(w.serialized())
        #expect(file.alignment == 64)
        #expect(file.dataOffset % 64 == 0)
        #expect(try file.tensor("y").floats() == [4, 5])
    }

    @Test func readsRealFiles() throws {
        let vocab = try GGUFFile(path: Fixtures.shared("tokenizers/ggml-vocab/ggml-vocab-qwen2.gguf"))
        #expect(vocab.string("tokenizer.ggml.pre") == "qwen2")
        #expect(try vocab.stringArray("tokenizer.ggml.tokens")?.count == 151_936)
        #expect(vocab.tensorInfos.isEmpty)
        let tiny = try GGUFFile(path: Fixtures.fixture("tiny-models/llama/model.gguf"))
        #expect(tiny.string("general.architecture") == "llama")
        #expect(try tiny.tensor("blk.0.attn_q.weight").shape == [64, 64])
        #expect(try GGUFWeights(tiny).tensor("model.layers.1.mlp.down_proj.weight").shape == [64, 128])
    }
}

@Suite struct GGUFBadInputTests {
    @Test func emptyAndTruncatedFilesSayWhereTheyEnd() {
        let e = formatError { _ = try parse([], name: "empty.gguf") }
        guard case let .truncated(file, field, offset, _, _)? = e else { Issue.record("expected truncated, got \(String(describing: e))"); return }
        #expect(file == "empty.gguf" && field == "magic" && offset == 0)
        var w = GGUFWriter()
        w.set("general.name", "x")
        w.add(name: "t", shape: [4], floats: [1, 2, 3, 4])
        let full = w.serialized()
        // The file ends with 16 bytes of tensor data and 16 of padding: cut inside the data.
        for cut in [5, 12, 20, 30, 40, full.count - 17] {
            let e = formatError { _ = try parse(Array(full.prefix(cut))) }
            #expect(e != nil, "cut at \(cut) must fail")
            #expect(String(describing: e!).contains("test.gguf"))
        }
    }

    @Test func wrongMagic() {
        let e = formatError { _ = try parse(Array("GGML\u{3}\0\0\0".utf8) + [UInt8](repeating: 0, count: 16)) }
        #expect(e == .badMagic(file: "test.gguf", expected: "GGUF", found: "47 47 4d 4c"))
    }

    @Test func unsupportedVersions() {
        for v: UInt32 in [1, 4, 99] {
            let b = GGUFBytes.header(version: v, tensors: 0, kvs: 0)
            #expect(formatError { _ = try parse(b.bytes) } == .unsupportedVersion(file: "test.gguf", version: Int(v), supported: "2, 3"))
        }
        let bigEndian = GGUFBytes.header(version: UInt32(3).byteSwapped, tensors: 0, kvs: 0)
        #expect(String(describing: formatError { _ = try parse(bigEndian.bytes) }!).contains("big-endian"))
    }

    @Test func absurdCountsAreRejectedBeforeAllocating() {
        let kvs = GGUFBytes.header(tensors: 0, kvs: 1 << 60)
        guard case let .invalidValue(_, field, offset, _, _)? = formatError({ _ = try parse(kvs.bytes) }) else { Issue.record("kv count"); return }
        #expect(field == "metadata_kv_count" && offset == 16)
        let tensors = GGUFBytes.header(tensors: UInt64.max, kvs: 0)
        guard case .invalidValue(_, "tensor_count", 8, _, _)? = formatError({ _ = try parse(tensors.bytes) }) else { Issue.record("tensor count"); return }
        var longString = GGUFBytes.header(tensors: 0, kvs: 1)
        longString.u64(1 << 62)
        guard case .truncated? = formatError({ _ = try parse(longString.bytes + [UInt8](repeating: 0, count: 20)) }) else { Issue.record("string length"); return }
        var hugeArray = GGUFBytes.header(tensors: 0, kvs: 1)
        hugeArray.string("a")
        hugeArray.u32(9)
        hugeArray.u32(4)
        hugeArray.u64(1 << 61)
        guard case .invalidValue(_, "a count", _, _, _)? = formatError({ _ = try parse(hugeArray.bytes) }) else { Issue.record("array count"); return }
    }

    func tensorFile(dims: [UInt64], type: UInt32, offset: UInt64, dataBytes: Int) -> [UInt8] {
        var b = GGUFBytes.header(tensors: 1, kvs: 0)
        b.string("w")
        b.u32(UInt32(dims.count))
        for d in dims { b.u64(d) }
        b.u32(type)
        b.u64(offset)
        while b.bytes.count % 32 != 0 { b.bytes.append(0) }
        return b.bytes + [UInt8](repeating: 0, count: dataBytes)
    }

    @Test func tensorErrorsNameTheTensor() {
        #expect(formatError { _ = try parse(tensorFile(dims: [4], type: 99, offset: 0, dataBytes: 16)) }
                == .unknownTensorType(file: "test.gguf", tensor: "w", offset: 45, type: 99))
        guard case let .tensorOutOfBounds(_, tensor, _, _, _)? = formatError({ _ = try parse(tensorFile(dims: [4, 4], type: 0, offset: 0, dataBytes: 60)) }) else {
            Issue.record("data past end"); return
        }
        #expect(tensor == "w")
        guard case .invalidValue(_, "dimension 0 of 'w'", _, _, _)? = formatError({ _ = try parse(tensorFile(dims: [1 << 40], type: 0, offset: 0, dataBytes: 4)) }) else {
            Issue.record("absurd dimension"); return
        }
        guard case .invalidValue(_, "dimensions of 'w'", _, _, _)? = formatError({ _ = try parse(tensorFile(dims: [1 << 30, 1 << 30, 1 << 30], type: 0, offset: 0, dataBytes: 4)) }) else {
            Issue.record("element count overflow"); return
        }
        guard case .invalidValue(_, "n_dims of 'w'", _, _, _)? = formatError({ _ = try parse(tensorFile(dims: [1, 1, 1, 1, 1], type: 0, offset: 0, dataBytes: 4)) }) else {
            Issue.record("too many dims"); return
        }
        guard case .invalidValue(_, "dimension 0 of 'w'", _, _, _)? = formatError({ _ = try parse(tensorFile(dims: [33], type: 8, offset: 0, dataBytes: 64)) }) else {
            Issue.record("partial block"); return
        }
        guard case .invalidValue(_, "data offset of 'w'", _, _, _)? = formatError({ _ = try parse(tensorFile(dims: [4], type: 0, offset: 3, dataBytes: 64)) }) else {
            Issue.record("unaligned offset"); return
        }
    }

    @Test func messagesNameFileFieldAndOffset() {
        let message = String(describing: FormatError.truncated(file: "m.gguf", field: "tensor_count", offset: 8, need: 8, fileSize: 10))
        #expect(message.contains("m.gguf") && message.contains("tensor_count") && message.contains("offset 8"))
    }
}
