// The values the restricted unpickler can build: plain containers, scalars, and the few torch
// objects a state dict is made of (storage references and strided tensor views). Nothing here can
// name or call arbitrary Python code: the allow-list of globals is the `PickleGlobal` enum.
import AIGCTensor

/// One value on the pickle VM's stack. Lists and dicts are reference types because the pickle
/// protocol mutates them after they are memoized (APPEND, SETITEM on a shared object).
public enum PickleValue: @unchecked Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple(PickleTuple)
    case list(PickleList)
    case dict(PickleDict)
    /// An allow-listed global (a class or function); only REDUCE/NEWOBJ can use it.
    case global(PickleGlobal)
    /// A storage named by a persistent id: `('storage', torch.FloatStorage, key, location, numel)`.
    case storage(PickleStorage)
    /// A strided view of a storage, built by `torch._utils._rebuild_tensor_v2`.
    case tensor(PickleTensor)

    /// A short name of the value's kind for error messages ("tuple", "dict", ...).
    public var kind: String {
        switch self {
        case .none: "None"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "str"
        case .bytes: "bytes"
        case .tuple: "tuple"
        case .list: "list"
        case .dict: "dict"
        case let .global(g): "global \(g.qualifiedName)"
        case .storage: "storage"
        case .tensor: "tensor"
        }
    }

    /// Nesting depth (see `PickleTuple.depth`).
    var depth: Int {
        if case let .tuple(t) = self { return t.depth }
        return 1
    }
}

/// An immutable tuple with its nesting depth, computed once when it is built: memoized tuples can
/// share children, so walking the tree to measure it could take exponential time. Lists and dicts
/// count as depth 1 because the VM keeps them in a flat registry and empties them when it is done,
/// so freeing a value never recurses deeper than the tuple limit.
public struct PickleTuple: @unchecked Sendable {
    public let items: [PickleValue]
    let depth: Int

    init(_ items: [PickleValue]) {
        self.items = items
        depth = 1 + (items.map(\.depth).max() ?? 0)
    }
}

/// A Python list under construction (APPEND/APPENDS mutate it in place).
public final class PickleList {
    public internal(set) var items: [PickleValue] = []
    init() {}
}

/// A Python dict or OrderedDict: entries in insertion order; string keys are indexed for SETITEM.
public final class PickleDict {
    public internal(set) var entries: [(key: PickleValue, value: PickleValue)] = []
    private var stringIndex: [String: Int] = [:]
    init() {}

    func set(_ key: PickleValue, _ value: PickleValue) {
        if case let .string(s) = key {
            if let i = stringIndex[s] { entries[i].value = value; return }
            stringIndex[s] = entries.count
        }
        entries.append((key, value))
    }

    func removeAll() {
        entries.removeAll()
        stringIndex.removeAll()
    }
}

/// The element type a torch storage class stands for (`torch.FloatStorage` -> .float32).
public enum PickleStorageType: String, Sendable, CaseIterable {
    case float32 = "FloatStorage", float16 = "HalfStorage", bfloat16 = "BFloat16Storage", float64 = "DoubleStorage"
    case int64 = "LongStorage", int32 = "IntStorage", int16 = "ShortStorage", int8 = "CharStorage"
    case uint8 = "ByteStorage", bool = "BoolStorage"
    /// `torch.UntypedStorage`: raw bytes.
    case untyped = "UntypedStorage"

    /// Bytes per element.
    public var elementSize: Int {
        switch self {
        case .float64, .int64: 8
        case .float32, .int32: 4
        case .float16, .bfloat16, .int16: 2
        case .int8, .uint8, .bool, .untyped: 1
        }
    }

    /// The DType a loaded tensor gets. F64 is converted to F32 at load; U8 and Bool keep their
    /// bytes as I8 (DType has no unsigned or bool type, as in the safetensors reader).
    public var loadedDType: DType {
        switch self {
        case .float32, .float64: .f32
        case .float16: .f16
        case .bfloat16: .bf16
        case .int64: .i64
        case .int32: .i32
        case .int16: .i16
        case .int8, .uint8, .bool, .untyped: .i8
        }
    }

    /// The dtype global (`torch.float32`) that names the same element type.
    init?(dtypeName: String) {
        let table: [String: PickleStorageType] = [
            "float32": .float32, "float": .float32, "float16": .float16, "half": .float16, "bfloat16": .bfloat16,
            "float64": .float64, "double": .float64, "int64": .int64, "long": .int64, "int32": .int32, "int": .int32,
            "int16": .int16, "short": .int16, "int8": .int8, "uint8": .uint8, "bool": .bool,
        ]
        guard let t = table[dtypeName] else { return nil }
        self = t
    }
}

/// The globals the unpickler will resolve. Everything else is refused when the GLOBAL opcode is
/// read, before any call could happen.
public enum PickleGlobal: Sendable, Equatable {
    case orderedDict
    case rebuildTensorV2, rebuildTensor, rebuildParameter
    case storageType(PickleStorageType)
    case dtype(PickleStorageType)
    case size
    case set, frozenset

    /// Resolves `module.name`, or nil when it is not on the allow-list.
    public init?(module: String, name: String) {
        switch (module, name) {
        case ("collections", "OrderedDict"): self = .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): self = .rebuildTensorV2
        case ("torch._utils", "_rebuild_tensor"): self = .rebuildTensor
        case ("torch._utils", "_rebuild_parameter"): self = .rebuildParameter
        case ("torch", "Size"): self = .size
        case ("builtins", "set"), ("__builtin__", "set"): self = .set
        case ("builtins", "frozenset"), ("__builtin__", "frozenset"): self = .frozenset
        case ("torch", _):
            if let t = PickleStorageType(rawValue: name) { self = .storageType(t) }
            else if let t = PickleStorageType(dtypeName: name) { self = .dtype(t) }
            else { return nil }
        default: return nil
        }
    }

    public var qualifiedName: String {
        switch self {
        case .orderedDict: "collections.OrderedDict"
        case .rebuildTensorV2: "torch._utils._rebuild_tensor_v2"
        case .rebuildTensor: "torch._utils._rebuild_tensor"
        case .rebuildParameter: "torch._utils._rebuild_parameter"
        case let .storageType(t): "torch.\(t.rawValue)"
        case let .dtype(t): "torch dtype \(t)"
        case .size: "torch.Size"
        case .set: "builtins.set"
        case .frozenset: "builtins.frozenset"
        }
    }
}

/// A storage reference from a persistent id; `key` names the zip member `<root>/data/<key>`.
public struct PickleStorage: Sendable, Equatable {
    public let type: PickleStorageType
    public let key: String
    /// Where torch kept it ("cpu", "cuda:0"); ignored: every storage loads into host memory.
    public let location: String
    public let elementCount: Int
}

/// A tensor as torch describes it: a storage plus element offset, sizes and strides (in elements).
public struct PickleTensor: Sendable, Equatable {
    public let storage: PickleStorage
    public let offset: Int
    public let size: [Int]
    public let stride: [Int]
}
