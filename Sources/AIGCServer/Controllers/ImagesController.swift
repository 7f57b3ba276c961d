// POST /v1/images/generations (OpenAI's shape: `b64_json` or a `url` under this server), the image
// files behind those URLs, and GET /v1/images/models. With "stream": true the steps arrive as
// Server-Sent Events before the result. Every image carries its implicit label in the PNG and in the
// response; usage records one row per request with the images as completion units.
import AIGCFormats
import AIGCGeneration
import AIGCImaging
import AIGCTokenizers
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

struct ImagesController {
    let server: ServerContext

    static let endpoint = "/v1/images/generations"

    func addRoutes(to router: Router<AIGCRequestContext>) {
        router.get("/v1/images/models") { _, _ in
            try server.json(ModelList(data: server.images.models.map { ModelObject(id: $0.name, created: $0.created) }))
        }
        router.post(RouterPath(stringLiteral: Self.endpoint)) { request, context in try await generate(request, context) }
        router.get("/v1/images/files/:name") { _, context in try file(context.parameters.require("name")) }
    }

    func generate(_ request: Request, _ context: AIGCRequestContext) async throws -> Response {
        let body = try await request.decode(as: ImageGenerationRequest.self, context: context)
        let model = try server.images.resolve(body.model)
        let format = body.responseFormat ?? "b64_json"
        guard format == "b64_json" || format == "url" else {
            throw APIError.invalidRequest("response_format must be b64_json or url, not '\(format)'.", param: "response_format")
        }
        if format == "url" && server.imageFolder == nil {
            throw APIError.invalidRequest("This server keeps no image files; ask for response_format b64_json.", param: "response_format")
        }
        var imageRequest = try Self.imageRequest(body)
        _ = try model.loaded.pipeline.validate(imageRequest)
        try await server.accounts.checkLimits(context.caller)
        if body.enhancePrompt == true { try await enhance(&imageRequest) }
        let prepared = imageRequest
        let revisedPrompt = imageRequest.originalPrompt == nil ? nil : imageRequest.prompt
        let started = Date()
        let host = request.head.authority ?? "127.0.0.1"
        let visible = body.label ?? false

        let respond: @Sendable (GeneratedImages) async throws -> ImageGenerationResponse = { generated in
            let data = try generated.pictures.indices.map { i in
                let png = try PNGWriter.encode(generated.pictures[i])
                let label = generated.labels[i]
                if format == "url" {
                    let name = label.produceID + ".png"
                    try Data(png).write(to: URL(fileURLWithPath: server.imageFolder!).appendingPathComponent(name), options: .atomic)
                    return ImageData(url: "http://\(host)/v1/images/files/\(name)", revisedPrompt: revisedPrompt, aigc: label)
                }
                return ImageData(b64JSON: Data(png).base64EncodedString(), revisedPrompt: revisedPrompt, aigc: label)
            }
            try await server.accounts.recordUsage(caller: context.caller, model: model.name, endpoint: Self.endpoint, prompt: 0,
                                                  completion: generated.pictures.count, started: started, status: 200)
            return ImageGenerationResponse(created: Int(started.timeIntervalSince1970), data: data, model: model.name,
                                           seed: generated.seed, steps: generated.steps, seconds: generated.seconds)
        }
        let failed: @Sendable (Error) async -> Void = { error in
            try? await server.accounts.recordUsage(caller: context.caller, model: model.name, endpoint: Self.endpoint, prompt: 0, completion: 0,
                                                   started: started, status: Int(APIError.from(error).status.code))
        }

        guard body.stream == true else {
            do {
                let response = try await respond(try await model.generate(prepared, visibleLabel: visible))
                return try server.json(response, label: response.data.first?.aigc)
            } catch {
                await failed(error)
                throw error
            }
        }
        let (progress, progressSink) = AsyncStream<ImageProgress>.makeStream()
        let events = ResponseBody { writer in
            let encoder = JSONEncoder()
            func send(_ value: some Encodable) async throws {
                try await writer.write(EventStream.event(value, encoder: encoder))
            }
            let generation = Task {
                defer { progressSink.finish() }
                return try await model.generate(prepared, visibleLabel: visible) { progressSink.yield($0) }
            }
            for await step in progress { try await send(ImageProgressEvent(step: step.step, totalSteps: step.totalSteps)) }
            do {
                try await send(ImageCompletedEvent(response: try await respond(try await generation.value)))
            } catch {
                await failed(error)
                let e = APIError.from(error)
                try await send(ErrorBody(error: .init(message: e.message, type: e.type, param: e.param, code: e.code)))
            }
            try await writer.write(EventStream.done)
            try await writer.finish(nil)
        }
        return EventStream.response(events)
    }

    /// Rewrites the prompt with the first served text model, on its batch engine (greedy, seeded).
    func enhance(_ request: inout ImageRequest) async throws {
        guard let prompt = request.prompt else {
            throw APIError.invalidRequest("enhance_prompt needs a prompt to rewrite.", param: "enhance_prompt")
        }
        guard let text = server.models.models.first else {
            throw APIError.invalidRequest("enhance_prompt needs a text model; start the server with -m NAME as well.", param: "enhance_prompt")
        }
        var generation = GenerationRequest(prompt: "")
        generation.promptTokens = try text.promptTokens(for: [ChatMessage(role: "system", content: PromptEnhancer.instruction),
                                                              ChatMessage(role: "user", content: prompt)])
        generation.maxTokens = 96
        generation.sampling.temperature = 0
        var reply = ""
        for try await event in try text.engine.submit(generation) { if case let .done(result) = event { reply = result.text } }
        let enhanced = PromptEnhancer.clean(reply)
        guard !enhanced.isEmpty else { throw APIError.server("The prompt enhancer (\(text.name)) answered with no text.") }
        request.originalPrompt = prompt
        request.promptEnhancer = text.name
        request.prompt = enhanced
    }

    /// The generation a request body asks for, with OpenAI's size string "WxH" split.
    static func imageRequest(_ body: ImageGenerationRequest) throws -> ImageRequest {
        let n = body.n ?? 1
        guard (1...16).contains(n) else { throw APIError.invalidRequest("n must be 1...16.", param: "n") }
        var request = ImageRequest(count: n, seed: body.seed ?? UInt64.random(in: 0...UInt64(UInt32.max)), steps: body.steps)
        if let prompt = body.prompt, !prompt.isEmpty { request.prompt = prompt }
        if let negative = body.negativePrompt, !negative.isEmpty { request.negativePrompt = negative }
        request.guidanceScale = body.guidanceScale
        request.scheduler = body.scheduler
        if let size = body.size {
            let parts = size.split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts.allSatisfy({ (8...2048).contains($0) }) else {
                throw APIError.invalidRequest("size must be WIDTHxHEIGHT in pixels (8...2048 each), e.g. 512x512; got '\(size)'.", param: "size")
            }
            request.width = parts[0]
            request.height = parts[1]
        }
        try request.validateCommon()
        return request
    }

    func file(_ name: String) throws -> Response {
        // Names are ProduceIDs (UUIDs) plus .png: anything else cannot be one of ours.
        guard let folder = server.imageFolder, name.hasSuffix(".png"), UUID(uuidString: String(name.dropLast(4))) != nil,
              let data = FileManager.default.contents(atPath: folder + "/" + name) else {
            throw APIError.notFound("No such image: \(name)")
        }
        var headers = HTTPFields()
        headers[.contentType] = "image/png"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
