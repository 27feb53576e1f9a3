import Foundation
import HTTPTypes
import Hummingbird

#if canImport(Glibc)
import Glibc
#endif

extension Request {
    /// The one rule for "this call changes something": every method but GET, HEAD and OPTIONS.
    /// The token check, the body check and the read cache all use it.
    var isWrite: Bool { ![.get, .head, .options].contains(method) }
}

/// Requires `Authorization: Bearer TOKEN` on the routes it is added to: for every write, and for
/// reads too when `protectReads`. It is added to route groups, so it runs for exactly the routes
/// that matched, whatever spelling of the path reached them (`//api`, `/./api`, ...); it never
/// looks at the path itself. The comparison takes the same time whatever the input.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String?
    let protectReads: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.isWrite || protectReads else { return try await next(request, context) }
        guard let token else {
            throw APIError(.unauthorized, "unauthorized", "this server has no API token: set CUTOVER_TOKEN and restart to allow changes")
        }
        guard let given = request.headers[.authorization].flatMap(Self.bearerToken), Self.constantTimeEquals(Array(given.utf8), Array(token.utf8))
        else {
            throw APIError(.unauthorized, "unauthorized", "send the API token as 'Authorization: Bearer TOKEN'")
        }
        return try await next(request, context)
    }

    /// The credentials of a `Bearer` authorization; the scheme is case-insensitive (RFC 9110 §11.1).
    static func bearerToken(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }

    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }
}

/// Writes with a body must send JSON: a `text/plain` or form body is what a cross-site HTML form
/// can send without a CORS preflight, so it is refused with 415 before any handler reads it.
struct JSONBodyMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.isWrite else { return try await next(request, context) }
        if let type = request.headers[.contentType] {
            let media = type.split(separator: ";", maxSplits: 1)[0].trimmingCharacters(in: .whitespaces).lowercased()
            guard media == "application/json" else {
                throw APIError(.unsupportedMediaType, "unsupported_media_type", "send the request body as application/json (got '\(media)')")
            }
        } else if hasBody(request) {
            throw APIError(.unsupportedMediaType, "unsupported_media_type", "send the request body as application/json (Content-Type is missing)")
        }
        return try await next(request, context)
    }

    private func hasBody(_ request: Request) -> Bool {
        if request.headers[.transferEncoding] != nil { return true }
        return request.headers[.contentLength].flatMap(Int.init).map { $0 > 0 } ?? false
    }
}

/// Which `Host` headers the server answers: its bound address, loopback names, and hosts the
/// operator allowed (`--allowed-host`). Anything else is a DNS-rebinding attempt (a hostile page
/// whose name now resolves to 127.0.0.1) or a misrouted request, answered 421.
package struct HostAllowList: Sendable {
    let names: Set<String>

    package init(boundHost: String, allowed: [String]) {
        names = Set(([boundHost] + allowed).map { Self.normalized($0) })
    }

    package func allows(_ authority: String?) -> Bool {
        // HTTP/1.0 clients may send no Host; a browser always sends one.
        guard let authority else { return true }
        let host = Self.host(ofAuthority: authority)
        return Loopback.contains(host) || names.contains(host)
    }

    /// The host part of `host[:port]` or `[v6]:port`, lowercased, without brackets.
    static func host(ofAuthority authority: String) -> String {
        var text = Substring(authority.lowercased())
        if text.hasPrefix("["), let end = text.firstIndex(of: "]") {
            return String(text[text.index(after: text.startIndex)..<end])
        }
        if let colon = text.lastIndex(of: ":"), text.filter({ $0 == ":" }).count == 1 { text = text[..<colon] }
        return String(text)
    }

    static func normalized(_ name: String) -> String {
        var text = name.lowercased()
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        return text
    }
}

/// Loopback is decided on the parsed address (127.0.0.0/8, ::1, ::ffff:127.x), or the name `localhost`.
package enum Loopback {
    package static func contains(_ host: String) -> Bool {
        let name = HostAllowList.normalized(host)
        if name == "localhost" || name.hasSuffix(".localhost") { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, name, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, name, &v6) == 1 else { return false }
        let bytes = withUnsafeBytes(of: v6) { Array($0) }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
        let mapped = bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF
        return mapped && bytes[12] == 127
    }
}

struct HostAllowListMiddleware<Context: RequestContext>: RouterMiddleware {
    let allowList: HostAllowList

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard allowList.allows(request.head.authority) else {
            throw APIError(
                .misdirectedRequest,
                "misdirected",
                "this server does not answer for that Host; start it with --allowed-host NAME to allow a name"
            )
        }
        return try await next(request, context)
    }
}

/// The token comparison, for tests.
package enum AuthCheck {
    package static func equals(_ given: String, _ expected: String) -> Bool {
        AuthMiddleware<AppContext>.constantTimeEquals(Array(given.utf8), Array(expected.utf8))
    }

    package static func bearerToken(_ header: String) -> String? { AuthMiddleware<AppContext>.bearerToken(header) }
}
