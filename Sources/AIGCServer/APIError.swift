// APIError: every failure the API reports, with OpenAI's error type and code and the HTTP status it
// maps to; ErrorMiddleware turns these (and library errors) into OpenAI error bodies in one place.
import AIGCGeneration
import AIGCImaging
import AIGCModels
import AIGCStore
import HTTPTypes

public struct APIError: Error, Sendable, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let type: String
    public let code: String?
    public let param: String?
    public let message: String
    public var retryAfterSeconds: Int?

    public var description: String { "\(status.code) \(type): \(message)" }

    public static func invalidRequest(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: .badRequest, type: "invalid_request_error", code: code, param: param, message: message)
    }
    public static func modelNotFound(_ name: String, available: [String]) -> APIError {
        APIError(status: .notFound, type: "invalid_request_error", code: "model_not_found", param: "model",
                 message: "The model '\(name)' does not exist. Available: \(available.joined(separator: ", ")).")
    }
    public static func notFound(_ message: String) -> APIError {
        APIError(status: .notFound, type: "invalid_request_error", code: "not_found", param: nil, message: message)
    }
    public static func unauthenticated(_ message: String) -> APIError {
        APIError(status: .unauthorized, type: "invalid_request_error", code: "invalid_api_key", param: nil, message: message)
    }
    public static func rateLimited(_ message: String, retryAfter: Int) -> APIError {
        APIError(status: .tooManyRequests, type: "requests", code: "rate_limit_exceeded", param: nil, message: message, retryAfterSeconds: retryAfter)
    }
    public static func quotaExceeded(_ message: String) -> APIError {
        APIError(status: .tooManyRequests, type: "insufficient_quota", code: "insufficient_quota", param: nil, message: message)
    }
    public static func server(_ message: String) -> APIError {
        APIError(status: .internalServerError, type: "server_error", code: nil, param: nil, message: message)
    }

    /// The API field of an image option named as the command line spells it.
    static func imageParameter(_ option: String) -> String {
        ["PROMPT": "prompt", "--negative": "negative_prompt", "--cfg": "guidance_scale", "--scheduler": "scheduler", "--steps": "steps",
         "-n": "n", "--width": "size", "--height": "size", "--init": "image", "--strength": "strength"][option] ?? option
    }

    /// The API's view of an error thrown by the engine or a handler.
    public static func from(_ error: Error) -> APIError {
        switch error {
        case let e as APIError:
            return e
        case let ImagingError.unsupportedOption(option, _, _), let ImagingError.invalidRequest(option, _, _):
            return .invalidRequest(String(describing: error), param: imageParameter(option))
        case let GenerationError.promptTooLong(tokens, context):
            return .invalidRequest("This model's maximum context length is \(context) tokens, but the prompt has \(tokens) tokens (with room for at least one new token). The prompt is never truncated; shorten it.",
                                   param: "messages", code: "context_length_exceeded")
        case let GenerationError.invalidParameter(message):
            return .invalidRequest(message)
        case GenerationError.emptyPrompt:
            return .invalidRequest("The prompt is empty.", param: "prompt")
        case let BatchEngine.EngineError.queueFull(seconds):
            return .rateLimited("The server is busy: every slot and the queue are full. Retry after \(seconds) s.", retryAfter: seconds)
        case BatchEngine.EngineError.shuttingDown:
            return APIError(status: .serviceUnavailable, type: "server_error", code: "shutting_down", param: nil, message: "The server is shutting down.")
        case let BatchEngine.EngineError.timedOut(seconds):
            return APIError(status: .requestTimeout, type: "server_error", code: "timeout", param: nil,
                            message: "The request ran longer than the server's \(Int(seconds)) s limit.")
        case let e as ModelError:
            return .invalidRequest(e.description)
        case let StoreError.notFound(what, identifier):
            return .notFound("No \(what) with id '\(identifier)'.")
        case let StoreError.invalidInput(field, reason):
            return .invalidRequest("\(field): \(reason)", param: field)
        case let e as StoreError:
            return APIError(status: .serviceUnavailable, type: "server_error", code: "store_unavailable", param: nil, message: "The database failed: \(e)")
        case let e as DecodingError:
            return .invalidRequest("The request body is not valid for this endpoint: \(Self.describe(e))")
        default:
            return .server("Internal error: \(error)")
        }
    }

    static func describe(_ e: DecodingError) -> String {
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? "" : " at '\(p)'"
        }
        switch e {
        case let .keyNotFound(key, c): return "missing field '\(key.stringValue)'\(path(c))"
        case let .typeMismatch(_, c), let .valueNotFound(_, c): return "wrong type\(path(c)): \(c.debugDescription)"
        case let .dataCorrupted(c): return "malformed JSON\(path(c)): \(c.debugDescription)"
        @unknown default: return "\(e)"
        }
    }
}
