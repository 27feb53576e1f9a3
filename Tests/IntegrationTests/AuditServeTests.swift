import AsyncHTTPClient
import CutoverTestSupport
import Foundation
import GRDB
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Findings of issue 23's audit that need `cutover serve` as a user runs it: the built binary, a
/// real SQLite file, real HTTP.
@Suite(.enabled(if: Integration.enabled, "needs apache2 and libapache2-mod-php (always runs when CI=true)"))
struct AuditServeTests {
    /// Starts `cutover serve` on a free port and waits for /api/health.
    static func serve(db: String, folder: TemporaryDirectory, extra: [String] = []) async throws -> (Process, String) {
        let port = try FreePort.find()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: Subprocess.cutoverBinary)
        server.arguments = ["serve", "--db", db, "--port", String(port), "--public", folder.path] + extra
        server.environment = ["CUTOVER_TOKEN": "audit-token-0123456789", "PATH": "/usr/bin:/bin"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        let base = "http://127.0.0.1:\(port)"
        for _ in 0..<200 where server.isRunning {
            if let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: "\(base)/api/health"), timeout: .seconds(2)),
                response.status == .ok
            {
                return (server, base)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        server.terminate()
        throw HarnessError("cutover serve did not start")
    }

    /// POSTs JSON with the token; expects `status` and returns the JSON object answered.
    static func post(_ base: String, _ path: String, _ body: String, expecting status: Int) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: base + path)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer audit-token-0123456789")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        #expect(Int(response.status.code) == status, "POST \(path): \(response.status)")
        let data = Data(buffer: try await response.body.collect(upTo: 1 << 16))
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    /// Starts a job of `kind` on `site` and waits (at most 20 s) until it ends: its last snapshot.
    static func runJob(_ base: String, site: String, kind: String) async throws -> [String: Any] {
        let id = try await post(base, "/api/sites/\(site)/jobs", #"{"kind":"\#(kind)"}"#, expecting: 202)["id"] as? Int ?? 0
        var body: [String: Any] = [:]
        for _ in 0..<400 {
            try await Task.sleep(for: .milliseconds(50))
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "\(base)/api/jobs/\(id)"), timeout: .seconds(10))
            body = try JSONSerialization.jsonObject(with: Data(buffer: try await response.body.collect(upTo: 1 << 16))) as? [String: Any] ?? [:]
            if body["state"] as? String != "running" { break }
        }
        return body
    }

    /// GET `url`: status, body size and seconds.
    static func get(_ url: String) async throws -> (status: Int, bytes: Int, seconds: Double) {
        let started = ContinuousClock.now
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(60))
        var bytes = 0
        for try await chunk in response.body { bytes += chunk.readableBytes }
        let elapsed = ContinuousClock.now - started
        return (Int(response.status.code), bytes, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    /// Finding 1: anonymous requests choose query keys. A flood of distinct keys under one path
    /// keeps at most 50 keys in the database; the URL detail and the traffic reads of that path
    /// stay small (2c917e0 stored every key: 99 MB of JSON for one URL at 2.5 M keys).
    @Test func aPathFloodedWithQueryKeysStaysSmall() async throws {
        let folder = try TemporaryDirectory(prefix: "flood")
        defer { folder.remove() }
        try folder.write("www/contact.php", "<?php echo 1;")
        try folder.write("www/index.php", "<?php echo 2;")
        let db = folder.appending("cutover.sqlite")
        let crawl = try await Subprocess.run(Subprocess.cutoverBinary, ["crawl", "--db", db, "--site", "s", "--docroot", folder.appending("www")])
        #expect(crawl.status == 0, "\(crawl.stderr)")
        // 1,000 requests of ~8 KB, 800 keys each, all distinct: 800,000 keys under one path.
        let lines = 1_000
        let keysPerLine = 800
        var log = ""
        log.reserveCapacity(lines * 9_000)
        for line in 0..<lines {
            var query = ""
            for key in 0..<keysPerLine { query += (key == 0 ? "" : "&") + "k\(line * keysPerLine + key)=v" }
            log += #"192.0.2.9 - - [06/Dec/2026:10:00:00 +0000] "GET /contact.php?\#(query) HTTP/1.1" 200 10 "-" "Mozilla/5.0""# + "\n"
        }
        log += #"192.0.2.9 - - [06/Dec/2026:10:00:01 +0000] "GET /contact.php?topic=sales HTTP/1.1" 200 10 "-" "Mozilla/5.0""# + "\n"
        let path = try folder.write("access.log", log)
        let imported = try await Subprocess.run(Subprocess.cutoverBinary, ["logs", "import", "--db", db, "--site", "s", path])
        #expect(imported.status == 0, "\(imported.stderr)")

        let queue = try DatabaseQueue(path: db)
        let (keys, rows, otherKeyHits) = try await queue.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(DISTINCT key) FROM traffic_query_values WHERE path = '/contact.php'") ?? -1,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM traffic_query_values") ?? -1,
                // (2c917e0 had no such column: nil there, and the rest of the test still runs.)
                try? Int.fetchOne(db, sql: "SELECT other_key_hits FROM traffic WHERE path = '/contact.php'")
            )
        }
        let id = try await queue.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM urls WHERE path = '/contact.php'") }
        try queue.close()
        #expect(keys == 50 && rows <= 50 * 201, "\(keys) keys, \(rows) rows")
        // Every key of every request is counted somewhere: 32 per request as values, the rest as other keys.
        #expect((otherKeyHits ?? 0) > 0)

        let (server, base) = try await Self.serve(db: db, folder: folder)
        defer { if server.isRunning { server.terminate() } }
        let urlID = try #require(id)
        for read in ["/api/sites/s/urls/\(urlID)", "/api/sites/s/traffic/summary", "/api/sites/s/traffic?limit=100", "/api/sites/s/urls?limit=100"] {
            let answer = try await Self.get(base + read)
            #expect(answer.status == 200, "\(read)")
            #expect(answer.bytes < 1 << 20, "\(read): \(answer.bytes) bytes")
            print("flood read \(read): \(answer.bytes) bytes in \(Int(answer.seconds * 1000)) ms")
        }
        server.terminate()
        server.waitUntilExit()
    }

    /// Finding 8: a wrong format or host never consumes a file. The CLI uses the site's format
    /// (as the scheduled job does): a `vhost_combined` site counts the same from both; a wrong
    /// `--format` or `--vhost` stores nothing and says which format it tried; the right one
    /// afterwards counts every line; `logs reset` refuses a file whose lines were counted.
    @Test func aWrongFormatOrHostNeverConsumesTheFile() async throws {
        let folder = try TemporaryDirectory(prefix: "format")
        defer { folder.remove() }
        try folder.write("www/index.php", "<?php echo 1;")
        try folder.write("www/a.php", "<?php echo 2;")
        var log = ""
        for index in 0..<300 {
            let host = index % 3 == 0 ? "other.example:80" : "shop.example:80"
            log += #"\#(host) 192.0.2.1 - - [06/Dec/2026:10:00:00 +0000] "GET /a.php?n=\#(index % 7) HTTP/1.1" 200 10 "-" "Mozilla/5.0""# + "\n"
        }
        let path = try folder.write("logs/access.log", log)
        func run(_ arguments: [String], db: String) async throws -> ProcessResult {
            try await Subprocess.run(Subprocess.cutoverBinary, arguments + ["--db", db])
        }
        func hits(_ db: String) async throws -> Int {
            let queue = try DatabaseQueue(path: db)
            defer { try? queue.close() }
            return try await queue.read { db in try Int.fetchOne(db, sql: "SELECT coalesce(sum(hits), 0) FROM traffic") ?? 0 }
        }
        let add = [
            "site", "add", "s", "--docroot", folder.appending("www"), "--site-url", "http://shop.example", "--access-log-format", "vhost_combined",
            "--access-log", path,
        ]
        let cliDB = folder.appending("cli.sqlite")
        #expect(try await run(add, db: cliDB).status == 0)
        #expect(try await run(["crawl", "--site", "s"], db: cliDB).status == 0)

        // Wrong format, then wrong host: refused, nothing stored, the file not consumed.
        let wrongFormat = try await run(["logs", "import", "--site", "s", "--format", "combined", path], db: cliDB)
        #expect(wrongFormat.status != 0 && wrongFormat.stderr.contains("with the LogFormat"), "\(wrongFormat.stdout)\(wrongFormat.stderr)")
        let wrongHost = try await run(["logs", "import", "--site", "s", "--vhost", "blog.example", path], db: cliDB)
        #expect(wrongHost.status != 0 && wrongHost.stderr.contains("other virtual hosts"), "\(wrongHost.stdout)\(wrongHost.stderr)")
        #expect(try await hits(cliDB) == 0)
        // `common` over these lines: every line is bad now, not "human requests".
        let common = try await run(["logs", "import", "--site", "s", "--format", "common", path], db: cliDB)
        #expect(common.status != 0, "\(common.stdout)")

        // The site's own format, from the CLI without --format: every line of the site's host counts.
        let right = try await run(["logs", "import", "--site", "s", path], db: cliDB)
        #expect(right.status == 0, "\(right.stderr)")
        #expect(try await hits(cliDB) == 200)
        let reset = try await run(["logs", "reset", "--site", "s", path], db: cliDB)
        #expect(reset.status != 0 && reset.stderr.contains("would count them twice"), "\(reset.stdout)\(reset.stderr)")

        // The scheduled job's path: `cutover serve`'s logs job on a second database, same counts.
        let jobDB = folder.appending("job.sqlite")
        #expect(try await run(add, db: jobDB).status == 0)
        #expect(try await run(["crawl", "--site", "s"], db: jobDB).status == 0)
        let (server, base) = try await Self.serve(db: jobDB, folder: folder, extra: ["--log-root", folder.appending("logs")])
        defer { if server.isRunning { server.terminate() } }
        let job = try await Self.runJob(base, site: "s", kind: "logs")
        let state = job["state"] as? String
        if state == "succeeded" {
            // Finding 19: a finished job says it did all of its work (it said "done 0 of 1").
            #expect(job["done"] as? Int == 1 && job["total"] as? Int == 1, "\(job)")
        }
        #expect(state == "succeeded")
        server.terminate()
        server.waitUntilExit()
        #expect(try await hits(jobDB) == 200)
    }

    /// Finding 5: the logs job has a time bound. Past it, the job stores what it read, stops and
    /// says so; the next run goes on from there, and every line is counted once in the end.
    @Test func aLogsJobStopsAtItsTimeLimitAndTheNextGoesOn() async throws {
        let folder = try TemporaryDirectory(prefix: "timelimit")
        defer { folder.remove() }
        try folder.write("www/a.php", "<?php echo 2;")
        // About 13 MB: several reads, so a zero limit stops after the first.
        let lines = 100_000
        var log = ""
        log.reserveCapacity(lines * 130)
        for index in 0..<lines {
            log +=
                #"192.0.2.\#(index % 250) - - [06/Dec/2026:10:00:00 +0000] "GET /a.php?page=\#(index % 40) HTTP/1.1" 200 10 "-" "Mozilla/5.0 (X11)""#
                + "\n"
        }
        let path = try folder.write("logs/access.log", log)
        let db = folder.appending("db.sqlite")
        let add = ["site", "add", "s", "--docroot", folder.appending("www"), "--site-url", "http://shop.example", "--access-log", path, "--db", db]
        #expect(try await Subprocess.run(Subprocess.cutoverBinary, add).status == 0)
        func hits() async throws -> Int {
            let queue = try DatabaseQueue(path: db)
            defer { try? queue.close() }
            return try await queue.read { db in try Int.fetchOne(db, sql: "SELECT coalesce(sum(hits), 0) FROM traffic") ?? 0 }
        }
        let (server, base) = try await Self.serve(
            db: db,
            folder: folder,
            extra: ["--log-root", folder.appending("logs"), "--log-time-limit", "0"]
        )
        defer { if server.isRunning { server.terminate() } }

        let first = try await Self.runJob(base, site: "s", kind: "logs")
        #expect(first["state"] as? String == "failed", "\(first)")
        #expect((first["error"] as? String)?.contains("time limit") == true, "\(first)")
        let stored = try await hits()
        #expect(stored > 0 && stored < lines, "\(stored)")

        // Each run reads at least one buffer and goes on from where the last stopped.
        var counted = stored
        var last: [String: Any] = [:]
        for _ in 0..<20 {
            last = try await Self.runJob(base, site: "s", kind: "logs")
            let now = try await hits()
            #expect(now > counted || last["state"] as? String == "succeeded", "\(last)")
            counted = now
            if last["state"] as? String != "failed" { break }
            #expect((last["error"] as? String)?.contains("time limit") == true, "\(last)")
        }
        #expect(last["state"] as? String == "succeeded", "\(last)")
        #expect(counted == lines)
    }

    /// A raw connection that sent `GET path` and read the response head: the status, and the
    /// socket (still open: an event stream keeps it).
    static func openStream(port: Int, path: String) throws -> (status: Int, socket: Int32) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else {
            close(fd)
            throw HarnessError("connect failed")
        }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        _ = request.withCString { write(fd, $0, strlen($0)) }
        var head: [UInt8] = []
        var byte: UInt8 = 0
        while !head.suffix(4).elementsEqual("\r\n\r\n".utf8), read(fd, &byte, 1) == 1 { head.append(byte) }
        let status = Int(String(decoding: head, as: UTF8.self).split(separator: " ").dropFirst().first ?? "") ?? 0
        return (status, fd)
    }

    /// Finding 9: event streams are pushed from the job runner, at most 64 at once (429 beyond),
    /// and one whose client went away ends within a keep-alive interval while the job is silent,
    /// freeing its slot and descriptor; the server keeps answering meanwhile.
    @Test func abandonedEventStreamsAreReleasedAndCapped() async throws {
        let folder = try TemporaryDirectory(prefix: "sse")
        defer { folder.remove() }
        let hanging = try MisbehavingServer()
        defer { hanging.stop() }
        // Every page hangs for 10 s and the probe gives up after 5: a silent job of about 15 s.
        for index in 0..<40 { try folder.write("www/slow\(index).php", "<?php echo 1;") }
        let db = folder.appending("cutover.sqlite")
        let add = try await Subprocess.run(
            Subprocess.cutoverBinary,
            ["site", "add", "s", "--db", db, "--docroot", folder.appending("www"), "--site-url", hanging.baseURL, "--backend-url", hanging.baseURL]
        )
        #expect(add.status == 0, "\(add.stderr)")
        #expect(try await Subprocess.run(Subprocess.cutoverBinary, ["crawl", "--db", db, "--site", "s"]).status == 0)
        let (server, base) = try await Self.serve(db: db, folder: folder, extra: ["--sse-keep-alive", "0.3"])
        defer { if server.isRunning { server.terminate() } }
        let port = Int(base.split(separator: ":").last!)!
        let id = try await Self.post(base, "/api/sites/s/jobs", #"{"kind":"probe"}"#, expecting: 202)["id"] as? Int ?? 0

        var sockets: [Int32] = []
        for _ in 0..<64 {
            let stream = try Self.openStream(port: port, path: "/api/jobs/\(id)/events")
            #expect(stream.status == 200)
            sockets.append(stream.socket)
        }
        let refused = try Self.openStream(port: port, path: "/api/jobs/\(id)/events")
        #expect(refused.status == 429, "the 65th stream")
        close(refused.socket)
        #expect(try await Self.get("\(base)/api/health").status == 200)
        // The clients go away while the job is still silent: within a keep-alive the slots are free.
        for socket in sockets { close(socket) }
        var reopened = 0
        for _ in 0..<40 where reopened != 200 {
            try await Task.sleep(for: .milliseconds(100))
            let stream = try Self.openStream(port: port, path: "/api/jobs/\(id)/events")
            reopened = stream.status
            close(stream.socket)
        }
        #expect(reopened == 200, "an abandoned stream's slot came back")
        let state =
            try JSONSerialization.jsonObject(
                with: Data(
                    buffer: try await HTTPClient.shared.execute(
                        HTTPClientRequest(url: "\(base)/api/jobs/\(id)"),
                        timeout: .seconds(5)
                    ).body.collect(upTo: 1 << 16)
                )
            ) as? [String: Any]
        #expect(state?["state"] as? String == "running", "the job was still silent meanwhile")
        server.terminate()
        server.waitUntilExit()
        #expect(server.terminationStatus == 0, "SIGTERM completes with streams open")
    }

    /// Finding 16: a dashboard path with a NUL is refused, never served with the MIME type of
    /// what follows the NUL; finding 19: the API refuses a redirect with a flip to PHP (it
    /// ignored it silently, where the CLI refused).
    @Test func dashboardPathsAndFlipInputsAreChecked() async throws {
        let folder = try TemporaryDirectory(prefix: "dash")
        defer { folder.remove() }
        try folder.write("js/app.js", "export const x = 1;")
        try folder.write("www/index.php", "<?php echo 1;")
        try folder.write("www/old.php", "<?php echo 2;")
        let db = folder.appending("cutover.sqlite")
        #expect(
            try await Subprocess.run(Subprocess.cutoverBinary, ["crawl", "--db", db, "--site", "s", "--docroot", folder.appending("www")]).status == 0
        )
        let (server, base) = try await Self.serve(db: db, folder: folder)
        defer { if server.isRunning { server.terminate() } }
        let script = try await HTTPClient.shared.execute(HTTPClientRequest(url: "\(base)/js/app.js"), timeout: .seconds(5))
        #expect(script.status == .ok && script.headers["content-type"].first?.contains("javascript") == true)
        for path in ["/js/app.js%00.html", "/js/app.js%0a.html", "/js/%01app.js"] {
            let answer = try await HTTPClient.shared.execute(HTTPClientRequest(url: base + path), timeout: .seconds(5))
            #expect(answer.status == .badRequest, "\(path): \(answer.status)")
            #expect(answer.headers["content-type"].first?.contains("json") == true, "\(path)")
        }
        _ = try await Self.post(base, "/api/sites/s/flips", #"{"paths":["/old.php"],"to":"php","redirectTo":"/new"}"#, expecting: 422)
        server.terminate()
        server.waitUntilExit()
    }
}
