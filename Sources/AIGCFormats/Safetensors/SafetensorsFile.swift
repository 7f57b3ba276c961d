// Hugging Face safetensors reader and writer (https://github.com/huggingface/safetensors, format spec).
//
// Layout: u64 little-endian N | N bytes of JSON header | raw tensor data.
// Header: { "name": {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}, ...,
//           "__metadata__": {"key": "value"} }, offsets relative to the start of the data, shapes
// outermost-first, data little-endian and C-contiguous.
import AIGCTensor
import Foundation

public final class SafetensorsFile: WeightSource, @unchecked Sendable {
    public let path: String
    public let metadata: [String: String]
    public let tensors: [String: Tensor]
    private let file: MappedFile

    static let maxHeaderBytes = 100 << 20

    static let dtypes: [String: DType] = [
        "F32": .f32, "F16": .f16, "BF16": .bf16, "F64": .f64,
        "I8": .i8, "U8": .i8, "BOOL": .i8, "I16": .i16, "I32": .i32, "I64": .i64,
    ]

    public convenience init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws {
        self.file = file
        self.path = file.path
        let path = file.path
        var reader = ByteReader(file: file.path, bytes: file.bytes)
        let headerLength = try reader.read(UInt64.self, "header length")
        guard headerLength <= UInt64(SafetensorsFile.maxHeaderBytes) else {
            throw FormatError.invalidValue(file: path, field: "header length", offset: 0, value: String(headerLength),
                                           reason: "larger than the \(SafetensorsFile.maxHeaderBytes >> 20) MiB limit; not a safetensors file?")
        }
        let header = try reader.readBytes(Int(headerLength), "JSON header")
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(header), options: [])
        } catch {
            throw FormatError.invalidValue(file: path, field: "JSON header", offset: 8, value: "\(headerLength) bytes",
                                           reason: "not valid JSON (\(error.localizedDescription))")
        }
        guard let entries = json as? [String: Any] else {
            throw FormatError.invalidValue(file: path, field: "JSON header", offset: 8, value: String(describing: type(of: json)),
                                           reason: "the header must be a JSON object")
        }
        let dataStart = 8 + Int(headerLength)
        let dataSize = file.size - dataStart
        let storage = TensorStorage(base: file.base, byteCount: file.size, owner: file)
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in entries {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else {
                    throw FormatError.invalidValue(file: path, field: "__metadata__", offset: 8, value: "\(value)", reason: "must be an object of strings")
                }
                for (k, v) in m { metadata[k] = (v as? String) ?? "\(v)" }
                continue
            }
            func bad(_ field: String, _ v: Any, _ reason: String) -> FormatError {
                .invalidValue(file: path, field: "\(field) of '\(name)'", offset: 8, value: "\(v)", reason: reason)
            }
            guard let info = value as? [String: Any] else { throw bad("entry", value, "must be an object") }
            guard let dtypeName = info["dtype"] as? String else { throw bad("dtype", info["dtype"] ?? "nil", "missing") }
            guard let dtype = SafetensorsFile.dtypes[dtypeName] else {
                throw bad("dtype", dtypeName, "unsupported (supported: \(SafetensorsFile.dtypes.keys.sorted().joined(separator: ", ")))")
            }
            guard let rawShape = info["shape"] as? [Any] else { throw bad("shape", info["shape"] ?? "nil", "must be an array") }
            var shape: [Int] = []
            var elements = 1
            for d in rawShape {
                guard let n = (d as? NSNumber)?.intValue, n >= 0, n <= Int(Int32.max) else { throw bad("shape", rawShape, "dimensions must be 0...2^31-1") }
                let (p, overflow) = elements.multipliedReportingOverflow(by: n)
                guard !overflow, p <= file.size else { throw bad("shape", rawShape, "more elements than the file holds") }
                elements = p
                shape.append(n)
            }
            guard let offsets = info["data_offsets"] as? [Any], offsets.count == 2,
                  let begin = (offsets[0] as? NSNumber)?.intValue, let end = (offsets[1] as? NSNumber)?.intValue,
                  begin >= 0, end >= begin else {
                throw bad("data_offsets", info["data_offsets"] ?? "nil", "must be [begin, end] with 0 <= begin <= end")
            }
            guard end <= dataSize else {
                throw FormatError.tensorOutOfBounds(file: path, tensor: name, offset: dataStart + begin, end: dataStart + end, fileSize: file.size)
            }
            guard end - begin == elements * dtype.blockBytes else {
                throw bad("data_offsets", offsets, "\(end - begin) bytes, but \(shape) of \(dtypeName) needs \(elements * dtype.blockBytes)")
            }
            let viewShape = shape.isEmpty ? [1] : shape
            tensors[name] = Tensor(name: name, dtype: dtype, shape: viewShape, storage: storage, offset: dataStart + begin)
        }
        self.tensors = tensors
        self.metadata = metadata
    }

    public var sourceName: String { path }
    public var tensorNames: [String] { tensors.keys.sorted() }
    public func tensorIfPresent(_ name: String) -> Tensor? { tensors[name] }

    /// Serializes tensors (plain types only) into the safetensors layout.
    public static func serialize(_ tensors: [Tensor], metadata: [String: String] = [:]) -> [UInt8] {
        let names: [DType: String] = [.f32: "F32", .f16: "F16", .bf16: "BF16", .f64: "F64", .i8: "I8", .i16: "I16", .i32: "I32", .i64: "I64"]
        var header: [String: Any] = [:]
        var offset = 0
        for t in tensors {
            precondition(names[t.dtype] != nil, "safetensors cannot hold \(t.dtype)")
            header[t.name] = ["dtype": names[t.dtype]!, "shape": t.shape, "data_offsets": [offset, offset + t.byteCount]]
            offset += t.byteCount
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = Array((try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8))
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: json)
        for t in tensors { out.append(contentsOf: UnsafeRawBufferPointer(start: t.data, count: t.byteCount)) }
        return out
    }
}

/// A Hugging Face model folder: `model.safetensors`, or shards listed in `model.safetensors.index.json`
/// (another stem for diffusers components: `diffusion_pytorch_model.safetensors`).
public struct SafetensorsFolder: WeightSource {
    public let path: String
    private let files: [SafetensorsFile]
    private let owner: [String: Int]

    public init(path: String, stem: String = "model") throws {
        self.path = path
        let fm = FileManager.default
        let index = (path as NSString).appendingPathComponent(stem + ".safetensors.index.json")
        let single = (path as NSString).appendingPathComponent(stem + ".safetensors")
        if fm.fileExists(atPath: index) {
            guard let data = fm.contents(atPath: index),
                  let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let map = json["weight_map"] as? [String: String] else {
                throw FormatError.invalidValue(file: index, field: "weight_map", offset: 0, value: "", reason: "expected an object of tensor name -> shard file")
            }
            let shardNames = Array(Set(map.values)).sorted()
            for shard in shardNames where shard.contains("/") || shard.hasPrefix(".") {
                throw FormatError.invalidValue(file: index, field: "weight_map", offset: 0, value: shard, reason: "shard names must be plain file names")
            }
            files = try shardNames.map { try SafetensorsFile(path: (path as NSString).appendingPathComponent($0)) }
            var owner: [String: Int] = [:]
            for (i, f) in files.enumerated() { for n in f.tensors.keys { owner[n] = i } }
            self.owner = owner
        } else if fm.fileExists(atPath: single) {
            files = [try SafetensorsFile(path: single)]
            owner = Dictionary(uniqueKeysWithValues: files[0].tensors.keys.map { ($0, 0) })
        } else {
            throw FormatError.missingFile(path: single, hint: "A Hugging Face model folder needs \(stem).safetensors or \(stem).safetensors.index.json.")
        }
    }

    public var sourceName: String { path }
    public var tensorNames: [String] { owner.keys.sorted() }
    public func tensorIfPresent(_ name: String) -> Tensor? { owner[name].flatMap { files[$0].tensors[name] } }
}
