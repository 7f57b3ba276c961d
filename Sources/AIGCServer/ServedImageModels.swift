// ServedImageModels: the image models a server answers for. A pipeline runs one generation at a
// time (it owns its workspace), so each model has its own serial worker thread; a bounded number of
// requests may wait for it, the rest get 429. The compute runs off Swift's cooperative pool so
// HTTP I/O stays responsive while an image takes seconds.
import AIGCImaging
import Foundation
import Synchronization

public final class ServedImageModel: Sendable {
    public let name: String
    public let loaded: LoadedImageModel
    public let created = Int(Date().timeIntervalSince1970)
    let worker: DispatchQueue
    let maxWaiting: Int
    let waiting = Mutex(0)

    public init(name: String, loaded: LoadedImageModel, maxWaiting: Int = 8) {
        self.name = name
        self.loaded = loaded
        self.maxWaiting = maxWaiting
        worker = DispatchQueue(label: "aigc.image.\(name)", qos: .userInitiated)
    }

    /// Requests running or waiting on this model.
    public var queueDepth: Int { waiting.withLock { $0 } }

    /// Generates on the model's worker; `progress` is called from that worker after every step.
    public func generate(_ request: ImageRequest, visibleLabel: Bool,
                         progress: @escaping @Sendable (ImageProgress) -> Void = { _ in }) async throws -> GeneratedImages {
        let admitted = waiting.withLock { n in
            guard n < maxWaiting else { return false }
            n += 1
            return true
        }
        guard admitted else {
            throw APIError.rateLimited("Image model '\(name)' has \(maxWaiting) requests running or waiting; retry later.", retryAfter: 10)
        }
        let loaded = self.loaded
        return try await withCheckedThrowingContinuation { continuation in
            worker.async { [self] in
                defer { waiting.withLock { $0 -= 1 } }
                continuation.resume(with: Result {
                    try ImageGeneration.generate(loaded, request: request, visibleLabel: visibleLabel, layout: .separate, progress: progress)
                })
            }
        }
    }
}

public final class ServedImageModels: Sendable {
    public let models: [ServedImageModel]

    public init(_ models: [ServedImageModel]) { self.models = models }

    public var names: [String] { models.map(\.name) }

    /// The model called `name`; the only one when `name` is nil; else a 404 (400 when none is served).
    public func resolve(_ name: String?) throws -> ServedImageModel {
        guard !models.isEmpty else {
            throw APIError.invalidRequest("This server serves no image model; start it with --image-model PATH.", param: "model", code: "model_not_found")
        }
        guard let name else {
            if models.count == 1 { return models[0] }
            throw APIError.invalidRequest("Name one of the image models: \(names.joined(separator: ", ")).", param: "model")
        }
        if let m = models.first(where: { $0.name == name }) { return m }
        throw APIError.modelNotFound(name, available: names)
    }
}
