// The application: the router with every route and middleware, and the engines' lifecycle (graceful
// shutdown lets in-flight requests finish). After hummingbird-examples' App+build.swift.
import AIGCGeneration
import AIGCImaging
import AIGCStore
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

public struct ServerOptions: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Models to serve: name -> file or folder path.
    public var models: [(name: String, path: String)] = []
    /// nil: required unless the host is a loopback address.
    public var authRequired: Bool?
    public var engine = BatchEngine.Configuration()
    /// Element type of the served models' key/value caches.
    public var cachePrecision = KVCachePrecision.f16
    /// See `ServerContext.maxTokensLimit`.
    public var maxTokensLimit: Int?
    /// Image models to serve: name -> checkpoint path (architecture detected from the file).
    public var imageModels: [(name: String, path: String)] = []
    /// See `ServerContext.imageFolder`; created when missing.
    public var imageFolder: String?
    public init() {}

    public var isLoopback: Bool { ["127.0.0.1", "localhost", "::1"].contains(host) || host.hasPrefix("127.") }
    public var requiresAuth: Bool { authRequired ?? !isLoopback }
}

/// The router: API routes behind APIMiddleware, plus the web UI, health, metrics and the OpenAPI document.
public func buildRouter(_ server: ServerContext) -> Router<AIGCRequestContext> {
    let router = Router(context: AIGCRequestContext.self)
    router.add(middleware: APIMiddleware(server: server))
    router.get("/health") { _, _ in
        try server.json(["status": "ok", "models": server.models.names.joined(separator: ",")])
    }
    router.get("/metrics") { _, _ in
        let engines = server.models.models.map { ($0.name, $0.engine.queueDepth, $0.engine.activeSequences, $0.engine.generatedTokens) }
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: server.metrics.render(engines: engines))))
    }
    OpenAIController(server: server).addRoutes(to: router)
    OllamaController(server: server).addRoutes(to: router)
    ConversationsController(server: server).addRoutes(to: router)
    ImagesController(server: server).addRoutes(to: router)
    WebUI.addRoutes(to: router, modelNames: server.models.names, imageModelNames: server.images.names)
    return router
}

/// Loads the models, opens the store and builds the application.
public func buildApplication(_ options: ServerOptions, store: any Store, logger: Logger = Logger(label: "aigc")) throws -> some ApplicationProtocol {
    let served = try ServedModels(options.models.map { m in
        try ServedModel(name: m.name, loaded: ModelLoader.load(path: m.path, name: m.name, cachePrecision: options.cachePrecision), configuration: options.engine)
    })
    let images = try ServedImageModels(options.imageModels.map { m in
        ServedImageModel(name: m.name, loaded: try ImageModelLoader.load(path: m.path))
    })
    if let folder = options.imageFolder { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
    let server = ServerContext(models: served, accounts: Accounts(store: store, authRequired: options.requiresAuth),
                               maxTokensLimit: options.maxTokensLimit, images: images, imageFolder: options.imageFolder)
    return Application(router: buildRouter(server),
                       configuration: .init(address: .hostname(options.host, port: options.port), serverName: "aigc"),
                       services: [EngineService(models: served, store: store)], logger: logger)
}

/// Stops the engines (after in-flight requests finish) and closes the store on shutdown.
struct EngineService: Service {
    let models: ServedModels
    let store: any Store
    func run() async throws {
        try? await gracefulShutdown()
        await models.shutdown()
        await store.close()
    }
}
