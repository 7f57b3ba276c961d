// PyTorch checkpoint reader (.pth/.pt/.bin written by torch.save, zip format of PyTorch >= 1.6).
// Spec: torch/serialization.py (`_save`, `_load`) and caffe2/serialize/inline_container.cc.
//
// Layout: a ZIP archive (members stored, data 64-byte aligned) under one root folder:
//   <root>/data.pkl      pickle of the saved object (usually an OrderedDict state dict); each tensor
//                        is `_rebuild_tensor_v2(storage, offset, size, stride, ...)` whose storage is
//                        the persistent id ('storage', torch.FloatStorage, key, 'cpu', numel)
//   <root>/data/<key>    numel elements of that storage, little-endian, C order
//   <root>/byteorder     "little" (absent in older files, which are little-endian)
//   <root>/version, .format_version, .storage_alignment, .data/serialization_id: not needed here
// Legacy files (pre-1.6: pickles concatenated, or a tar) are refused with a clear error.
import AIGCTensor

/// The tensors of a torch.save checkpoint, read through the restricted unpickler. Contiguous
/// tensors of stored members are zero-copy views into the mapped file; strided views are copied.
public final class PyTorchCheckpoint: WeightSource, @unchecked Sendable {
    public let path: String
    /// The archive's root folder ("archive", or the name the file was saved under).
    public let root: String
    /// Tensors by flattened state-dict key (nested dicts joined with ".").
    public let tensors: [String: Tensor]
    /// The torch storage class of each tensor (U8 and Bool load as `.i8`; this tells them apart).
    public let storageTypes: [String: PickleStorageType]
    /// Non-tensor leaves (`"epoch": "7"`), flattened like the tensor names.
    public let metadata: [String: String]
    /// Tensor names in the order the state dict lists them.
    public let tensorNames: [String]
    private let file: MappedFile

    /// Bytes of data.pkl we are willing to unpickle (real state dicts have a few KiB per 100 tensors).
    static let maxPickleBytes = 256 << 20

    public convenience init(path: String) throws { try self.init(file: MappedFile(path: path)) }

    public init(file: MappedFile) throws {
        self.file = file
        path = file.path
        try PyTorchCheckpoint.checkMagic(file)
        let archive = try ZipArchive(file: file)
        guard let pickle = archive.entries.first(where: { $0.name == "data.pkl" || ($0.name.hasSuffix("/data.pkl") && $0.name.split(separator: "/").count == 2) })
        else { throw FormatError.missingKey(file: path, key: "<root>/data.pkl (a zip without it is not a torch.save checkpoint)") }
        let prefix = String(pickle.name.dropLast("data.pkl".count))
        if let order = archive.entry(prefix + "byteorder") {
            var text: [UInt8] = []
            try archive.extract(order) { text += $0 }
            guard text.starts(with: Array("little".utf8)) else {
                throw FormatError.invalidValue(file: path, field: order.name, offset: order.localHeaderOffset, value: String(decoding: text.prefix(16), as: UTF8.self),
                                               reason: "big-endian checkpoints are not supported; re-save on a little-endian machine")
            }
        }
        let flat = try PyTorchCheckpoint.unpickle(archive: archive, entry: pickle, file: file)
        var storages: [String: (TensorStorage, Int)] = [:]
        var tensors: [String: Tensor] = [:], types: [String: PickleStorageType] = [:]
        for (name, view) in flat.tensors {
            let key = view.storage.key
            if storages[key] == nil { storages[key] = try PyTorchCheckpoint.storageBytes(archive: archive, file: file, prefix: prefix, storage: view.storage) }
            let (storage, start) = storages[key]!
            tensors[name] = try PyTorchCheckpoint.makeTensor(name: name, view: view, storage: storage, byteOffset: start, file: path)
            types[name] = view.storage.type
        }
        self.tensors = tensors
        storageTypes = types
        metadata = flat.metadata
        tensorNames = flat.tensors.map(\.0)
        root = String(prefix.dropLast())
    }

    public var sourceName: String { path }
    public func tensorIfPresent(_ name: String) -> Tensor? { tensors[name] }

    /// Zip checkpoints start with a local file header; legacy ones with a pickle or a tar header.
    static func checkMagic(_ file: MappedFile) throws {
        let b = file.bytes
        if b.count >= 4, b[0] == 0x50, b[1] == 0x4B, b[2] == 0x03, b[3] == 0x04 { return }
        let legacy = (b.count >= 2 && b[0] == 0x80 && b[1] <= 5) || (b.count >= 262 && Array(b[257..<262]) == Array("ustar".utf8))
        if legacy {
            throw FormatError.invalidValue(file: file.path, field: "file header", offset: 0, value: b[0] == 0x80 ? "a bare pickle" : "a tar archive",
                                           reason: "this is a legacy (pre-1.6, non-zip) PyTorch checkpoint, which aigc does not read; "
                                               + "re-save it with a current PyTorch: torch.save(torch.load(path, weights_only=True), path)")
        }
        let found = b.prefix(4).map { String($0, radix: 16) }.joined(separator: " ")
        throw FormatError.badMagic(file: file.path, expected: "PyTorch zip checkpoint", found: found.isEmpty ? "empty file" : found)
    }

    /// Runs the restricted unpickler over data.pkl and flattens what it built.
    static func unpickle(archive: ZipArchive, entry: ZipEntry, file: MappedFile) throws -> FlatStateDict {
        guard entry.uncompressedSize <= maxPickleBytes else {
            throw FormatError.invalidValue(file: file.path, field: entry.name, offset: entry.localHeaderOffset, value: "\(entry.uncompressedSize) bytes",
                                           reason: "larger than the \(maxPickleBytes >> 20) MiB limit for a state dict pickle")
        }
        let name = "\(file.path):\(entry.name)"
        if let stored = try archive.storedData(entry) {
            return try Unpickler.load(stored, file: name) { try FlatStateDict(root: $0, file: name) }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entry.uncompressedSize)
        try archive.extract(entry) { bytes += $0 }
        return try Unpickler.load(bytes, file: name) { try FlatStateDict(root: $0, file: name) }
    }

    /// The bytes of storage `<root>/data/<key>`: in place for stored members, else inflated.
    static func storageBytes(archive: ZipArchive, file: MappedFile, prefix: String, storage: PickleStorage) throws -> (TensorStorage, Int) {
        let member = prefix + "data/" + storage.key
        guard let entry = archive.entry(member) else { throw FormatError.missingKey(file: file.path, key: member) }
        let (need, overflow) = storage.elementCount.multipliedReportingOverflow(by: storage.type.elementSize)
        guard !overflow, entry.uncompressedSize == need else {
            throw FormatError.invalidValue(file: file.path, field: member, offset: entry.localHeaderOffset, value: "\(entry.uncompressedSize) bytes",
                                           reason: "storage of \(storage.elementCount) \(storage.type.rawValue) elements needs \(need) bytes")
        }
        if let stored = try archive.storedData(entry) {
            // A stored member's compressed and uncompressed sizes must agree, or views would run past it.
            guard stored.count == need else {
                throw FormatError.invalidValue(file: file.path, field: member, offset: entry.localHeaderOffset, value: "\(stored.count) stored bytes",
                                               reason: "a stored member must hold its \(need) bytes as they are: the archive is corrupt")
            }
            let start = stored.baseAddress.map { UnsafeRawPointer($0) - file.base } ?? 0
            return (TensorStorage(base: file.base, byteCount: file.size, owner: file), start)
        }
        let owned = TensorStorage(allocating: need)
        var filled = 0
        try archive.extract(entry) { piece in
            guard filled + piece.count <= need, let source = piece.baseAddress else { return }
            (owned.mutableBase + filled).copyMemory(from: source, byteCount: piece.count)
            filled += piece.count
        }
        return (owned, 0)
    }
}

/// A state dict flattened to `name -> tensor view` (in file order) and `name -> scalar text`.
struct FlatStateDict {
    var tensors: [(String, PickleTensor)] = []
    var metadata: [String: String] = [:]
    private var seen: Set<String> = []
    private var visited = 0
    private let file: String

    static let maxDepth = 32
    static let maxNodes = 1 << 20

    init(root: PickleValue, file: String) throws {
        self.file = file
        guard case .dict = root else {
            throw FormatError.invalidValue(file: file, field: "top-level object", offset: 0, value: root.kind,
                                           reason: "expected a dict of tensors (a state dict); save model.state_dict() rather than the model")
        }
        try visit(root, name: "", depth: 0)
    }

    private mutating func visit(_ value: PickleValue, name: String, depth: Int) throws {
        visited += 1
        guard depth <= FlatStateDict.maxDepth, visited <= FlatStateDict.maxNodes else {
            throw FormatError.invalidValue(file: file, field: "state dict", offset: 0, value: name,
                                           reason: "nested deeper than \(FlatStateDict.maxDepth) or more than \(FlatStateDict.maxNodes) entries")
        }
        func child(_ key: String) -> String { name.isEmpty ? key : name + "." + key }
        switch value {
        case let .dict(d):
            for (key, v) in d.entries {
                switch key {
                case let .string(s): try visit(v, name: child(s), depth: depth + 1)
                case let .int(n): try visit(v, name: child(String(n)), depth: depth + 1)
                default: continue  // keys of other types cannot name a weight
                }
            }
        case let .list(l): for (i, v) in l.items.enumerated() { try visit(v, name: child(String(i)), depth: depth + 1) }
        case let .tuple(t): for (i, v) in t.items.enumerated() { try visit(v, name: child(String(i)), depth: depth + 1) }
        case let .tensor(t):
            guard seen.insert(name).inserted else {
                throw FormatError.invalidValue(file: file, field: "state dict", offset: 0, value: name, reason: "two tensors have the same flattened name")
            }
            tensors.append((name, t))
        case let .int(n): metadata[name] = String(n)
        case let .float(x): metadata[name] = String(x)
        case let .bool(b): metadata[name] = b ? "True" : "False"
        case let .string(s): metadata[name] = s
        case .none, .bytes, .global, .storage: return
        }
    }
}
