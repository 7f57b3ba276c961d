// PyTorch checkpoints: hand-built and torch.save fixtures against their expected values
// (scripts/reference/make_pytorch_fixtures.py), the four real checkpoints against their ARCH.md
// key lists and a numpy reader's sums, and broken files against typed errors.
import AIGCFormats
import AIGCTensor
import AIGCTestSupport
import Foundation
import Testing

struct ExpectedTensor: Decodable {
    let dtype: String?
    let storage: String?
    let shape: [Int]
    let contiguous: Bool?
    let values: [Double]
}

struct RealTensorSummary: Decodable {
    let dtype: String
    let shape: [Int]
    let first: [Double]
    let sum: Double
}

enum PyTorchFixtures {
    static func json<T: Decodable>(_ name: String, as: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.fixture("pytorch/\(name)"))))
    }

    /// Every value of `t` as a Double, read the way its torch storage type stores it.
    static func values(_ t: Tensor, storage: PickleStorageType) -> [Double] {
        let n = t.elementCount
        func read<T: BinaryInteger>(_: T.Type) -> [Double] { (0..<n).map { Double(t.data.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) } }
        switch storage {
        case .float32, .float16, .bfloat16, .float64: return t.floats().map(Double.init)
        case .int64: return read(Int64.self)
        case .int32: return read(Int32.self)
        case .int16: return read(Int16.self)
        case .int8: return read(Int8.self)
        case .uint8, .bool, .untyped: return read(UInt8.self)
        }
    }
}

@Suite struct PyTorchCheckpointTests {
    @Test(arguments: ["small.pth", "torch_saved.pth"])
    func smallStateDictMatchesExpectedValues(file: String) throws {
        let path = Fixtures.fixture("pytorch/\(file)")
        guard FileManager.default.fileExists(atPath: path) else {
            #expect(file == "torch_saved.pth", "missing fixture \(file)")
            return  // torch_saved.pth exists only when the fixture script ran with torch installed
        }
        let expected = try PyTorchFixtures.json("small.json", as: [String: ExpectedTensor].self)
        let checkpoint = try PyTorchCheckpoint(path: path)
        #expect(Set(checkpoint.tensorNames) == Set(expected.keys))
        for (name, e) in expected {
            let t = try checkpoint.tensor(name, shape: e.shape)
            let storage = try #require(checkpoint.storageTypes[name])
            #expect(storage.rawValue == e.storage, "\(name)")
            #expect(t.dtype.description == e.dtype, "\(name): \(t.dtype)")
            let actual = PyTorchFixtures.values(t, storage: storage)
            let tolerance = storage == .float16 || storage == .bfloat16 ? 1e-3 : 1e-7
            #expect(actual.count == e.values.count, "\(name)")
            for (a, b) in zip(actual, e.values) { #expect(abs(a - b) <= tolerance * max(1, abs(b)), "\(name): \(a) vs \(b)") }
        }
    }

    @Test func contiguousTensorsAreZeroCopyAndStoragesAreShared() throws {
        let path = Fixtures.fixture("pytorch/small.pth")
        let fileSize = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        let expected = try PyTorchFixtures.json("small.json", as: [String: ExpectedTensor].self)
        let checkpoint = try PyTorchCheckpoint(path: path)
        for (name, e) in expected {
            let t = try checkpoint.tensor(name)
            let inPlace = e.contiguous == true && checkpoint.storageTypes[name] != .float64
            // A view into the mapped file wraps the whole file; a copy owns just its elements.
            #expect((t.storage.byteCount == fileSize) == inPlace, "\(name): contiguous \(e.contiguous ?? false)")
        }
        let a = try checkpoint.tensor("shared.a"), b = try checkpoint.tensor("shared.b")
        #expect(a.storage === b.storage && b.offset - a.offset == 4 * 4, "offsets 2 and 6 of one F32 storage")
        #expect(Int(bitPattern: try checkpoint.tensor("linear.weight").data) % 64 == 0, "storages are 64-byte aligned as torch writes them")
    }

    @Test func nestedDictsAreFlattenedAndScalarsKeptAsMetadata() throws {
        let checkpoint = try PyTorchCheckpoint(path: Fixtures.fixture("pytorch/nested.pth"))
        let expected = try PyTorchFixtures.json("nested.json", as: [String: ExpectedTensor].self)
        #expect(checkpoint.tensorNames == ["model.encoder.weight", "model.encoder.inner.scale"])
        for (name, e) in expected {
            let values = try checkpoint.tensor(name, shape: e.shape).floats().map(Double.init)
            #expect(values == e.values.map { Double(Float($0)) }, "\(name)")
        }
        #expect(checkpoint.metadata == ["epoch": "7", "note": "nested state"])
        #expect(checkpoint.scoped("model.encoder").contains("weight"))
    }

    /// Keys and shapes exactly as each folder's ARCH.md lists them.
    static let archShapes: [String: [String: [Int]]] = {
        var gan: [String: [Int]] = ["layer_stack.1.weight": [100, 128, 4, 4], "layer_stack.4.weight": [128, 64, 3, 3],
                                    "layer_stack.7.weight": [64, 32, 4, 4], "layer_stack.10.weight": [32, 1, 4, 4]]
        for (i, c) in [(2, 128), (5, 64), (8, 32)] {
            for p in ["weight", "bias", "running_mean", "running_var"] { gan["layer_stack.\(i).\(p)"] = [c] }
            gan["layer_stack.\(i).num_batches_tracked"] = []
        }
        let vae: [String: [Int]] = [
            "encoder.conv1.weight": [16, 1, 3, 3], "encoder.conv1.bias": [16], "encoder.conv2.weight": [8, 16, 3, 3], "encoder.conv2.bias": [8],
            "encoder.conv3.weight": [20, 8, 7, 7], "encoder.conv3.bias": [20], "mean_layer.weight": [20, 20], "mean_layer.bias": [20],
            "logvar_layer.weight": [20, 20], "logvar_layer.bias": [20], "decoder.fc.weight": [6272, 20], "decoder.fc.bias": [6272],
            "decoder.conv1.weight": [16, 8, 3, 3], "decoder.conv1.bias": [16], "decoder.conv2.weight": [4, 16, 3, 3], "decoder.conv2.bias": [4],
            "decoder.conv3.weight": [1, 4, 3, 3], "decoder.conv3.bias": [1],
        ]
        let classifier: [String: [Int]] = ["module.0.weight": [50, 20], "module.0.bias": [50], "module.2.weight": [10, 50], "module.2.bias": [10]]
        var ddpm: [String: [Int]] = ["eps_model.conv.3.weight": [1, 64, 3, 3], "eps_model.conv.3.bias": [1]]
        for name in ["alpha_t", "oneover_sqrta", "sqrt_beta_t", "alphabar_t", "sqrtab", "sqrtmab", "mab_over_sqrtmab"] { ddpm[name] = [11] }
        for (i, (cin, cout)) in [(1, 64), (64, 128), (128, 64)].enumerated() {
            ddpm["eps_model.conv.\(i).0.weight"] = [cout, cin, 7, 7]
            ddpm["eps_model.conv.\(i).0.bias"] = [cout]
            for p in ["weight", "bias", "running_mean", "running_var"] { ddpm["eps_model.conv.\(i).1.\(p)"] = [cout] }
            ddpm["eps_model.conv.\(i).1.num_batches_tracked"] = []
        }
        return ["gan/generator.pth": gan, "vae/vae.pth": vae, "vae/classifier.pth": classifier, "ddpm/ddpm_mnist.pth": ddpm]
    }()

    @Test(arguments: ["gan/generator.pth", "vae/vae.pth", "vae/classifier.pth", "ddpm/ddpm_mnist.pth"])
    func realCheckpointMatchesArchitectureAndReference(file: String) throws {
        let checkpoint = try PyTorchCheckpoint(path: Fixtures.shared("models/\(file)"))
        let shapes = try #require(Self.archShapes[file])
        #expect(Set(checkpoint.tensorNames) == Set(shapes.keys), "\(file): keys differ from ARCH.md")
        for (name, shape) in shapes { #expect(try checkpoint.tensor(name).shape == shape, "\(file): \(name)") }
        let reference = try #require(try PyTorchFixtures.json("real_checkpoints.json", as: [String: [String: RealTensorSummary]].self)[file])
        for (name, r) in reference {
            let t = try checkpoint.tensor(name, shape: r.shape)
            let storage = try #require(checkpoint.storageTypes[name])
            #expect(t.dtype == (r.dtype == "I64" ? .i64 : .f32), "\(name)")
            let values = PyTorchFixtures.values(t, storage: storage)
            #expect(Array(values.prefix(r.first.count)) == r.first, "\(file): \(name) first values")
            let sum = values.reduce(0, +)
            #expect(abs(sum - r.sum) <= 1e-6 * max(1, abs(r.sum)) * Double(values.count), "\(file): \(name) sum \(sum) vs \(r.sum)")
        }
    }

    @Test func realCheckpointValuesFromArchNotes() throws {
        let gan = try PyTorchCheckpoint(path: Fixtures.shared("models/gan/generator.pth"))
        for i in [2, 5, 8] {
            let t = try gan.tensor("layer_stack.\(i).num_batches_tracked", shape: [])
            #expect(t.dtype == .i64 && t.data.loadUnaligned(as: Int64.self) == 218_404)
        }
        #expect(gan.root == "generator")
        let ddpm = try PyTorchCheckpoint(path: Fixtures.shared("models/ddpm/ddpm_mnist.pth"))
        #expect(try ddpm.tensor("eps_model.conv.0.1.num_batches_tracked").data.loadUnaligned(as: Int64.self) == 469)
        let alpha = try ddpm.tensor("alpha_t").floats()
        for t in 0...10 { #expect(abs(Double(alpha[t]) - (1 - ((0.02 - 1e-4) * Double(t) / 10 + 1e-4))) < 1e-6, "alpha_t[\(t)]") }
        #expect(abs(try ddpm.tensor("alphabar_t").floats()[10] - 0.8946) < 1e-4)
    }

    @Test func truncatedAndLegacyFilesThrowFormatErrors() throws {
        for (file, mention) in [("truncated.pth", "ZIP"), ("legacy.pth", "legacy (pre-1.6")] {
            do {
                _ = try PyTorchCheckpoint(path: Fixtures.fixture("pytorch/\(file)"))
                Issue.record("\(file) loaded")
            } catch let error as FormatError {
                #expect(error.description.contains(mention), "\(file): \(error)")
            }
        }
        #expect(throws: FormatError.self) { try PyTorchCheckpoint(file: MappedFile(copying: [], path: "empty.pth")) }
        #expect(throws: FormatError.self) { try PyTorchCheckpoint(file: MappedFile(copying: Array("not a checkpoint".utf8), path: "text.pth")) }
    }

    @Test func everyTruncationOfTheSmallCheckpointThrowsAFormatError() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.fixture("pytorch/small.pth"))))
        for length in stride(from: 0, to: bytes.count, by: 7) {
            #expect(throws: FormatError.self, "length \(length)") {
                try PyTorchCheckpoint(file: MappedFile(copying: Array(bytes.prefix(length)), path: "cut.pth"))
            }
        }
    }

    @Test func storageOfTheWrongSizeOrMissingIsReported() throws {
        // Rename data/0 in the central directory and local header: the storage member is gone.
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.fixture("pytorch/nested.pth"))))
        let needle = Array("nested/data/0".utf8)
        var i = 0
        while i + needle.count <= bytes.count {
            if Array(bytes[i..<(i + needle.count)]) == needle { bytes[i + needle.count - 1] = UInt8(ascii: "9") }
            i += 1
        }
        do {
            _ = try PyTorchCheckpoint(file: MappedFile(copying: bytes, path: "renamed.pth"))
            Issue.record("loaded without its storage")
        } catch let error as FormatError {
            #expect(error == .missingKey(file: "renamed.pth", key: "nested/data/0"))
        }
        // The central directory entry of data/0 (24 bytes: six floats): sizes at +20 (compressed) and +24.
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.fixture("pytorch/nested.pth"))))
        let central = try #require(UnpicklerTests.find([0x50, 0x4B, 0x01, 0x02], in: original).flatMap { start in
            UnpicklerTests.find(needle, in: Array(original[start...])).map { start + $0 - 46 }
        })
        for (field, size, mention) in [(24, UInt8(28), "needs 24 bytes"), (20, UInt8(20), "stored member must hold its 24 bytes")] {
            var patched = original
            patched[central + field] = size
            expectFormatError(containing: mention) { _ = try PyTorchCheckpoint(file: MappedFile(copying: patched, path: "sizes.pth")) }
        }
    }
}
