// ServerContext: what every route shares — the served models, accounts (keys, usage, conversations),
// metrics — and the conversions between API fields and generation requests.
import AIGCFormats
import AIGCGeneration
import AIGCSampling
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

public struct ServerContext: Sendable {
    public let models: ServedModels
    public let accounts: Accounts
    public let metrics: ServerMetrics
    /// ContentProducer of the AI-generated labels.
    public let producer: String
    /// Most tokens one choice may generate (like llama-server's -n): larger max_tokens are clamped and
    /// finish with "length"; nil leaves only the context as the limit.
    public let maxTokensLimit: Int?
    /// Image models (POST /v1/images/generations).
    public let images: ServedImageModels
    /// Where images asked for as URLs are kept (nil: only b64_json).
    public let imageFolder: String?

    public init(models: ServedModels, accounts: Accounts, metrics: ServerMetrics = ServerMetrics(), producer: String = "aigc",
                maxTokensLimit: Int? = nil, images: ServedImageModels = ServedImageModels([]), imageFolder: String? = nil) {
        self.models = models
        self.images = images
        self.imageFolder = imageFolder
        self.accounts = accounts
        self.metrics = metrics
        self.producer = producer
        self.maxTokensLimit = maxTokensLimit
    }

    func modelObject(_ m: ServedModel) -> ModelObject { ModelObject(id: m.name, created: m.created) }

    /// A JSON response; with a label, also the `AIGC-Label` header the labelling standard asks for.
    func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, label: AIGCLabel? = nil) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if let label { headers[HTTPField.Name("AIGC-Label")!] = label.json }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    /// A generation request from the API's sampling fields, checked against OpenAI's ranges.
    func generationRequest(_ f: SamplingFields, maxTokens: Int?, stop: [String], logprobs: Int?) throws -> GenerationRequest {
        var r = GenerationRequest(prompt: "")
        if let t = f.temperature {
            guard (0...2).contains(t) else { throw APIError.invalidRequest("temperature must be between 0 and 2.", param: "temperature") }
            r.sampling.temperature = t
        }
        if let p = f.topP {
            guard p > 0 && p <= 1 else { throw APIError.invalidRequest("top_p must be in (0, 1].", param: "top_p") }
            r.sampling.topP = p
        }
        if let k = f.topK { r.sampling.topK = k }
        if let p = f.minP { r.sampling.minP = p }
        if let p = f.repeatPenalty { r.sampling.repeatPenalty = p }
        for (name, value) in [("presence_penalty", f.presencePenalty), ("frequency_penalty", f.frequencyPenalty)] {
            if let v = value, !(-2...2).contains(v) { throw APIError.invalidRequest("\(name) must be between -2 and 2.", param: name) }
        }
        r.sampling.presencePenalty = f.presencePenalty ?? 0
        r.sampling.frequencyPenalty = f.frequencyPenalty ?? 0
        r.sampling.seed = f.seed
        for (key, bias) in f.logitBias ?? [:] {
            guard let token = Int(key), token >= 0, (-100...100).contains(bias) else {
                throw APIError.invalidRequest("logit_bias maps token ids to biases in -100...100; '\(key)': \(bias) is not one.", param: "logit_bias")
            }
            r.sampling.logitBias[token] = bias == -100 ? -.infinity : bias
        }
        if let problem = r.sampling.problem() { throw APIError.invalidRequest(problem) }
        if let m = maxTokens {
            guard m >= 1 else { throw APIError.invalidRequest("max_tokens must be at least 1.", param: "max_tokens") }
            r.maxTokens = min(m, maxTokensLimit ?? m)
        } else {
            r.maxTokens = maxTokensLimit
        }
        guard stop.count <= 16, stop.allSatisfy({ !$0.isEmpty }) else {
            throw APIError.invalidRequest("stop takes up to 16 non-empty strings.", param: "stop")
        }
        r.stop = stop
        if let l = logprobs, !(0...20).contains(l) { throw APIError.invalidRequest("top_logprobs must be 0...20.", param: "top_logprobs") }
        r.logprobs = logprobs
        return r
    }
}

/// Server-Sent Events as the OpenAI API writes them: `data: <json>` events, `data: [DONE]` last.
enum EventStream {
    static let done = ByteBuffer(string: "data: [DONE]\n\n")

    /// One `data:` event holding `value` as JSON.
    static func event(_ value: some Encodable, encoder: JSONEncoder) throws -> ByteBuffer {
        var buffer = ByteBuffer(string: "data: ")
        buffer.writeBytes(try encoder.encode(value))
        buffer.writeString("\n\n")
        return buffer
    }

    /// A streaming response (no caching or proxy buffering), with the label header when given.
    static func response(_ body: ResponseBody, label: AIGCLabel? = nil) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
        if let label { headers[HTTPField.Name("AIGC-Label")!] = label.json }
        return Response(status: .ok, headers: headers, body: body)
    }
}

/// Embeddings: the mean of the final (normalised) hidden states over the input's tokens, scaled to unit length.
enum Embeddings {
    static func pooled(_ loaded: LoadedModel, tokens: [Int]) throws -> [Float] {
        let model = loaded.model
        let states = try model.hiddenStates(.prompt(tokens, allLogits: true), cache: model.makeCache(sequences: 1, contextLength: nil))
        var mean = [Float](repeating: 0, count: states.columns)
        for r in 0..<states.rows { for (i, v) in states.row(r).enumerated() { mean[i] += v } }
        let norm = max(1e-12, mean.reduce(0) { $0 + $1 * $1 }.squareRoot())
        return mean.map { $0 / norm }
    }
}
