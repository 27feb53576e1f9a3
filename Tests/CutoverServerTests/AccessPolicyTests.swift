import CutoverServer
import CutoverStore
import CutoverTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Authorisation is decided on the matched route: every spelling of every mutating route is
/// tried without a token and with a wrong one, and nothing changes.
@Suite struct AccessPolicyTests {
    static let writes: [(HTTPRequest.Method, String, String?)] = [
        (.post, "/api/sites", #"{"name":"evil","docroot":"/etc","publicURL":"http://127.0.0.1:1","backendURL":"http://127.0.0.1:1"}"#),
        (.put, "/api/sites/demo", #"{"backendURL":"http://attacker.example:80"}"#),
        (.delete, "/api/sites/demo", nil),
        (.post, "/api/sites/demo/flips", #"{"glob":"/*","to":"swift","reason":"x"}"#),
        (.post, "/api/sites/demo/jobs", #"{"kind":"crawl"}"#),
        (.post, "/api/sites/demo/exports", #"{"form":"vhost"}"#),
        (.post, "/api/sites/demo/canaries", #"{"name":"evil","glob":"/*"}"#),
        (.put, "/api/sites/demo/canaries/evil", #"{"weight":100}"#),
        (.post, "/api/sites/demo/fleet/publish", nil),
        (.post, "/api/sites/demo/webhooks", #"{"url":"https://attacker.example/"}"#),
        (.delete, "/api/sites/demo/webhooks/1", nil),
    ]

    /// The spellings a router, a proxy or a browser may treat as the same route.
    static func spellings(_ path: String) -> [String] {
        let rest = path.dropFirst("/api".count)
        return [
            path, "/" + path, "//" + path, "/api/" + rest, "/." + path, path + "/", path + "//", "/API" + rest, "/api%2F" + rest.dropFirst(),
            "/%61pi" + rest, path + "?x=1", "/x/.." + path, "/api/./" + rest.dropFirst(), path.replacingOccurrences(of: "sites", with: "Sites"),
        ]
    }

    @Test func noSpellingOfAWriteRouteSkipsTheToken() async throws {
        let fixture = try await ServerFixture()
        defer { fixture.cleanup() }
        let before = try await fixture.database.sites.named("demo")
        try await fixture.test { client in
            for (method, path, body) in Self.writes {
                for spelling in Self.spellings(path) {
                    for authorization in [nil, "Bearer wrong-token", "Bearer ", "s3cret-token", "Basic czNjcmV0LXRva2Vu", "Bearer s3cret-token2"] {
                        var headers: HTTPFields = [.contentType: "application/json"]
                        if let authorization { headers[.authorization] = authorization }
                        try await client.execute(uri: spelling, method: method, headers: headers, body: body.map(json)) { response throws in
                            let label = "\(method) \(spelling) with \(authorization ?? "no token")"
                            #expect([.unauthorized, .notFound].contains(response.status), "\(label): \(response.status)")
                            #expect(try errorCode(response) != nil, "\(label): JSON error body")
                            // The router ignores empty segments: these reach the route, so the token check must answer.
                            if spelling.hasPrefix("//") || spelling.hasPrefix("/api//") || spelling == path {
                                #expect(response.status == .unauthorized, "\(label)")
                            }
                        }
                    }
                }
            }
        }
        #expect(try await fixture.database.sites.named("demo") == before)
        #expect(try await fixture.database.sites.all().map(\.name) == ["demo"])
        #expect(await fixture.jobs.list().isEmpty)
        #expect(try storeCall { try fixture.database.exports.list(siteID: before.id) }.isEmpty)
        #expect(try await fixture.database.plan.canaries(siteID: before.id).isEmpty)
        #expect(try await fixture.database.notify.list(siteID: before.id).isEmpty)
    }

    @Test func theRightTokenInAnyCaseOfTheSchemeIsAccepted() async throws {
        let fixture = try await ServerFixture()
        defer { fixture.cleanup() }
        try await fixture.test { client in
            for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
                let headers: HTTPFields = [.contentType: "application/json", .authorization: "\(scheme) s3cret-token"]
                try await client.execute(uri: "/api/sites/demo/exports", method: .post, headers: headers, body: json(#"{"form":"vhost"}"#)) {
                    response throws in
                    #expect(response.status == .created, "\(scheme)")
                }
            }
            // The doubled slash reaches the same route, and with the token it works as the plain path does.
            try await client.execute(uri: "//api/sites/demo/exports", method: .post, headers: authorized, body: json(#"{"form":"vhost"}"#)) {
                response throws in
                #expect(response.status == .created)
            }
        }
        #expect(AuthCheck.bearerToken("Bearer  abc ") == "abc")
        #expect(AuthCheck.bearerToken("Basic abc") == nil)
        #expect(AuthCheck.bearerToken("Bearerabc") == nil)
    }

    @Test func bodiesMustBeJSON() async throws {
        let fixture = try await ServerFixture()
        defer { fixture.cleanup() }
        try await fixture.test { client in
            let token: HTTPFields = [.authorization: "Bearer s3cret-token"]
            for type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", "text/json"] {
                var headers = token
                headers[.contentType] = type
                try await client.execute(uri: "/api/sites/demo/jobs", method: .post, headers: headers, body: json(#"{"kind":"crawl"}"#)) {
                    response throws in
                    #expect(response.status == .unsupportedMediaType, "\(type)")
                    #expect(try errorCode(response) == "unsupported_media_type")
                }
            }
            try await client.execute(uri: "/api/sites/demo/jobs", method: .post, headers: token, body: json(#"{"kind":"crawl"}"#)) {
                response throws in
                #expect(response.status == .unsupportedMediaType, "a body without Content-Type")
            }
            var headers = token
            headers[.contentType] = "Application/JSON; charset=utf-8"
            try await client.execute(uri: "/api/sites/demo/jobs", method: .post, headers: headers, body: json(#"{"kind":"crawl"}"#)) {
                response throws in
                #expect(response.status == .accepted)
            }
        }
        #expect(await fixture.jobs.list().count == 1)
        _ = await fixture.jobs.wait(for: 1)
    }

    /// With --protect-reads, and on any non-loopback address, reads, job events and /metrics need the token.
    @Test(arguments: [("127.0.0.1", true), ("0.0.0.0", false), ("192.0.2.10", false)])
    func readsNeedTheTokenWhenProtected(hostname: String, protectReads: Bool) async throws {
        var fixture = try await ServerFixture(protectReads: protectReads)
        defer { fixture.cleanup() }
        fixture.arguments.hostname = hostname
        try await fixture.test { client in
            for path in [
                "/api/sites", "/api/sites/demo/stats", "/api/sites/demo/htaccess", "/api/jobs", "/api/jobs/1/events", "/metrics", "//metrics",
                "//api/sites", "/api/sites/", "/api/sites/demo/traffic", "/api/sites/demo/traffic/summary", "/api/sites/demo/traffic/daily",
                "/api/sites/demo/log-files", "//api/sites/demo/traffic", "/api/site-defaults", "//api/site-defaults", "/api/site-defaults/",
                "/api/sites/demo/exposures", "//api/sites/demo/exposures", "/api/sites/demo/exposures/",
                "/api/sites/demo/parity/runs", "//api/sites/demo/parity/runs", "/api/sites/demo/parity/runs/", "/api/sites/demo/parity/runs/1",
                "/api/sites//demo/parity/runs",
            ] {
                try await client.execute(uri: path, method: .get) { response throws in
                    #expect([.unauthorized, .notFound].contains(response.status), "\(path)")
                }
            }
            for path in ["/api/sites", "/metrics", "//api/sites", "/api/site-defaults", "/api/sites/demo/exposures", "/api/sites/demo/parity/runs"] {
                try await client.execute(uri: path, method: .get, headers: [.authorization: "Bearer s3cret-token"]) { response throws in
                    #expect(response.status == .ok, "\(path)")
                }
            }
            try await client.execute(uri: "/api/health", method: .get) { response throws in #expect(response.status == .ok) }
        }
    }

    @Test func loopbackIsDecidedOnTheParsedAddress() {
        for host in ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST", "app.localhost", "::ffff:127.0.0.1", "0:0:0:0:0:0:0:1"] {
            #expect(Loopback.contains(host), "\(host)")
        }
        for host in ["127.evil.example", "1270.0.0.1", "128.0.0.1", "0.0.0.0", "::", "::2", "example.com", "localhost.example.com", "10.0.0.1"] {
            #expect(!Loopback.contains(host), "\(host)")
        }
    }

    @Test func hostAllowList() {
        let list = HostAllowList(boundHost: "0.0.0.0", allowed: ["Cutover.Internal", "[2001:db8::1]"])
        for authority in [
            "127.0.0.1:8080", "localhost:8080", "[::1]:8080", "cutover.internal", "CUTOVER.internal:443", "[2001:db8::1]:80", "0.0.0.0:8080",
        ] {
            #expect(list.allows(authority), "\(authority)")
        }
        for authority in ["evil.example", "evil.example:8080", "127.0.0.1.evil.example", "cutover.internal.evil.example", "[2001:db8::2]:80", ""] {
            #expect(!list.allows(authority), "\(authority)")
        }
    }
}
