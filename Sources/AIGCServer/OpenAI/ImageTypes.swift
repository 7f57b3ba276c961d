// The bodies of POST /v1/images/generations: OpenAI's fields (model, prompt, n, size,
// response_format) plus the knobs a local diffusion user expects (seed, steps, scheduler,
// negative_prompt, guidance_scale) and `label` for the visible "AI-generated" mark.
import AIGCFormats

struct ImageGenerationRequest: Codable, Sendable {
    var model: String?
    var prompt: String?
    var n: Int?
    var size: String?
    var responseFormat: String?
    var seed: UInt64?
    var steps: Int?
    var scheduler: String?
    var negativePrompt: String?
    var guidanceScale: Float?
    var label: Bool?
    var stream: Bool?
    var user: String?
    /// Have a served text model rewrite the prompt first; the rewrite comes back as `revised_prompt`.
    var enhancePrompt: Bool?

    enum CodingKeys: String, CodingKey {
        case model, prompt, n, size, responseFormat = "response_format", seed, steps, scheduler, negativePrompt = "negative_prompt"
        case guidanceScale = "guidance_scale", label, stream, user, enhancePrompt = "enhance_prompt"
    }
}

struct ImageData: Codable, Sendable {
    var b64JSON: String?
    var url: String?
    var revisedPrompt: String?
    /// The image's implicit label (also in the PNG's chunks).
    var aigc: AIGCLabel
    enum CodingKeys: String, CodingKey { case b64JSON = "b64_json", url, revisedPrompt = "revised_prompt", aigc }
}

struct ImageGenerationResponse: Codable, Sendable {
    var created: Int
    var data: [ImageData]
    var model: String
    var seed: UInt64
    var steps: Int
    /// Seconds of generation (not queueing or encoding).
    var seconds: Double
}

/// A streamed step: {"type": "image_generation.progress", "step": k, "total_steps": n}.
struct ImageProgressEvent: Codable, Sendable {
    var type = "image_generation.progress"
    var step: Int
    var totalSteps: Int
    enum CodingKeys: String, CodingKey { case type, step, totalSteps = "total_steps" }
}

/// The streamed result: the response object with "type": "image_generation.completed".
struct ImageCompletedEvent: Encodable, Sendable {
    var type = "image_generation.completed"
    var response: ImageGenerationResponse
    func encode(to encoder: any Encoder) throws {
        try response.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
    }
    enum CodingKeys: String, CodingKey { case type }
}
