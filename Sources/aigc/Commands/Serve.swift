// aigc serve: the OpenAI-compatible HTTP service (plus Ollama's /api routes and a web UI at /).
import AIGCGeneration
import AIGCKernels
import AIGCServer
import AIGCStore
import ArgumentParser
import Foundation
import Hummingbird
import Logging

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve models over HTTP (OpenAI and Ollama APIs, web UI at /).")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8080
    @Option(name: [.short, .customLong("model")], help: "Model name or path to serve (repeatable; default: the default model).") var models: [String] = []
    @Option(help: "API keys: required or off (default: required unless listening on loopback).") var auth: String?
    @Option(help: "Database: postgres://user:pass@host:port/db (default: $AIGC_DATABASE, else SQLite in $AIGC_HOME).") var database: String?
    @Option(name: [.short, .customLong("threads")], help: "Compute threads.") var threads: Int?
    @Option(name: .customLong("max-sequences"), help: "Sequences decoded together per model.") var maxSequences = 8
    @Option(name: .customLong("kv-cache"), help: "Element type of the key/value cache: f16 or f32.") var kvCache: KVCachePrecision = .f16
    @Option(name: .customLong("queue"), help: "Requests that may wait for a slot before 429.") var queue = 32
    @Option(help: "Seconds a request may run (0: no limit).") var timeout: Double = 600
    @Option(help: "JSON price table for usage metering.") var prices: String?
    @Option(name: .customLong("image-model"), help: "Image checkpoint to serve at /v1/images/generations (repeatable; architecture detected from the file).") var imageModels: [String] = []
    @Option(name: .customLong("max-tokens"), help: "Most tokens a request may generate per choice; larger max_tokens are clamped (0: only the context limits).") var maxTokens = 0

    func validate() throws {
        if let auth, auth != "required" && auth != "off" { throw ValidationError("--auth must be required or off") }
        if !(1...65535).contains(port) { throw ValidationError("--port must be 1...65535") }
        if maxTokens < 0 { throw ValidationError("--max-tokens must be >= 0") }
        if !(1...64).contains(maxSequences) || !(0...4096).contains(queue) || timeout < 0 {
            throw ValidationError("--max-sequences 1...64, --queue 0...4096, --timeout >= 0")
        }
    }

    func run() async throws {
        if let threads { ComputePool.configureShared(threads: threads) }
        let storeModels = ModelStore()
        var options = ServerOptions()
        options.host = host
        options.port = port
        options.authRequired = auth.map { $0 == "required" }
        options.engine.maxSequences = maxSequences
        options.cachePrecision = kvCache
        options.engine.maxQueued = queue
        options.engine.requestTimeout = timeout > 0 ? timeout : nil
        options.maxTokensLimit = maxTokens > 0 ? maxTokens : nil
        for name in models.isEmpty ? [ModelCatalog.defaultModel] : models {
            let (path, installed) = try storeModels.resolve(name)
            options.models.append((installed?.name ?? ((path as NSString).lastPathComponent as NSString).deletingPathExtension, path))
        }
        for path in imageModels {
            guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("--image-model \(path): no such file") }
            options.imageModels.append((((path as NSString).lastPathComponent as NSString).deletingPathExtension, path))
        }
        options.imageFolder = storeModels.home.appendingPathComponent("outputs/images").path
        let priceTable = try prices.map { try PriceTable.load(contentsOf: URL(fileURLWithPath: $0)) } ?? .free
        let location = try StoreLocation.resolve(databaseURL: database ?? ProcessInfo.processInfo.environment["AIGC_DATABASE"], home: storeModels.home)
        let store = try await location.open(prices: priceTable)
        var logger = Logger(label: "aigc")
        logger.logLevel = .info
        let app = try buildApplication(options, store: store, logger: logger)
        writeErr("serving \((options.models.map(\.name) + options.imageModels.map(\.name)).joined(separator: ", ")) on http://\(host):\(port) (auth \(options.requiresAuth ? "required" : "off"), \(location))")
        try await app.runService()
    }
}
