import HTTPTypes
import Hummingbird

/// Guards the dashboard's file serving: a path whose decoded form holds a control character
/// (`/js/app.js%00.html`) is refused with 400 before the file middleware sees it. The file
/// system stops at the NUL (`app.js`) while the MIME type was picked from what follows it
/// (`text/html`): a script served as a page. API routes match on decoded parameters and
/// answer for themselves.
struct DashboardPathMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if !path.hasPrefix("/api/"), Self.hasControlCharacter(path) {
            throw APIError(.badRequest, "bad_request", "the path holds a control character")
        }
        return try await next(request, context)
    }

    /// True when `%XX` in `path` decodes to a byte below 0x20 or 0x7F, or such a byte is there raw.
    static func hasControlCharacter(_ path: String) -> Bool {
        var bytes = Array(path.utf8)[...]
        while let byte = bytes.popFirst() {
            if byte < 0x20 || byte == 0x7F { return true }
            guard byte == UInt8(ascii: "%"), bytes.count >= 2 else { continue }
            let high = bytes[bytes.startIndex]
            let low = bytes[bytes.startIndex + 1]
            guard let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else { continue }
            if value < 0x20 || value == 0x7F { return true }
        }
        return false
    }
}
