import AsyncHTTPClient
import CutoverTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// Proves the harness later issues stand on: a real Apache + mod_php + mod_rewrite + mod_proxy on
/// loopback, with the fallback sending every URL without a file to the in-process Swift backend.
@Suite(.enabled(if: Integration.enabled, "needs apache2 and libapache2-mod-php (always runs when CI=true)"))
struct ApacheHarnessTests {
    static let fallback = """
            RewriteEngine On
            RewriteCond %{REQUEST_FILENAME} !-f
            RewriteCond %{REQUEST_FILENAME} !-d
            RewriteRule ^(.*)$ BACKEND/$1 [P,QSA,L,NS]
        """

    @Test func servesPHPStaticAndFallsBackToTheSwiftBackend() async throws {
        let docroot = try TemporaryDirectory(prefix: "docroot")
        defer { docroot.remove() }
        try docroot.write("index.php", "<?php echo 'php says ', 6 * 7;")
        try docroot.write("style.css", "body { color: red; }")
        let backend = RecordingBackend()
        try await backend.start()
        let apache = try ApacheServer(
            docroot: docroot.path,
            directoryConfig: Self.fallback.replacingOccurrences(of: "BACKEND", with: backend.baseURL)
        )
        #expect(try apache.configTest().status == 0)
        try apache.start()
        defer { apache.shutdown() }

        let php = try await get("\(apache.baseURL)/index.php")
        #expect(php.status == 200)
        #expect(php.body == "php says 42")  // executed by PHP, not served as source
        #expect(php.headers["Server"].first?.hasPrefix("Apache") == true)

        let root = try await get("\(apache.baseURL)/")
        #expect(root.body == "php says 42")

        let css = try await get("\(apache.baseURL)/style.css")
        #expect(css.status == 200)
        #expect(css.body == "body { color: red; }")
        #expect(css.headers["Content-Type"].first?.hasPrefix("text/css") == true)
        #expect(!css.headers["ETag"].isEmpty)

        let missing = try await get("\(apache.baseURL)/new/page?x=1&y=%20")
        #expect(missing.status == 200)
        #expect(missing.headers[RecordingBackend.markerHeader].first == "swift")
        #expect(backend.requestTargets == ["/new/page?x=1&y=%20"])

        await backend.stop()
        let down = try await get("\(apache.baseURL)/new/page")
        #expect(down.status == 503)  // mod_proxy answers 503 when the backend refuses
    }

    @Test func stopsByPID() async throws {
        let docroot = try TemporaryDirectory(prefix: "docroot")
        defer { docroot.remove() }
        try docroot.write("a.html", "a")
        let apache = try ApacheServer(docroot: docroot.path)
        try apache.start()
        #expect(FreePort.accepts(port: apache.port))
        apache.shutdown()
        #expect(!FreePort.accepts(port: apache.port))
    }
}

struct Fetched {
    var status: Int
    var headers: HTTPHeaders
    var body: String
}

func get(_ url: String) async throws -> Fetched {
    let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
    let body = try await response.body.collect(upTo: 1 << 20)
    return Fetched(status: Int(response.status.code), headers: response.headers, body: String(buffer: body))
}

/// GET without following redirects.
func getNoRedirect(_ url: String) async throws -> Fetched {
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
    defer { _ = client.shutdown() }
    let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
    let body = try await response.body.collect(upTo: 1 << 20)
    return Fetched(status: Int(response.status.code), headers: response.headers, body: String(buffer: body))
}
