import Foundation
import HTTPTypes
import Hummingbird

/// Requires `Authorization: Bearer TOKEN` for every mutating call (and for reads when
/// `protectReads`). The comparison takes the same time whatever the input.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String?
    let protectReads: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let mutating = ![.get, .head, .options].contains(request.method)
        let isAPI = request.uri.path.hasPrefix("/api/") && request.uri.path != "/api/health"
        guard isAPI, mutating || protectReads else { return try await next(request, context) }
        guard let token else {
            throw APIError(.unauthorized, "unauthorized", "this server has no API token: set CUTOVER_TOKEN and restart to allow changes")
        }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            Self.constantTimeEquals(Array(header.dropFirst("Bearer ".count).utf8), Array(token.utf8))
        else {
            throw APIError(.unauthorized, "unauthorized", "send the API token as 'Authorization: Bearer TOKEN'")
        }
        return try await next(request, context)
    }

    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }
}

/// The token comparison, for tests.
public enum AuthCheck {
    public static func equals(_ given: String, _ expected: String) -> Bool {
        AuthMiddleware<AppContext>.constantTimeEquals(Array(given.utf8), Array(expected.utf8))
    }
}
