import CutoverAPI
import CutoverCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// An error the API reports as `{"error": {"code": ..., "message": ...}}` with a status.
package struct APIError: Error, HTTPResponseError, Sendable {
    package var status: HTTPResponse.Status
    package var code: String
    package var message: String

    package init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        // Sorted keys, slashes escaped: the bytes this API has always sent for an error.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let body = try encoder.encode(ErrorView(error: .init(code: code, message: message)))
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(data: body)))
    }

    /// Where errors become HTTP statuses: the library's by the kind they report (ReportedError),
    /// Hummingbird's and decoding's by their own.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError: return error
        case let error as HTTPError:
            let code: String
            switch error.status {
            case .badRequest: code = "bad_request"
            case .notFound: code = "not_found"
            case .contentTooLarge: code = "body_too_large"
            case .unsupportedMediaType: code = "unsupported_media_type"
            case .methodNotAllowed: code = "method_not_allowed"
            default: code = "http_\(error.status.code)"
            }
            return APIError(error.status, code, error.body ?? error.status.reasonPhrase)
        case is NIOTooManyBytesError: return APIError(.contentTooLarge, "body_too_large", "the request body is larger than 1 MiB")
        case is DecodingError: return APIError(.badRequest, "bad_request", "the request body is not the JSON this endpoint expects")
        case let error as any ReportedError:
            switch error.kind {
            case .notFound: return APIError(.notFound, "not_found", error.description)
            case .conflict: return APIError(.conflict, "conflict", error.description)
            case .invalid: return APIError(.unprocessableContent, "invalid", error.description)
            case .failed: return APIError(.internalServerError, "internal", "storage failed")
            }
        default: return APIError(.internalServerError, "internal", "internal error")
        }
    }
}

/// Turns every error into the JSON error shape; nothing else (stack traces, types) leaks.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let mapped = APIError.from(error)
            if mapped.status == .internalServerError {
                logger.error("request failed", metadata: ["path": .string(request.uri.path), "error": .string("\(error)")])
            }
            return try mapped.response(from: request, context: context)
        }
    }
}
