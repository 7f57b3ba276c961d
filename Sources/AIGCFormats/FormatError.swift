// FormatError: every way a model or tokenizer file can be wrong, with the file, field and offset.

/// A file that cannot be read as the format it claims. Messages name the file, the field and the
/// byte offset, and say what would fix it where that is known.
public enum FormatError: Error, CustomStringConvertible, Sendable, Equatable {
    case cannotOpen(file: String, reason: String)
    case truncated(file: String, field: String, offset: Int, need: Int, fileSize: Int)
    case badMagic(file: String, expected: String, found: String)
    case unsupportedVersion(file: String, version: Int, supported: String)
    case invalidValue(file: String, field: String, offset: Int, value: String, reason: String)
    case unknownTensorType(file: String, tensor: String, offset: Int, type: Int)
    case tensorOutOfBounds(file: String, tensor: String, offset: Int, end: Int, fileSize: Int)
    case missingKey(file: String, key: String)
    case missingFile(path: String, hint: String)

    public var description: String {
        switch self {
        case let .cannotOpen(file, reason):
            return "\(file): cannot open: \(reason)"
        case let .truncated(file, field, offset, need, fileSize):
            return "\(file): truncated at offset \(offset) reading \(field): need \(need) bytes, the file has \(fileSize)"
        case let .badMagic(file, expected, found):
            return "\(file): not a \(expected) file (magic bytes \(found))"
        case let .unsupportedVersion(file, version, supported):
            return "\(file): unsupported version \(version) (supported: \(supported))"
        case let .invalidValue(file, field, offset, value, reason):
            return "\(file): invalid \(field) at offset \(offset): \(value) — \(reason)"
        case let .unknownTensorType(file, tensor, offset, type):
            return "\(file): tensor '\(tensor)' at offset \(offset) has unknown type id \(type)"
        case let .tensorOutOfBounds(file, tensor, offset, end, fileSize):
            return "\(file): data of tensor '\(tensor)' (bytes \(offset)..<\(end)) lies past the end of the file (\(fileSize) bytes)"
        case let .missingKey(file, key):
            return "\(file): required key '\(key)' is missing"
        case let .missingFile(path, hint):
            return "\(path): not found. \(hint)"
        }
    }
}
