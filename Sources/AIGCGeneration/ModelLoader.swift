// ModelLoader: opens whatever the user points at — a GGUF file, a Hugging Face safetensors folder, a
// llama2.c checkpoint — and returns the model with its tokenizer and a description.
import AIGCFormats
import AIGCKernels
import AIGCLayers
import AIGCModels
import AIGCTensor
import AIGCTokenizers
import Foundation

/// What `aigc models show` prints about a model.
public struct ModelInfo: Codable, Sendable {
    public var name: String
    public var path: String
    public var format: String
    public var architecture: String
    public var parameters: Int
    public var quantization: String
    public var contextLength: Int
    public var vocabularySize: Int
    public var fileBytes: Int
    public var license: String?
    public var sha256: String?
}

/// The element type of a model's key/value caches (`--kv-cache`), for clients of this module.
public typealias KVCachePrecision = AIGCLayers.KVCachePrecision

/// A model ready to generate: the network, its tokenizer, and what it is.
public final class LoadedModel: @unchecked Sendable {
    public let model: any TextModel
    public let tokenizer: Tokenizer
    public let info: ModelInfo
    /// The Jinja chat template the model ships, if any.
    public let chatTemplate: String?
    /// Milliseconds from open to ready.
    public let loadMilliseconds: Double

    init(model: any TextModel, tokenizer: Tokenizer, info: ModelInfo, chatTemplate: String?, loadMilliseconds: Double) {
        self.model = model
        self.tokenizer = tokenizer
        self.info = info
        self.chatTemplate = chatTemplate
        self.loadMilliseconds = loadMilliseconds
    }
}

public enum ModelLoaderError: Error, CustomStringConvertible, Sendable {
    case unknownFormat(path: String)
    case unsupportedArchitecture(path: String, architecture: String, supported: [String])
    case noWeights(path: String)
    case missingTokenizer(path: String, hint: String)

    public var description: String {
        switch self {
        case let .unknownFormat(path):
            return "\(path): not a GGUF file, Hugging Face model folder or llama2.c checkpoint"
        case let .unsupportedArchitecture(path, arch, supported):
            return "\(path): architecture '\(arch)' is not supported (supported: \(supported.sorted().joined(separator: ", ")))"
        case let .noWeights(path):
            return "\(path): holds a tokenizer but no weights (a vocabulary-only file); it works with `aigc tokenize` only"
        case let .missingTokenizer(path, hint):
            return "\(path): no tokenizer found. \(hint)"
        }
    }
}

public enum ModelFormat: String, Sendable {
    case gguf, safetensors, llama2c

    /// Detects the format of `path` from its content (and folder layout).
    public static func detect(_ path: String) throws -> ModelFormat {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FormatError.missingFile(path: path, hint: "Give a model file or folder path, or a name from `aigc models`.")
        }
        if isDirectory.boolValue { return .safetensors }
        if path.hasSuffix(".safetensors") { return .safetensors }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw FormatError.cannotOpen(file: path, reason: "permission denied") }
        defer { try? handle.close() }
        let head = handle.readData(ofLength: 4)
        if head == Data("GGUF".utf8) { return .gguf }
        if path.hasSuffix(".bin") { return .llama2c }
        throw ModelLoaderError.unknownFormat(path: path)
    }
}

public enum ModelLoader {
    /// Loads the model at `path`. `tokenizerPath` overrides where the tokenizer comes from;
    /// `cachePrecision` is the element type of the key/value caches the model makes.
    public static func load(path: String, tokenizerPath: String? = nil, name: String? = nil, pool: ComputePool = .shared,
                            cachePrecision: KVCachePrecision = .f16) throws -> LoadedModel {
        let start = DispatchTime.now()
        configureBLASSingleThreaded()
        let loaded: LoadedModel
        switch try ModelFormat.detect(path) {
        case .gguf: loaded = try loadGGUF(path: path, tokenizerPath: tokenizerPath, name: name, pool: pool)
        case .safetensors: loaded = try loadSafetensors(path: path, tokenizerPath: tokenizerPath, name: name, pool: pool)
        case .llama2c: loaded = try loadLlama2C(path: path, tokenizerPath: tokenizerPath, name: name, pool: pool)
        }
        WeightArena.shared.seal()
        loaded.model.cachePrecision = cachePrecision
        let ms = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
        return LoadedModel(model: loaded.model, tokenizer: loaded.tokenizer, info: loaded.info, chatTemplate: loaded.chatTemplate, loadMilliseconds: ms)
    }

    /// Only the tokenizer of a model (also works for vocabulary-only GGUF files).
    public static func loadTokenizer(path: String, tokenizerPath: String? = nil) throws -> Tokenizer {
        if let tokenizerPath { return try tokenizerFromFile(tokenizerPath, vocabSize: nil) }
        switch try ModelFormat.detect(path) {
        case .gguf: return try Tokenizer(TokenizerLoader.vocabulary(fromGGUF: GGUFFile(path: path)))
        case .safetensors: return try huggingFaceTokenizer(folder: folderOf(path))
        case .llama2c:
            let header = try Llama2CCheckpoint(path: path).header
            return try tokenizerFromFile(try llama2cTokenizerPath(for: path), vocabSize: header.vocabSize)
        }
    }

    static func loadGGUF(path: String, tokenizerPath: String?, name: String?, pool: ComputePool) throws -> LoadedModel {
        try load(gguf: Profiler.measure("load: gguf") { try GGUFFile(path: path) }, tokenizerPath: tokenizerPath, name: name, pool: pool)
    }

    /// A model from an already opened GGUF file (also one parsed from memory).
    public static func load(gguf: GGUFFile, tokenizerPath: String? = nil, name: String? = nil, pool: ComputePool = .shared) throws -> LoadedModel {
        let path = gguf.path
        guard !gguf.tensorInfos.isEmpty else { throw ModelLoaderError.noWeights(path: path) }
        let arch = gguf.string("general.architecture") ?? "?"
        guard let builder = ModelRegistry.gguf[arch] else {
            throw ModelLoaderError.unsupportedArchitecture(path: path, architecture: arch, supported: Array(ModelRegistry.gguf.keys))
        }
        let model = try Profiler.measure("load: model") { try builder(GGUFConfiguration(gguf), GGUFWeights(gguf), pool) }
        WeightArena.shared.seal()
        let tokenizer = try Profiler.measure("load: tokenizer") {
            try tokenizerPath.map { try tokenizerFromFile($0, vocabSize: model.vocabularySize) }
                ?? Tokenizer(Profiler.measure("load: vocabulary") { try TokenizerLoader.vocabulary(fromGGUF: gguf) })
        }
        let info = ModelInfo(name: name ?? gguf.string("general.name") ?? fileName(path), path: path, format: "gguf", architecture: arch,
                             parameters: model.parameterCount, quantization: quantizationName(gguf), contextLength: model.contextLength,
                             vocabularySize: model.vocabularySize, fileBytes: gguf.fileSize, license: gguf.string("general.license"), sha256: nil)
        return LoadedModel(model: model, tokenizer: tokenizer, info: info, chatTemplate: gguf.string("tokenizer.chat_template"), loadMilliseconds: 0)
    }

    static func loadSafetensors(path: String, tokenizerPath: String?, name: String?, pool: ComputePool) throws -> LoadedModel {
        let folder = folderOf(path)
        let configPath = (folder as NSString).appendingPathComponent("config.json")
        guard let json = FileManager.default.contents(atPath: configPath) else {
            throw FormatError.missingFile(path: configPath, hint: "A Hugging Face model folder needs its config.json.")
        }
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw FormatError.invalidValue(file: configPath, field: "config", offset: 0, value: "", reason: "not a JSON object")
        }
        let modelType = object["model_type"] as? String ?? "?"
        guard let builder = ModelRegistry.huggingFace[modelType] else {
            throw ModelLoaderError.unsupportedArchitecture(path: configPath, architecture: modelType, supported: Array(ModelRegistry.huggingFace.keys))
        }
        let weights: any WeightSource = path.hasSuffix(".safetensors") ? try SafetensorsFile(path: path) : try SafetensorsFolder(path: folder)
        let model: any TextModel
        do {
            model = try builder(json, StrippedPrefixWeights(weights), pool)
        } catch let error as DecodingError {
            throw FormatError.invalidValue(file: configPath, field: "config", offset: 0, value: modelType, reason: "\(error)")
        }
        let tokenizer = try tokenizerPath.map { try tokenizerFromFile($0, vocabSize: model.vocabularySize) } ?? huggingFaceTokenizer(folder: folder)
        let dtype = weights.tensorNames.first.flatMap { weights.tensorIfPresent($0)?.dtype.description } ?? "F32"
        let bytes = (try? FileManager.default.contentsOfDirectory(atPath: folder))?.filter { $0.hasSuffix(".safetensors") }
            .reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: (folder as NSString).appendingPathComponent($1))[.size] as? Int) ?? 0) } ?? 0
        let info = ModelInfo(name: name ?? fileName(folder), path: path, format: "safetensors", architecture: modelType,
                             parameters: model.parameterCount, quantization: dtype, contextLength: model.contextLength,
                             vocabularySize: model.vocabularySize, fileBytes: bytes, license: nil, sha256: nil)
        let template = (try? huggingFaceChatTemplate(folder: folder)) ?? nil
        return LoadedModel(model: model, tokenizer: tokenizer, info: info, chatTemplate: template, loadMilliseconds: 0)
    }

    static func loadLlama2C(path: String, tokenizerPath: String?, name: String?, pool: ComputePool) throws -> LoadedModel {
        let checkpoint = try Llama2CCheckpoint(path: path)
        let h = checkpoint.header
        let config = LlamaConfiguration(hiddenSize: h.dim, intermediateSize: h.hiddenDim, layers: h.layers, heads: h.heads, kvHeads: h.kvHeads,
                                        vocabularySize: h.vocabSize, contextLength: h.sequenceLength, rmsNormEps: 1e-5, ropeTheta: 10000,
                                        ropeInterleaved: true, tieWordEmbeddings: h.sharedClassifier)
        let model = try LlamaModel(configuration: config, weights: checkpoint, architecture: "llama", pool: pool)
        let tokenizer = try tokenizerFromFile(tokenizerPath ?? llama2cTokenizerPath(for: path), vocabSize: h.vocabSize)
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let info = ModelInfo(name: name ?? fileName(path), path: path, format: "llama2c", architecture: "llama", parameters: model.parameterCount,
                             quantization: "F32", contextLength: h.sequenceLength, vocabularySize: h.vocabSize, fileBytes: size ?? 0,
                             license: nil, sha256: nil)
        return LoadedModel(model: model, tokenizer: tokenizer, info: info, chatTemplate: nil, loadMilliseconds: 0)
    }

    /// llama2.c keeps the tokenizer beside the model: `tokenizer.bin`, or `tok512.bin`-style names.
    static func llama2cTokenizerPath(for model: String) throws -> String {
        let folder = (model as NSString).deletingLastPathComponent
        let base = ((model as NSString).lastPathComponent as NSString).deletingPathExtension
        let names = ["\(base).tokenizer.bin", "tokenizer.bin"]
        for n in names {
            let p = (folder as NSString).appendingPathComponent(n)
            if FileManager.default.fileExists(atPath: p) { return p }
        }
        throw ModelLoaderError.missingTokenizer(path: model, hint: "llama2.c models need their tokenizer.bin: pass it with --tokenizer PATH.")
    }

    static func tokenizerFromFile(_ path: String, vocabSize: Int?) throws -> Tokenizer {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FormatError.missingFile(path: path, hint: "The --tokenizer path must be a tokenizer.json, tokenizer.bin, GGUF file or folder.")
        }
        if isDirectory.boolValue { return try huggingFaceTokenizer(folder: path) }
        if path.hasSuffix(".json") { return try Tokenizer(HuggingFaceTokenizer.vocabulary(tokenizerJSON: path)) }
        if let head = FileHandle(forReadingAtPath: path)?.readData(ofLength: 4), head == Data("GGUF".utf8) {
            return try Tokenizer(TokenizerLoader.vocabulary(fromGGUF: GGUFFile(path: path)))
        }
        return try Tokenizer(TokenizerLoader.vocabulary(fromLlama2C: Llama2CVocabulary(path: path, vocabSize: vocabSize)))
    }

    static func huggingFaceTokenizer(folder: String) throws -> Tokenizer {
        let json = (folder as NSString).appendingPathComponent("tokenizer.json")
        if FileManager.default.fileExists(atPath: json) { return try Tokenizer(HuggingFaceTokenizer.vocabulary(tokenizerJSON: json)) }
        let vocab = (folder as NSString).appendingPathComponent("vocab.json")
        let merges = (folder as NSString).appendingPathComponent("merges.txt")
        if FileManager.default.fileExists(atPath: vocab) && FileManager.default.fileExists(atPath: merges) {
            return try Tokenizer(HuggingFaceTokenizer.vocabulary(vocabJSON: vocab, merges: merges))
        }
        throw ModelLoaderError.missingTokenizer(path: folder, hint: "Expected tokenizer.json, or vocab.json with merges.txt, in the folder.")
    }

    static func huggingFaceChatTemplate(folder: String) throws -> String? {
        let path = (folder as NSString).appendingPathComponent("tokenizer_config.json")
        guard let data = FileManager.default.contents(atPath: path),
              let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object["chat_template"] as? String
    }

    static func folderOf(_ path: String) -> String {
        var isDirectory: ObjCBool = false
        FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        return isDirectory.boolValue ? path : (path as NSString).deletingLastPathComponent
    }

    static func fileName(_ path: String) -> String { ((path as NSString).lastPathComponent as NSString).deletingPathExtension }

    /// llama.cpp's `general.file_type` names, or the most common tensor type.
    static func quantizationName(_ gguf: GGUFFile) -> String {
        let names: [Int: String] = [0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S",
                                    12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 32: "BF16"]
        if let t = gguf.int("general.file_type"), let n = names[t] { return n }
        var bytes: [DType: Int] = [:]
        for t in gguf.tensorInfos { bytes[t.dtype, default: 0] += t.byteCount }
        return bytes.max { $0.value < $1.value }?.key.description ?? "?"
    }
}

/// GGUF metadata as a model configuration source.
struct GGUFConfiguration: ConfigurationSource {
    let file: GGUFFile
    init(_ file: GGUFFile) { self.file = file }
    var sourceName: String { file.path }
    func int(_ key: String) -> Int? { file.int(key) }
    func double(_ key: String) -> Double? { file.float(key) }
    func bool(_ key: String) -> Bool? { file.bool(key) }
    func string(_ key: String) -> String? { file.string(key) }
}

/// Hugging Face checkpoints name GPT-2 tensors with or without a "transformer." prefix.
struct StrippedPrefixWeights: WeightSource {
    let base: any WeightSource
    init(_ base: any WeightSource) { self.base = base }
    var sourceName: String { base.sourceName }
    var tensorNames: [String] { base.tensorNames }
    func tensorIfPresent(_ name: String) -> Tensor? { base.tensorIfPresent(name) ?? base.tensorIfPresent("transformer." + name) }
}
