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
///
/// It measures latency, so it runs in a test process of its own (`make test` runs it second,
/// with CUTOVER_TIMING_ALONE=1): beside 80 other suites on two cores, the suites decide the
/// latency, not the server.
@Suite struct WriteLockTests {
    @Test(
        .enabled(
            if: ProcessInfo.processInfo.environment["CUTOVER_TIMING_ALONE"] == "1",
            "measures latency: `make test` runs it alone (CUTOVER_TIMING_ALONE=1 swift test --filter WriteLockTests)"
        )
    )
    func readsStayFastWhileAProbeWaitsForAnotherProcesssWriteLock() async throws {
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
        // Another process takes the write lock and keeps it until told (its standard input closes).
        let holder = try await WriteLockHolder(path)
        // As `cutover serve` runs its tasks on NIO's event loops (Cutover.main), this server's
        // tasks run on its one event-loop thread: a store call that blocked it would stall every
        // request. (On Swift Concurrency's shared pool the suites running beside this one would
        // decide the latency instead.)
        try await withTaskExecutorPreference(EventLoopTaskExecutor(group.next())) {
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

                // Ask for 5 s while the lock is held and the probe waits for it, from a thread of its
                // own with plain sockets: the latency measured is the server's, not that of this
                // process's Swift Concurrency threads, which the suites running beside this one share.
                let port = try #require(client.port)
                let timed = try await offPool {
                    var latencies: [(String, Duration)] = []
                    let askedFrom = ContinuousClock.now
                    while ContinuousClock.now - askedFrom < .seconds(5) {
                        for uri in ["/api/health", "/api/sites/demo/urls?limit=50"] {
                            let before = ContinuousClock.now
                            let response = try RawHTTP.send(port: port, method: "GET", path: uri)
                            latencies.append((uri, ContinuousClock.now - before))
                            guard response.status == 200 else { throw RawHTTPError.malformed("\(uri): \(response.status)") }
                        }
                    }
                    return latencies
                }
                let latencies = timed.map(\.1)
                // The probe was still waiting for the lock all that time.
                let waiting = try await client.execute(uri: "/api/jobs/\(jobID)", method: .get)
                let state = try JSONSerialization.jsonObject(with: Data(buffer: waiting.body)) as? [String: Any]
                #expect(state?["state"] as? String == "running", "\(state ?? [:])")

                try await holder.release()
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

                try #require(latencies.count > 100)
                let sorted = latencies.sorted()
                let p99 = sorted[min(sorted.count - 1, sorted.count * 99 / 100)]
                print("write lock held 5 s: \(latencies.count) requests, p99 \(p99), max \(sorted.last!)")
                // A store call on the event loop would hold these for seconds; the target is 50 ms
                // (measured alone: see README), the bound here leaves room for a loaded CI machine.
                #expect(p99 < .milliseconds(250), "p99 \(p99)")
            }
        }
        try await group.shutdownGracefully()
    }
}

/// Another process (Python's sqlite3) that takes SQLite's write lock (BEGIN IMMEDIATE) on a
/// database file and keeps it until `release()` closes its standard input.
final class WriteLockHolder: Sendable {
    let process: Process
    let input: Pipe

    init(_ path: String) async throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN IMMEDIATE'); "
                + "print('locked', flush=True); sys.stdin.read(); c.execute('COMMIT')",
            path,
        ]
        input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let reader = output.fileHandleForReading
        let line = try await offPool { String(decoding: reader.availableData, as: UTF8.self) }
        guard line.hasPrefix("locked") else { throw CocoaError(.fileReadUnknown) }
    }

    func release() async throws {
        try input.fileHandleForWriting.close()
        let process = process
        try await offPool { process.waitUntilExit() }
    }
}

/// Runs tasks on one NIO event loop (what installing NIO's loops as the global executor does
/// for `cutover serve`).
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        loop.execute { job.runSynchronously(on: executor) }
    }
}
