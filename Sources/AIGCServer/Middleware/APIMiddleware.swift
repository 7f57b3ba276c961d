// The middleware of the API routes: authentication, errors as OpenAI error bodies (in one place, as
// llama.cpp's server does in ex_wrapper), and request metrics.
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

struct APIMiddleware: RouterMiddleware {
    typealias Context = AIGCRequestContext
    let server: ServerContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = Date()
        let path = request.uri.path
        let endpoint = path.hasPrefix("/v1/conversations") ? "/v1/conversations" : (path.hasPrefix("/v1/models") ? "/v1/models" : path)
        var context = context
        let response: Response
        do {
            if path.hasPrefix("/v1/") || path.hasPrefix("/api/") {
                let credential = request.headers[.authorization] ?? request.headers[HTTPField.Name("x-api-key")!]
                context.caller = try await server.accounts.authenticate(credential)
            }
            response = try await next(request, context)
        } catch {
            response = errorResponse(Self.apiError(error))
        }
        server.metrics.request(endpoint: endpoint, status: Int(response.status.code), seconds: Date().timeIntervalSince(started))
        return response
    }

    /// Hummingbird reports bad bodies and unknown routes as HTTPError; everything else goes through APIError.from.
    static func apiError(_ error: Error) -> APIError {
        if let http = error as? HTTPError {
            switch http.status {
            case .badRequest: return .invalidRequest("Malformed request: \(http.body ?? "the body is not valid JSON for this endpoint").")
            case .notFound: return .notFound(http.body ?? "No such route.")
            case .contentTooLarge: return .invalidRequest("The request body is too large.")
            default: return APIError(status: http.status, type: "invalid_request_error", code: nil, param: nil, message: http.body ?? "\(http.status)")
            }
        }
        return APIError.from(error)
    }

    func errorResponse(_ e: APIError) -> Response {
        let body = ErrorBody(error: .init(message: e.message, type: e.type, param: e.param, code: e.code))
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if let r = e.retryAfterSeconds { headers[.retryAfter] = String(r) }
        let data = (try? JSONEncoder().encode(body)) ?? Data("{}".utf8)
        return Response(status: e.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
