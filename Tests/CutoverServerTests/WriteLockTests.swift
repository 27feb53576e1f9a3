import CutoverCore
import CutoverCrawl
import CutoverServer
import CutoverStore
import CutoverTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOPosix
import Testing

/// The server built as `cutover serve` builds it, on ONE event-loop thread, over real HTTP and a
/// real SQLite file: while another process holds SQLite's write lock for 5 s, a probe reaches
/// its final write and waits there; the liveness route and the URL page keep answering
/// meanwhile (no store call blocks an event loop), and the probe finishes once the lock goes.
@Suite struct WriteLockTests {
    @Test func readsStayFastWhileAProbeWaitsForAnotherProcesssWriteLock() async throws {
        let folder = try TemporaryDirectory(prefix: "writelock")
        defer { folder.remove() }
        for index in 0..<200 { try folder.write("htdocs/p\(index).php", "<?php echo \(index);") }
        let path = folder.appending("cutover.sqlite")
        let database = try AppDatabase(path: path)
        // Port 9 (discard) refuses at once: the probe's requests end quickly, its write does not.
        let site = try await database.sites.add(
            SiteSettings(name: "demo", docroot: folder.appending("htdocs"), publicURL: "http://127.0.0.1:9", backendURL: "http://127.0.0.1:9")
        )
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        _ = try await offPool { [quiet] in try Crawler(database: database, logger: quiet).crawl(site: site) }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let arguments = TestArguments(token: "s3cret-token", publicDirectory: folder.appending("htdocs"))
        let app = try buildApplication(arguments, database: database, logger: quiet, eventLoopGroupProvider: .shared(group))
        // Another process takes the write lock and keeps it for 5 s.
        let holder = try await Self.holdWriteLock(path, seconds: 5)
        let lockedAt = ContinuousClock.now
        try await app.test(.live) { client in
            let started = try await client.execute(
                uri: "/api/sites/demo/jobs",
                method: .post,
                headers: [.authorization: "Bearer s3cret-token", .contentType: "application/json"],
                body: ByteBuffer(string: #"{"kind":"probe"}"#)
            )
            #expect(started.status == .accepted || started.status == .created || started.status == .ok, "\(started.status)")
            let job = try JSONSerialization.jsonObject(with: Data(buffer: started.body)) as? [String: Any]
            let jobID = try #require(job?["id"] as? Int)

            // Ask while the lock is held (until 4.5 s after it was taken).
            var latencies: [Duration] = []
            while ContinuousClock.now - lockedAt < .milliseconds(4500) {
                for uri in ["/api/health", "/api/sites/demo/urls?limit=50"] {
                    let before = ContinuousClock.now
                    let response = try await client.execute(uri: uri, method: .get)
                    latencies.append(ContinuousClock.now - before)
                    #expect(response.status == .ok)
                }
            }
            // The probe was still waiting for the lock all that time.
            let waiting = try await client.execute(uri: "/api/jobs/\(jobID)", method: .get)
            let state = try JSONSerialization.jsonObject(with: Data(buffer: waiting.body)) as? [String: Any]
            #expect(state?["state"] as? String == "running", "\(state ?? [:])")

            try await offPool { holder.waitUntilExit() }
            var finished: String?
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                let answer = try await client.execute(uri: "/api/jobs/\(jobID)", method: .get)
                let status = (try JSONSerialization.jsonObject(with: Data(buffer: answer.body)) as? [String: Any])?["state"] as? String
                if status != "running" {
                    finished = status
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(finished == "succeeded")

            let sorted = latencies.sorted()
            let p99 = sorted[min(sorted.count - 1, sorted.count * 99 / 100)]
            print("write lock held 5 s: \(latencies.count) requests, p99 \(p99), max \(sorted.last!)")
            #expect(latencies.count > 100)
            // A store call on the event loop would hold these for seconds; the target is 50 ms
            // (measured alone: see README), the bound here leaves room for a loaded CI machine.
            #expect(p99 < .milliseconds(250), "p99 \(p99)")
        }
        try await group.shutdownGracefully()
    }

    /// Starts a process that opens the database, takes the write lock (BEGIN IMMEDIATE) and
    /// keeps it `seconds`; returns once the lock is held.
    static func holdWriteLock(_ path: String, seconds: Int) async throws -> Process {
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = [
            "python3", "-c",
            "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN IMMEDIATE'); "
                + "print('locked', flush=True); time.sleep(\(seconds)); c.execute('COMMIT')",
            path,
        ]
        let output = Pipe()
        holder.standardOutput = output
        try holder.run()
        let reader = output.fileHandleForReading
        let line = try await offPool { String(decoding: reader.availableData, as: UTF8.self) }
        guard line.hasPrefix("locked") else { throw CocoaError(.fileReadUnknown) }
        return holder
    }
}
