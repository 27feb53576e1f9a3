import CutoverTestSupport
import Foundation
import Testing

/// The hostile catalogue of issue #11 against a real `cutover serve` process, over raw HTTP so
/// every path spelling and Host header goes out exactly as an attacker would send it.
@Suite(.enabled(if: Integration.enabled, "needs the built cutover binary (always runs when CI=true)"))
struct HostileServeTests {
    final class Server {
        let folder: TemporaryDirectory
        let process = Process()
        let port: Int
        let db: String

        init(extraArguments: [String] = []) throws {
            folder = try TemporaryDirectory(prefix: "hostile")
            for index in 0..<100 { try folder.write("htdocs/p\(index).php", "<?php echo \(index);") }
            db = folder.appending("cutover.sqlite")
            let crawl = try Subprocess.run(
                Subprocess.cutoverBinary,
                ["crawl", "--db", db, "--site", "s", "--docroot", folder.appending("htdocs"), "--backend-url", "http://127.0.0.1:8080"]
            )
            guard crawl.status == 0 else { throw HarnessError("crawl: \(crawl.stderr)") }
            port = try FreePort.find()
            process.executableURL = URL(fileURLWithPath: Subprocess.cutoverBinary)
            process.arguments = ["serve", "--db", db, "--port", String(port), "--public", folder.path] + extraArguments
            process.environment = ["CUTOVER_TOKEN": "hostile-token", "PATH": "/usr/bin:/bin"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            for _ in 0..<200 {
                if (try? RawHTTP.send(port: port, method: "GET", path: "/api/health").status) == 200 { return }
                usleep(25_000)
            }
            throw HarnessError("cutover serve did not start")
        }

        func send(
            _ method: String,
            _ path: String,
            token: String? = "hostile-token",
            host: String? = nil,
            type: String? = "application/json",
            body: String? = nil
        )
            throws -> RawHTTPResponse
        {
            var headers: [String: String] = [:]
            if let token { headers["Authorization"] = "Bearer \(token)" }
            if let type, body != nil { headers["Content-Type"] = type }
            return try RawHTTP.send(port: port, method: method, path: path, host: host, headers: headers, body: body)
        }

        func stop() {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
            folder.remove()
        }
    }

    @Test func hostileCatalogueHolds() async throws {
        let server = try Server(extraArguments: ["--protect-reads"])
        defer { server.stop() }
        var tried = 0
        func expectStatus(_ response: RawHTTPResponse, _ expected: Int, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
            tried += 1
            #expect(response.status == expected, "\(label): \(response.status) \(response.body)", sourceLocation: sourceLocation)
            #expect(response.errorCode != nil || expected < 400, "\(label): JSON error body", sourceLocation: sourceLocation)
        }
        let original = try server.send("GET", "/api/sites/s").json

        // 1. No spelling of a path skips the token, for writes and (under --protect-reads) reads.
        for prefix in ["/", "//", "///", "/./", "/api/../"] {
            let sites = prefix + "api/sites"
            for (method, path, body) in [
                ("POST", sites + "/s/jobs", #"{"kind":"crawl"}"#),
                ("POST", sites, #"{"name":"etc","docroot":"/etc","publicURL":"http://127.0.0.1:1","backendURL":"http://127.0.0.1:1"}"#),
                ("PUT", sites + "/s", #"{"backendURL":"http://attacker.example"}"#), ("DELETE", sites + "/s", nil),
                ("POST", sites + "/s/flips", #"{"glob":"*","to":"swift"}"#), ("GET", sites, nil), ("GET", sites + "/s/urls", nil),
                ("GET", prefix + "api/jobs/1/events", nil), ("GET", prefix + "metrics", nil),
            ] as [(String, String, String?)] {
                for token in [nil, "wrong"] as [String?] {
                    let response = try server.send(method, path, token: token, body: body)
                    tried += 1
                    #expect([400, 401, 404].contains(response.status), "\(method) \(path) token \(token ?? "none"): \(response.status)")
                }
            }
        }
        expectStatus(try server.send("GET", "//api/sites", token: nil), 401, "//api/sites under --protect-reads")
        expectStatus(try server.send("GET", "/metrics", token: nil), 401, "/metrics under --protect-reads")
        expectStatus(try server.send("GET", "/metrics"), 200, "/metrics with the token")

        // 3. Cross-site bodies, DNS rebinding.
        expectStatus(try server.send("POST", "/api/sites/s/jobs", type: "text/plain", body: #"{"kind":"crawl"}"#), 415, "text/plain body")
        expectStatus(try server.send("POST", "/api/sites/s/jobs", type: "application/x-www-form-urlencoded", body: "kind=crawl"), 415, "form body")
        expectStatus(try server.send("GET", "/api/sites", host: "attacker.example"), 421, "rebinding Host")
        expectStatus(try server.send("GET", "/api/sites", host: "attacker.example:\(server.port)"), 421, "rebinding Host with port")
        expectStatus(try server.send("GET", "/", host: "127.0.0.1.attacker.example"), 421, "rebinding Host on the dashboard")
        expectStatus(try server.send("GET", "/api/sites", host: "localhost:\(server.port)"), 200, "localhost Host")

        // 2, 4, 11. Hostile settings are refused where they enter.
        let hostileSites: [(String, String)] = [
            (
                "docroot quote+newline",
                #"{"name":"x","docroot":"/srv/x\"\nLoadModule evil_module /tmp/evil.so\n#","publicURL":"http://a","backendURL":"http://b"}"#
            ),
            ("docroot /.", #"{"name":"x","docroot":"/.","publicURL":"http://a","backendURL":"http://b"}"#),
            ("docroot /srv/..", #"{"name":"x","docroot":"/srv/..","publicURL":"http://a","backendURL":"http://b"}"#),
            ("docroot /proc", #"{"name":"x","docroot":"/proc","publicURL":"http://a","backendURL":"http://b"}"#),
            ("docroot ${X}", #"{"name":"x","docroot":"/srv/${X}","publicURL":"http://a","backendURL":"http://b"}"#),
            ("backend with quote", #"{"name":"x","docroot":"/srv","publicURL":"http://a","backendURL":"http://b/\"x"}"#),
            ("backend with %{}", #"{"name":"x","docroot":"/srv","publicURL":"http://a","backendURL":"http://b/%{ENV:X}"}"#),
            ("index with space", #"{"name":"x","docroot":"/srv","publicURL":"http://a","backendURL":"http://b","directoryIndex":["home page.php"]}"#),
            ("index blank", #"{"name":"x","docroot":"/srv","publicURL":"http://a","backendURL":"http://b","directoryIndex":[" "]}"#),
            ("extension newline", #"{"name":"x","docroot":"/srv","publicURL":"http://a","backendURL":"http://b","phpExtensions":[".php\n"]}"#),
            ("owner header", #"{"name":"x","docroot":"/srv","publicURL":"http://a","backendURL":"http://b","ownerHeader":"X-A: b"}"#),
            ("name ..", #"{"name":"..","docroot":"/srv","publicURL":"http://a","backendURL":"http://b"}"#),
            ("name .", #"{"name":".","docroot":"/srv","publicURL":"http://a","backendURL":"http://b"}"#),
        ]
        for (label, body) in hostileSites { expectStatus(try server.send("POST", "/api/sites", body: body), 422, label) }
        expectStatus(try server.send("PUT", "/api/sites/s", body: #"{"docroot":"/srv/x\"\n</Directory>"}"#), 422, "PUT hostile docroot")
        expectStatus(try server.send("PUT", "/api/sites/s", body: #"{"directoryIndex":["home page.php"]}"#), 422, "PUT index with space")
        expectStatus(try server.send("GET", "/api/sites/s/export?form=rewritemap&map=/tmp/x%22%0ALoadModule"), 422, "hostile map path")

        // 5. Bounded writes: the reason's limit, and one stored copy however many URLs a glob selects.
        let size = { (try? FileManager.default.attributesOfItem(atPath: server.db)[.size] as? Int) ?? 0 }
        let walSize = { (try? FileManager.default.attributesOfItem(atPath: server.db + "-wal")[.size] as? Int) ?? 0 }
        expectStatus(
            try server.send("POST", "/api/sites/s/flips", body: #"{"glob":"*","to":"swift","reason":"\#(String(repeating: "r", count: 1001))"}"#),
            422,
            "reason of 1,001 characters"
        )
        expectStatus(
            try server.send("POST", "/api/sites/s/flips", body: #"{"glob":"*","to":"swift","reason":"\#(String(repeating: "r", count: 1 << 20))"}"#),
            413,
            "reason of 1 MiB"
        )
        let before = size() + walSize()
        expectStatus(
            try server.send("POST", "/api/sites/s/flips", body: #"{"glob":"*","to":"swift","reason":"\#(String(repeating: "r", count: 1000))"}"#),
            200,
            "bulk flip with the longest reason"
        )
        let growth = size() + walSize() - before
        let stored = try await Subprocess.run(
            "/usr/bin/python3",
            [
                "-c",
                "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute('SELECT (SELECT COALESCE(SUM(length(reason)),0) FROM ownership_events) + (SELECT COALESCE(SUM(length(reason)),0) FROM flip_operations)').fetchone()[0])",
                server.db,
            ]
        )
        let reasonBytes = Int(stored.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        // 100 events of "planned" plus the crawl's own events, and the reason once: far below 100 copies of it.
        #expect((0..<5_000).contains(reasonBytes), "reasons take \(reasonBytes) bytes (\(stored.stderr))")
        #expect(growth < 1 << 20, "a flip of 100 URLs grew the database and WAL by \(growth) bytes")

        // 13. The scheme is case-insensitive; the state is what it was.
        await expectStatus(
            try RawHTTP.send(port: server.port, method: "GET", path: "/api/sites/s", headers: ["Authorization": "bearer hostile-token"]),
            200,
            "lowercase bearer"
        )
        let after = try server.send("GET", "/api/sites/s").json
        for key in ["docroot", "backendURL", "directoryIndex", "phpExtensions", "ownerHeader"] {
            #expect("\(original[key] ?? "-")" == "\(after[key] ?? "-")", "\(key) changed")
        }
        let sites = try JSONSerialization.jsonObject(with: Data(try server.send("GET", "/api/sites").body.utf8)) as? [[String: Any]]
        #expect(sites?.map { $0["name"] as? String } == ["s"])
        #expect((try server.send("GET", "/api/jobs").body) == "[]")
        print("hostile catalogue: \(tried) requests tried, all held")
    }
}
