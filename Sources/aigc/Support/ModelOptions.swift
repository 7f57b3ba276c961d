// Options shared by the commands that load a model.
import AIGCGeneration
import AIGCKernels
import ArgumentParser
import Foundation

struct ModelOptions: ParsableArguments {
    @Option(name: [.short, .customLong("model")], help: "Model name (see `aigc models`) or path to a GGUF file, Hugging Face folder or llama2.c .bin.")
    var model: String = ModelCatalog.defaultModel

    @Option(help: "Tokenizer to use instead of the model's own (tokenizer.json, tokenizer.bin, GGUF).")
    var tokenizer: String?

    @Option(name: [.short, .customLong("threads")], help: "Threads to compute with (default: all CPUs this process may use).")
    var threads: Int?

    @Option(name: .customLong("kv-cache"), help: "Element type of the key/value cache: f16 (half the memory traffic, as llama.cpp) or f32.")
    var kvCache: KVCachePrecision = .f16

    func validate() throws {
        if let threads, threads < 1 || threads > 256 { throw ValidationError("--threads must be 1...256") }
    }

    /// The model file path and its store manifest, if it is an installed model.
    func resolve() throws -> (path: String, installed: InstalledModel?) {
        try ModelStore().resolve(model)
    }

    func load() throws -> LoadedModel {
        if let threads { ComputePool.configureShared(threads: threads) }
        let (path, installed) = try resolve()
        return try ModelLoader.load(path: path, tokenizerPath: tokenizer, name: installed?.name, cachePrecision: kvCache)
    }
}

extension KVCachePrecision: ExpressibleByArgument {}

/// Writes text to stdout immediately (streaming).
func writeOut(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}

/// Writes a line to stderr.
func writeErr(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// JSON with sorted keys, one line; dates as ISO 8601 strings.
func jsonLine<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
