// The restricted unpickler: malicious checkpoints are refused by name before anything runs, plain
// pickles of protocols 4-5 decode, hostile shapes (cycles, deep nesting, huge lengths) fail cleanly,
// and thousands of mutated data.pkl streams only ever produce typed errors.
import AIGCFormats
import AIGCTensor
import AIGCTestSupport
import Foundation
import Testing

enum PickleFixtures {
    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            out.append(UInt8(hex[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    /// data.pkl of small.pth, read through the zip reader.
    static func smallDataPickle() throws -> [UInt8] {
        let archive = try ZipArchive(path: Fixtures.fixture("pytorch/small.pth"))
        guard let entry = archive.entry("small/data.pkl") else { throw FormatError.missingKey(file: archive.path, key: "small/data.pkl") }
        var bytes: [UInt8] = []
        try archive.extract(entry) { bytes += $0 }
        return bytes
    }

    /// Rebuilds the tensor views of a pickle (no storage data), so the fuzz exercises the whole VM.
    static func views(_ bytes: [UInt8]) throws -> Int {
        try Unpickler.load(bytes, file: "fuzz.pkl") { root -> Int in
            guard case let .dict(d) = root else { return 0 }
            return d.entries.filter { if case .tensor = $0.value { true } else { false } }.count
        }
    }
}

/// Expects `body` to throw a FormatError whose message contains `text`.
func expectFormatError(containing text: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    let error = #expect(throws: FormatError.self, sourceLocation: sourceLocation) { try body() }
    if let error { #expect(error.description.contains(text), "\(error)", sourceLocation: sourceLocation) }
}

@Suite struct UnpicklerTests {
    @Test(arguments: [("evil_os_system.pth", "os.system"), ("evil_eval.pth", "builtins.eval"), ("evil_stack_global.pth", "subprocess.Popen")])
    func maliciousCheckpointsAreRefusedByName(file: String, global: String) throws {
        do {
            _ = try PyTorchCheckpoint(path: Fixtures.fixture("pytorch/\(file)"))
            Issue.record("\(file) loaded")
        } catch let error as FormatError {
            let text = error.description
            let module = String(global.split(separator: ".")[0]), attribute = String(global.split(separator: ".")[1])
            #expect(text.contains("refused to load global '\(global)'"), "\(text)")
            #expect(text.contains("module '\(module)', attribute '\(attribute)'"), "\(text)")
            #expect(text.contains("only tensors, storages and plain containers may be unpickled"))
        }
    }

    @Test func refusalNamesTheOffsetOfTheGlobal() throws {
        // PROTO 2, GLOBAL 'posix system', SHORT_BINUNICODE 'id', TUPLE1, REDUCE, STOP
        let pickle: [UInt8] = [0x80, 2, 0x63] + Array("posix\nsystem\n".utf8) + [0x8C, 2] + Array("id".utf8) + [0x85, 0x52, 0x2E]
        #expect(throws: FormatError.invalidValue(
            file: "p", field: "global 'posix.system'", offset: 2, value: "module 'posix', attribute 'system'",
            reason: "refused to load global 'posix.system' at offset 2: only tensors, storages and plain containers may be unpickled"
                + " (a checkpoint that names other code may try to run it; save model.state_dict() instead of the model)")) {
            try Unpickler.load(pickle, file: "p") { _ in () }
        }
        // Protocol 2 pickles bytes through _codecs.encode: not on the allow-list either.
        let v2 = PickleFixtures.bytes(hex: "80027d710058010000006171015d7102635f636f646563730a656e636f64650a71035801000000797104")
        expectFormatError(containing: "'_codecs.encode'") { try Unpickler.load(v2) { _ in () } }
        // INST names a class too, and is refused by name the same way.
        let inst: [UInt8] = [0x28, 0x69] + Array("os\nsystem\n".utf8) + [0x2E]
        expectFormatError(containing: "'os.system'") { try Unpickler.load(inst) { _ in () } }
    }

    /// `pickle.dumps({'a': [1, -2, 2.5, 'héllo', b'y', None, True, False, (1, 2, 3, 4), (), -2**40],
    /// 'b': 2**40, 'c': {'x': 65535, 'y': -1, 'z': 300}}, protocol=4 and 5)`.
    @Test(arguments: [
        "8004956c000000000000007d94288c0161945d94284b014afeffffff4740040000000000008c0668c3a96c6c6f94430179944e8889284b014b024b034b047494298a060000000000ff658c0162948a060000000000018c0163947d94288c0178944dffff8c0179944affffffff8c017a944d2c0175752e",
        "8005956c000000000000007d94288c0161945d94284b014afeffffff4740040000000000008c0668c3a96c6c6f94430179944e8889284b014b024b034b047494298a060000000000ff658c0162948a060000000000018c0163947d94288c0178944dffff8c0179944affffffff8c017a944d2c0175752e",
    ])
    func plainPicklesOfProtocols4And5Decode(hex: String) throws {
        let summary = try Unpickler.load(PickleFixtures.bytes(hex: hex)) { root -> [String] in
            guard case let .dict(d) = root else { return ["not a dict"] }
            return d.entries.map { entry -> String in
                let key: String = if case let .string(s) = entry.key { s } else { "?" }
                switch entry.value {
                case let .list(l): return key + "=" + l.items.map(Self.describe).joined(separator: ",")
                case let .dict(inner): return key + "=" + inner.entries.map { Self.describe($0.key) + ":" + Self.describe($0.value) }.joined(separator: ",")
                default: return key + "=" + Self.describe(entry.value)
                }
            }
        }
        #expect(summary == ["a=1,-2,2.5,héllo,b[121],None,True,False,(1,2,3,4),(),-1099511627776", "b=1099511627776", "c=x:65535,y:-1,z:300"])
    }

    static func describe(_ v: PickleValue) -> String {
        switch v {
        case let .int(n): String(n)
        case let .float(x): String(x)
        case let .string(s): s
        case let .bytes(b): "b\(b)"
        case .none: "None"
        case let .bool(b): b ? "True" : "False"
        case let .tuple(t): "(" + t.items.map(describe).joined(separator: ",") + ")"
        default: v.kind
        }
    }

    @Test func hostileStructuresFailCleanly() throws {
        // A list appended to itself: a cycle, freed when load returns.
        let cycle: [UInt8] = [0x80, 2, 0x5D, 0x71, 0, 0x68, 0, 0x61, 0x2E]
        #expect(try Unpickler.load(cycle) { if case let .list(l) = $0 { l.items.count } else { -1 } } == 1)
        // 100 000 nested TUPLE1: refused at depth 64 instead of overflowing the stack when freed.
        let deep: [UInt8] = [0x80, 2, 0x29] + [UInt8](repeating: 0x85, count: 100_000) + [0x2E]
        expectFormatError(containing: "nested deeper than 64") { try Unpickler.load(deep) { _ in () } }
        // A memoized tuple doubled 60 times would be 2^60 nodes if walked naively.
        var doubling: [UInt8] = [0x80, 2, 0x29, 0x71, 0]
        for _ in 0..<60 { doubling += [0x68, 0, 0x68, 0, 0x86, 0x71, 0] }
        doubling.append(0x2E)
        #expect(try Unpickler.load(doubling) { if case .tuple = $0 { true } else { false } })
        // Lengths past the end, integers wider than 64 bits, underflow, unknown and protocol-0 opcodes.
        let cases: [[UInt8]] = [
            [0x80, 2, 0x58, 0xFF, 0xFF, 0xFF, 0x7F], [0x80, 2, 0x8D] + [UInt8](repeating: 0xFF, count: 8),
            [0x80, 2, 0x8B, 0x10, 0, 0, 0] + [UInt8](repeating: 1, count: 16) + [0x2E], [0x80, 2, 0x2E], [0x80, 2, 0x74, 0x2E],
            [0x80, 2, 0xFF], [0x80, 2, 0x49] + Array("1\n".utf8) + [0x2E], [0x80, 9], [0x80, 2, 0x68, 5, 0x2E], [],
            [0x80, 2, 0x4B, 1, 0x4B, 2, 0x52, 0x2E], [0x80, 2, 0x4E, 0x51, 0x2E], [0x80, 2, 0x5D, 0x4B, 1, 0x4B, 2, 0x73, 0x2E],
        ]
        for (i, bytes) in cases.enumerated() {
            #expect(throws: FormatError.self, "case \(i)") { try Unpickler.load(bytes) { _ in () } }
        }
    }

    @Test func tensorViewsOutsideTheirStorageAreRefused() throws {
        var pickle = try PickleFixtures.smallDataPickle()
        #expect(try PickleFixtures.views(pickle) == 17)
        // linear.weight is (3, 4) of a 12-element storage: make its first size 4 (16 elements).
        let sizeAt = try #require(Self.find([0x4B, 3, 0x4B, 4, 0x86], in: pickle))
        pickle[sizeAt + 1] = 4
        expectFormatError(containing: "reaches element 15 of a storage of 12") { try PickleFixtures.views(pickle) }
    }

    static func find(_ needle: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        return (0...(bytes.count - needle.count)).first { Array(bytes[$0..<($0 + needle.count)]) == needle }
    }

    @Test func mutatedDataPicklesNeverCrash() throws {
        let seed = try PickleFixtures.smallDataPickle()
        var rng = TestRandom(seed: 0x5EED_9C1)
        var outcomes: [String: Int] = [:]
        let cases = max(2000, Fuzz.cases / 2)
        for i in 0..<cases {
            let bytes = Fuzz.mutate(seed, hot: seed.count, &rng)
            do {
                _ = try PickleFixtures.views(bytes)
                outcomes["loaded", default: 0] += 1
            } catch let error as FormatError {
                outcomes[String(describing: error).contains("refused to load global") ? "refused global" : "FormatError", default: 0] += 1
            } catch {
                Issue.record("case \(i) (seed \(rng.seed)): untyped error \(type(of: error)): \(error)")
            }
        }
        print("unpickler fuzz outcomes over \(cases) cases: \(outcomes)")
        #expect((outcomes["FormatError"] ?? 0) > cases / 4)
    }

    @Test func mutatedCheckpointFilesNeverCrash() throws {
        let seed = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.fixture("pytorch/small.pth"))))
        var rng = TestRandom(seed: 77)
        for i in 0..<(Fuzz.cases / 5) {
            let bytes = Fuzz.mutate(seed, hot: seed.count, &rng)
            do {
                let checkpoint = try PyTorchCheckpoint(file: MappedFile(copying: bytes, path: "fuzz.pth"))
                for name in checkpoint.tensorNames { _ = try checkpoint.tensor(name).elementCount }
            } catch {
                #expect(error is FormatError, "case \(i): untyped error \(type(of: error)): \(error)")
            }
        }
    }
}
