// WeightSource: how models receive weights without knowing which file format holds them.

/// Errors of the tensor layer: a model asked for a tensor that is missing or has the wrong shape.
public enum TensorError: Error, CustomStringConvertible, Sendable {
    case missing(name: String, source: String)
    case shapeMismatch(name: String, expected: [Int], actual: [Int], source: String)
    case unsupportedType(name: String, dtype: DType, hint: String)

    public var description: String {
        switch self {
        case let .missing(name, source):
            return "\(source): tensor '\(name)' is missing; the file does not match the architecture it declares"
        case let .shapeMismatch(name, expected, actual, source):
            return "\(source): tensor '\(name)' has shape \(actual), expected \(expected)"
        case let .unsupportedType(name, dtype, hint):
            return "tensor '\(name)' has type \(dtype), which \(hint)"
        }
    }
}

/// Anything that hands out tensors by name: a GGUF file, a safetensors folder, a llama2.c checkpoint.
public protocol WeightSource: Sendable {
    /// A human-readable name of the source (a file path) for error messages.
    var sourceName: String { get }
    var tensorNames: [String] { get }
    func tensorIfPresent(_ name: String) -> Tensor?
    /// The tensor; throws `missing` naming it in full (requirements, so that a scoped view reports the
    /// whole name and a synthetic source can make a tensor of the asked shape).
    func tensor(_ name: String) throws -> Tensor
    /// The tensor, checked to have exactly `shape`.
    func tensor(_ name: String, shape: [Int]) throws -> Tensor
}

extension WeightSource {
    public func contains(_ name: String) -> Bool { tensorIfPresent(name) != nil }

    public func tensor(_ name: String) throws -> Tensor {
        guard let t = tensorIfPresent(name) else { throw TensorError.missing(name: name, source: sourceName) }
        return t
    }

    /// The tensor, checked to have exactly `shape`.
    public func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        let t = try tensor(name)
        guard t.shape == shape else {
            throw TensorError.shapeMismatch(name: name, expected: shape, actual: t.shape, source: sourceName)
        }
        return t
    }

    /// A view whose names are relative to `prefix` (`scoped("model.layers.3")["self_attn.q_proj.weight"]`).
    public func scoped(_ prefix: String) -> ScopedWeights { ScopedWeights(base: self, prefix: prefix) }
}

/// A WeightSource seen through a name prefix, like candle's `VarBuilder::pp`.
public struct ScopedWeights: WeightSource {
    let base: any WeightSource
    let prefix: String

    public var sourceName: String { base.sourceName }
    public var tensorNames: [String] {
        base.tensorNames.filter { $0.hasPrefix(prefix + ".") }.map { String($0.dropFirst(prefix.count + 1)) }
    }
    public func tensorIfPresent(_ name: String) -> Tensor? { base.tensorIfPresent(prefix + "." + name) }
    public func tensor(_ name: String) throws -> Tensor { try base.tensor(prefix + "." + name) }
    public func tensor(_ name: String, shape: [Int]) throws -> Tensor { try base.tensor(prefix + "." + name, shape: shape) }
    public func scoped(_ next: String) -> ScopedWeights { ScopedWeights(base: base, prefix: prefix + "." + next) }
}

/// Tensors held in a dictionary (built in memory, e.g. by tests or converters).
public struct DictionaryWeights: WeightSource {
    public let sourceName: String
    public let tensors: [String: Tensor]
    public init(_ tensors: [String: Tensor], sourceName: String = "memory") {
        self.tensors = tensors
        self.sourceName = sourceName
    }
    public var tensorNames: [String] { tensors.keys.sorted() }
    public func tensorIfPresent(_ name: String) -> Tensor? { tensors[name] }
}
