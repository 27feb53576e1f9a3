import AsyncHTTPClient
import CutoverTestSupport
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Testing

/// `cutover serve` as a user runs it: a real process, a real Apache site, crawl and probe over HTTP.
@Suite(.enabled(if: Integration.enabled, "needs apache2 and libapache2-mod-php (always runs when CI=true)"))
struct ServeLiveTests {
    func call(_ method: HTTPMethod, _ url: String, body: String? = nil) async throws -> (Int, [String: Any]) {
        try await apiCall(method, url, token: "live-token", body: body)
    }

    @Test func crawlAndProbeOverHTTPThenGracefulStop() async throws {
        let live = try await LiveSite(files: ["index.php": "<?php echo 1;", "a.php": "<?php echo 2;", "s.css": "x"])
        defer { Task { await live.shutdown() } }
        let port = try FreePort.find()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: Subprocess.cutoverBinary)
        server.arguments = ["serve", "--db", live.docroot.appending("cutover.sqlite"), "--port", String(port), "--public", live.docroot.path]
        server.environment = ["CUTOVER_TOKEN": "live-token", "PATH": "/usr/bin:/bin"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { server.terminate() } }
        let base = "http://127.0.0.1:\(port)/api"
        var up = false
        for _ in 0..<200 where !up {
            up = (try? await call(.GET, "\(base)/health").0) == 200
            if !up { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(up)
        for kind in ["crawl", "probe"] {
            let (status, job) = try await call(.POST, "\(base)/sites/live/jobs", body: #"{"kind":"\#(kind)"}"#)
            #expect(status == 202)
            let id = try #require(job["id"] as? Int)
            var state = "running"
            for _ in 0..<200 where state == "running" {
                try await Task.sleep(for: .milliseconds(50))
                state = try await call(.GET, "\(base)/jobs/\(id)").1["state"] as? String ?? "?"
            }
            #expect(state == "succeeded", "\(kind)")
        }
        let (_, stats) = try await call(.GET, "\(base)/sites/live/stats")
        #expect((stats["counts"] as? [String: Any])?["php"] as? Int == 2)  // `/` (with `/index.php`) and `/a.php`
        #expect((stats["fallback"] as? [String: Any])?["healthy"] as? Bool == true, "\(stats["fallback"] ?? "-")")
        #expect(stats["driftCount"] as? Int == 0)
        #expect((stats["series"] as? [[String: Any]])?.count == 2)
        server.terminate()  // SIGTERM: graceful shutdown
        server.waitUntilExit()
        #expect(server.terminationStatus == 0)
    }
}

/// The CLI from cron and `cutover serve` writing the same SQLite file at once.
@Suite struct CronAlongsideServeTests {
    @Test func cliCrawlsWhileTheServerCrawlsAndFlips() async throws {
        let folder = try TemporaryDirectory(prefix: "cron")
        defer { folder.remove() }
        for index in 0..<2000 { try folder.write("htdocs/p\(index).php", "x") }
        let db = folder.appending("cutover.sqlite")
        await #expect(
            try Subprocess.run(Subprocess.cutoverBinary, ["crawl", "--db", db, "--site", "s", "--docroot", folder.appending("htdocs")]).status == 0
        )
        let port = try FreePort.find()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: Subprocess.cutoverBinary)
        server.arguments = ["serve", "--db", db, "--port", String(port), "--public", folder.path]
        server.environment = ["CUTOVER_TOKEN": "t", "PATH": "/usr/bin:/bin"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { server.terminate() } }
        let base = "http://127.0.0.1:\(port)/api"
        for _ in 0..<200 where !FreePort.accepts(port: port) { try await Task.sleep(for: .milliseconds(50)) }

        func post(_ path: String, _ body: String) async throws -> Int {
            var request = HTTPClientRequest(url: base + path)
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer t")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1 << 20)
            return Int(response.status.code)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for round in 0..<3 {
                    let result = try Subprocess.run(Subprocess.cutoverBinary, ["crawl", "--db", db, "--site", "s"])
                    #expect(result.status == 0, "cron crawl \(round): \(result.stderr)")
                    #expect(!result.stderr.contains("locked"))
                }
            }
            group.addTask {
                for round in 0..<3 {
                    let status = try await post("/sites/s/jobs", #"{"kind":"crawl"}"#)
                    #expect(status == 202 || status == 409, "server crawl \(round)")
                    for index in stride(from: round * 100, to: round * 100 + 100, by: 10) {
                        let paths = (index..<index + 10).map { "\"/p\($0).php\"" }.joined(separator: ",")
                        #expect(try await post("/sites/s/flips", #"{"paths":[\#(paths)],"to":"swift"}"#) == 200)
                    }
                }
            }
            try await group.waitForAll()
        }
        server.terminate()
        server.waitUntilExit()
        let planned = try await Subprocess.run(Subprocess.cutoverBinary, ["urls", "--db", db, "--site", "s", "--json"])
        let urls = try #require(try JSONSerialization.jsonObject(with: Data(planned.stdout.utf8)) as? [[String: Any]])
        #expect(urls.filter { $0["plannedOwner"] as? String == "swift" }.count == 300)
        let crawls = try await Subprocess.run(Subprocess.cutoverBinary, ["status", "--db", db, "--site", "s", "--json"])
        #expect(crawls.status == 0)
    }
}
