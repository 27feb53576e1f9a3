import CutoverCore
import CutoverServer
import CutoverStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct RouteTests {
    @Test func healthAndDashboardButNeverTheDocroot() async throws {
        let fixture = try await ServerFixture()
        defer { fixture.cleanup() }
        try fixture.folder.write("public/js/app.js", "export {};")
        try await fixture.test { client in
            try await client.execute(uri: "/api/health", method: .get) { response throws in #expect(response.status == .ok) }
            try await client.execute(uri: "/", method: .get) { response throws in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("dashboard"))
                // Only the dashboard's own scripts and styles may run, whatever data ends up in the page.
                let policy = response.headers[.contentSecurityPolicy] ?? ""
                #expect(policy.contains("default-src 'none'") && policy.contains("script-src 'self';"))
                #expect(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"))
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
            }
            try await client.execute(uri: "/js/app.js", method: .get) { response throws in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.contains("javascript") == true)
            }
            // Errors carry the headers too.
            try await client.execute(uri: "/api/sites/nope", method: .get) { response throws in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentSecurityPolicy] != nil)
            }
            for path in ["/index.php", "/page-1.php", "/css/site.css", "/../htdocs/index.php", "/%2e%2e/htdocs/index.php"] {
                try await client.execute(uri: path, method: .get) { response throws in
                    #expect([.notFound, .badRequest].contains(response.status), "\(path)")
                    #expect(!String(buffer: response.body).contains("<?php"))
                }
            }
        }
    }

    @Test func sitesCRUDWithErrors() async throws {
        let fixture = try await ServerFixture()
        defer { fixture.cleanup() }
        let docroot = fixture.folder.appending("htdocs")
        try await fixture.test { client in
            let body = json(#"{"name":"shop","docroot":"\#(docroot)","publicURL":"http://127.0.0.1:8081","backendURL":"http://127.0.0.1:8080"}"#)
            try await client.execute(uri: "/api/sites", method: .post, headers: anonymous, body: body) { response throws in
                #expect(response.status == .unauthorized)
                #expect(try errorCode(response) == "unauthorized")
            }
            try await client.execute(uri: "/api/sites", method: .post, headers: authorized, body: body) { response throws in
                #expect(response.status == .created)
                #expect(try decode(response)["publicURL"] as? String == "http://127.0.0.1:8081")
            }
            try await client.execute(uri: "/api/sites", method: .post, headers: authorized, body: body) { response throws in
                #expect(response.status == .conflict)
            }
            try await client.execute(uri: "/api/sites", method: .post, headers: authorized, body: json("{not json")) { response throws in
                #expect(response.status == .badRequest)
                #expect(try errorCode(response) == "bad_request")
            }
            try await client.execute(
                uri: "/api/sites",
                method: .post,
                headers: authorized,
                body: json(#"{"name":"bad name","docroot":"x","publicURL":"ftp://x","backendURL":"http://b"}"#)
            ) { response throws in
                #expect(response.status == .unprocessableContent)
                #expect(String(buffer: response.body).contains("must start with http"))
            }
            try await client.execute(uri: "/api/sites", method: .post, headers: authorized, body: json(#"{"docroot":"/x"}"#)) { response throws in
                #expect(response.status == .unprocessableContent)
            }
            try await client.execute(uri: "/api/sites", method: .get) { response throws in
                #expect(response.status == .ok)
                let names = (try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [[String: Any]])?.compactMap {
                    $0["name"] as? String
                }
                #expect(names == ["demo", "shop"])
            }
            try await client.execute(
                uri: "/api/sites/shop",
                method: .put,
                headers: authorized,
                body: json(#"{"backendURL":"http://127.0.0.1:9000"}"#)
            ) { response throws in
                #expect(try decode(response)["backendURL"] as? String == "http://127.0.0.1:9000")
            }
            try await client.execute(uri: "/api/sites/shop", method: .put, headers: authorized, body: json(#"{"probeRetention":0}"#)) {
                response throws in
                #expect(response.status == .unprocessableContent)
            }
            // directoriesToSwift: true, false or "auto" (back to the default); anything else is refused.
            try await client.execute(uri: "/api/sites/shop", method: .put, headers: authorized, body: json(#"{"directoriesToSwift":false}"#)) {
                response throws in
                let site = try decode(response)
                #expect(site["directoriesToSwift"] as? Bool == false && site["sendsDirectoriesToSwift"] as? Bool == false)
            }
            try await client.execute(uri: "/api/sites/shop", method: .put, headers: authorized, body: json(#"{"directoriesToSwift":"auto"}"#)) {
                response throws in
                let site = try decode(response)
                #expect(site["directoriesToSwift"] == nil && site["sendsDirectoriesToSwift"] as? Bool == true, "\(site)")
            }
            try await client.execute(uri: "/api/sites/shop", method: .put, headers: authorized, body: json(#"{"directoriesToSwift":"maybe"}"#)) {
                response throws in
                #expect(response.status == .badRequest)
            }
            try await client.execute(
                uri: "/api/sites/shop",
                method: .put,
                headers: authorized,
                body: json(#"{"aliases":[{"urlPath":"/media/","directory":"/srv/media"},{"urlPath":"relative","directory":"/x"}]}"#)
            ) { response throws in
                #expect(response.status == .unprocessableContent)
            }
            // An alias is judged like the docroot, by where it leads: a kernel file system is refused.
            try await client.execute(
                uri: "/api/sites/shop",
                method: .put,
                headers: authorized,
                body: json(#"{"aliases":[{"urlPath":"/p","directory":"/proc/self"}]}"#)
            ) { response throws in
                #expect(response.status == .unprocessableContent)
                #expect(String(buffer: response.body).contains("kernel file system"), "\(String(buffer: response.body))")
            }
            try await client.execute(
                uri: "/api/sites/shop",
                method: .put,
                headers: authorized,
                body: json(#"{"aliases":[{"urlPath":"/media/","directory":"/srv/media/"}]}"#)
            ) { response throws in
                let aliases = try decode(response)["aliases"] as? [[String: String]]
                #expect(aliases == [["urlPath": "/media", "directory": "/srv/media"]], "\(aliases ?? [])")
            }
            try await client.execute(uri: "/api/sites/nope", method: .get) { response throws in
                #expect(response.status == .notFound)
                #expect(try errorCode(response) == "not_found")
            }
            try await client.execute(uri: "/api/sites/shop", method: .delete, headers: authorized) { response throws in
                #expect(response.status == .noContent)
            }
            try await client.execute(uri: "/api/sites/shop", method: .delete, headers: authorized) { response throws in
                #expect(response.status == .notFound)
            }
        }
    }

    /// The defaults the dashboard's form starts from are the ones a site created without them gets.
    @Test func siteDefaultsAreWhatANewSiteGets() async throws {
        let fixture = try await ServerFixture()
        defer { fixture.cleanup() }
        try await fixture.test { client in
            let defaults = try await client.execute(uri: "/api/site-defaults", method: .get) { response throws in
                #expect(response.status == .ok)
                return try decode(response)
            }
            #expect(defaults["probeRetention"] as? Int == SiteSettings.defaultProbeRetention)
            #expect(defaults["accessLogFormat"] as? String == SiteSettings.defaultAccessLogFormat)
            #expect(defaults["crawlEvery"] as? String == "off")
            let body =
                #"{"name":"fresh","docroot":"\#(fixture.folder.appending("htdocs"))","publicURL":"http://127.0.0.1:9","backendURL":"http://127.0.0.1:9"}"#
            let created = try await client.execute(uri: "/api/sites", method: .post, headers: authorized, body: json(body)) { response throws in
                #expect(response.status == .created)
                return try decode(response)
            }
            for key in ["directoryIndex", "phpExtensions", "ownerHeader", "probeRetention", "accessLogFormat", "sensitiveQueryKeys", "probeSkip"] {
                #expect(
                    (created[key] as? NSObject) == (defaults[key] as? NSObject),
                    "\(key): \(String(describing: created[key])) vs \(String(describing: defaults[key]))"
                )
            }
        }
    }

    @Test func oversizedBodyIs413() async throws {
        let fixture = try await ServerFixture()
        defer { fixture.cleanup() }
        try await fixture.test { client in
            let huge = json(#"{"name":""# + String(repeating: "a", count: 2 << 20) + #""}"#)
            try await client.execute(uri: "/api/sites", method: .post, headers: authorized, body: huge) { response throws in
                #expect(response.status == .contentTooLarge)
                #expect(try errorCode(response) == "body_too_large")
            }
        }
    }

    @Test func authMatrix() async throws {
        for (protectReads, token) in [(false, "s3cret-token"), (true, "s3cret-token"), (false, nil)] as [(Bool, String?)] {
            let fixture = try await ServerFixture(protectReads: protectReads, token: token)
            defer { fixture.cleanup() }
            try await fixture.test { client in
                let readStatus: HTTPResponse.Status = protectReads ? .unauthorized : .ok
                try await client.execute(uri: "/api/sites", method: .get) { response throws in #expect(response.status == readStatus) }
                try await client.execute(uri: "/api/sites", method: .get, headers: [.authorization: "Bearer s3cret-token"]) { response throws in
                    #expect(response.status == .ok)
                }
                try await client.execute(uri: "/api/health", method: .get) { response throws in #expect(response.status == .ok) }
                for headers: HTTPFields in [
                    anonymous, [.authorization: "Bearer wrong", .contentType: "application/json"],
                    [.authorization: "s3cret-token", .contentType: "application/json"],
                ] {
                    try await client.execute(uri: "/api/sites/demo/jobs", method: .post, headers: headers, body: json(#"{"kind":"crawl"}"#)) {
                        response throws in
                        #expect(response.status == .unauthorized)
                        #expect(response.headers[.wwwAuthenticate] == "Bearer")
                    }
                }
                let expected: HTTPResponse.Status = token == nil ? .unauthorized : .accepted
                try await client.execute(uri: "/api/sites/demo/jobs", method: .post, headers: authorized, body: json(#"{"kind":"crawl"}"#)) {
                    response throws in
                    #expect(response.status == expected)
                }
            }
            _ = await fixture.jobs.wait(for: 1)
        }
    }

    @Test func refusesNonLoopbackWithoutToken() async throws {
        let fixture = try await ServerFixture(token: nil)
        defer { fixture.cleanup() }
        var arguments = fixture.arguments
        arguments.hostname = "0.0.0.0"
        #expect(throws: ServerSetupError.tokenRequired(host: "0.0.0.0")) {
            _ = try buildApplication(arguments, database: fixture.database, logger: fixture.logger)
        }
    }

    @Test func constantTimeComparison() {
        #expect(AuthCheck.equals("abc", "abc"))
        #expect(!AuthCheck.equals("abc", "abd"))
        #expect(!AuthCheck.equals("abc", "abcd"))
        #expect(!AuthCheck.equals("", "a"))
    }
}

@Suite struct MetricsTests {
    @Test func prometheusTextHasJobsAndInventory() async throws {
        let fixture = try await ServerFixture()
        defer { fixture.cleanup() }
        try await fixture.crawl()
        try await fixture.test { client in
            try await client.execute(uri: "/metrics", method: .get) { response throws in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                let text = String(buffer: response.body)
                // Pages: `/` and `/index.php` are one.
                #expect(text.contains(#"cutover_urls_count{site="demo",owner="php"} 4"#), "\(text)")
                #expect(text.contains(#"cutover_urls_count{site="demo",owner="static"} 1"#))
                #expect(text.contains(#"cutover_drift_urls_count{site="demo"} 0"#))
                #expect(text.contains(#"cutover_jobs_total{kind="crawl",state="succeeded"} 1"#))
                #expect(text.contains(#"cutover_job_duration_seconds_count{kind="crawl"} 1"#))
            }
        }
    }
}

/// HEAD answers as GET does without the body, behind the same token check.
@Suite struct HeadRequestTests {
    @Test func headAnswersLikeGetWithoutTheBody() async throws {
        let fixture = try await ServerFixture(protectReads: true)
        defer { fixture.cleanup() }
        try await fixture.crawl()
        try await fixture.test { client in
            let token: HTTPFields = [.authorization: "Bearer s3cret-token"]
            let length = try await client.execute(uri: "/api/sites/demo/urls?limit=2", method: .get, headers: token) { response in
                #expect(response.status == .ok)
                return response.body.readableBytes
            }
            try await client.execute(uri: "/api/sites/demo/urls?limit=2", method: .head, headers: token) { response in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == 0)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                #expect(response.headers[.contentLength] == "\(length)")
            }
            try await client.execute(uri: "/api/sites/demo/urls?limit=2", method: .head) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/api/sites/nope/urls", method: .head, headers: token) { response in
                #expect(response.status == .notFound)
            }
        }
    }
}

@Suite struct OpenAPIDocumentTests {
    @Test func documentIsServedAndListsEveryRoute() async throws {
        let fixture = try await ServerFixture(protectReads: true)
        defer { fixture.cleanup() }
        try await fixture.test { client in
            try await client.execute(uri: "/api/openapi.json", method: .get, headers: [.authorization: "Bearer s3cret-token"]) { response throws in
                #expect(response.status == .ok)
                let document = try decode(response)
                #expect(document["openapi"] as? String == "3.1.0")
                let paths = Set((document["paths"] as? [String: Any])?.keys.map { $0 } ?? [])
                #expect(
                    paths == [
                        "/api/health", "/api/sites", "/api/site-defaults", "/api/sites/{site}", "/api/sites/{site}/stats", "/api/sites/{site}/urls",
                        "/api/sites/{site}/urls/{id}", "/api/sites/{site}/flips", "/api/sites/{site}/jobs", "/api/jobs", "/api/jobs/{id}",
                        "/api/jobs/{id}/events", "/api/sites/{site}/export", "/api/sites/{site}/export/diff", "/api/sites/{site}/export/preview",
                        "/api/sites/{site}/exports", "/api/sites/{site}/exposures",
                        "/api/sites/{site}/exports/{id}", "/api/sites/{site}/htaccess", "/api/sites/{site}/traffic",
                        "/api/sites/{site}/traffic/daily", "/api/sites/{site}/traffic/summary", "/api/sites/{site}/log-files",
                        "/api/sites/{site}/parity/runs", "/api/sites/{site}/parity/runs/{id}", "/api/sites/{site}/fleet",
                        "/api/sites/{site}/fleet/publish", "/api/sites/{site}/canaries", "/api/sites/{site}/canaries/{name}",
                        "/api/sites/{site}/webhooks", "/api/sites/{site}/webhooks/deliveries", "/api/sites/{site}/webhooks/{id}",
                    ]
                )
            }
        }
    }

    @Test func htaccessFindingsAfterACrawl() async throws {
        let fixture = try await ServerFixture()
        defer { fixture.cleanup() }
        try fixture.folder.write("htdocs/.htaccess", "RewriteEngine On\nRewriteRule ^x$ index.php [L]\nRewriteRule . /index.php [L]\n")
        try fixture.folder.write("htdocs/legacy/.htaccess", "RewriteEngine Off\n")
        try await fixture.crawl()
        try await fixture.test { client in
            try await client.execute(uri: "/api/sites/demo/htaccess", method: .get) { response throws in
                #expect(response.status == .ok)
                let files = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [[String: Any]] ?? []
                #expect(files.map { $0["directory"] as? String } == ["/", "/legacy/"])
                #expect(files.first?["hasOwnRewriteRules"] as? Bool == true)
                #expect(files.first?["ruleCount"] as? Int == 2)
                #expect(files.first?["frontController"] as? String == "/index.php")
                #expect(files.first?["frontController"] as? String == "/index.php")
                #expect(files.last?["blocksFallback"] as? String == "RewriteEngine Off")
            }
            try await client.execute(uri: "/api/sites/nope/htaccess", method: .get) { response throws in #expect(response.status == .notFound) }
        }
    }
}

/// The read cache is wired at construction: a job that ends clears it, so stats read before a
/// crawl never hide the crawl's result for the cache's lifetime.
@Suite struct CacheWiringTests {
    @Test func aFinishedJobClearsCachedStats() async throws {
        let fixture = try await ServerFixture()
        defer { fixture.cleanup() }
        try await fixture.test { client in
            try await client.execute(uri: "/api/sites/demo/stats", method: .get) { response throws in
                #expect((try decode(response)["counts"] as? [String: Any])?["php"] as? Int == 0)
            }
            try await fixture.crawl()
            try await client.execute(uri: "/api/sites/demo/stats", method: .get) { response throws in
                // Pages: `/` and `/index.php` are one.
                #expect((try decode(response)["counts"] as? [String: Any])?["php"] as? Int == 4)
            }
        }
    }
}
