import CutoverTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `cutover serve` stops when asked, even when something keeps its graceful shutdown from
/// finishing: here a client that sent half a request body and waits (Hummingbird waits for the
/// request in flight), the way a dependency's deadlock once kept it running in CI.
@Suite(.enabled(if: Integration.enabled, "needs the built cutover binary (always runs when CI=true)"), .serialized)
struct ServeShutdownTests {
    /// A `cutover serve` with its output in a file; returns once it answers.
    static func serve(_ folder: TemporaryDirectory, limit: String) throws -> (Process, port: Int, log: String) {
        let port = try FreePort.find()
        let log = folder.appending("serve-\(port).log")
        FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Subprocess.cutoverBinary)
        process.arguments = [
            "serve", "--db", folder.appending("cutover.sqlite"), "--port", String(port), "--public", folder.path, "--shutdown-limit", limit,
        ]
        process.environment = ["CUTOVER_TOKEN": "shutdown-token", "PATH": "/usr/bin:/bin"]
        process.standardOutput = FileHandle(forWritingAtPath: log)
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        for _ in 0..<400 {
            if (try? RawHTTP.send(port: port, method: "GET", path: "/api/health").status) == 200 { return (process, port, log) }
            usleep(25_000)
        }
        process.terminate()
        throw HarnessError("cutover serve did not start")
    }

    /// Sends SIGTERM and waits (at most `limit`) for the process to end: its status and how long.
    static func stop(_ process: Process, within limit: Double) -> (status: Int32?, seconds: Double) {
        let start = Date()
        process.terminate()
        while process.isRunning && Date().timeIntervalSince(start) < limit { usleep(20_000) }
        let seconds = Date().timeIntervalSince(start)
        guard !process.isRunning else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return (nil, seconds)
        }
        return (process.terminationStatus, seconds)
    }

    @Test func aStopEndsPromptlyAndOneThatCannotFinishEndsAtTheLimit() throws {
        let folder = try TemporaryDirectory(prefix: "shutdown")
        defer { folder.remove() }

        // Nothing in flight: an ordinary graceful stop, status 0, well before the limit.
        let (quiet, _, _) = try Self.serve(folder, limit: "20")
        let ordinary = Self.stop(quiet, within: 30)
        #expect(ordinary.status == 0 && ordinary.seconds < 10, "\(ordinary)")

        // A client holds a request open with half its body: the graceful shutdown waits for it,
        // so the process exits at the limit, status 1, and says why.
        let (held, port, log) = try Self.serve(folder, limit: "2")
        let client = try RawHTTP.connect(port: port)
        defer { close(client) }
        let partial = Array(
            "POST /api/sites HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer shutdown-token\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"na"
                .utf8
        )
        #expect(send(client, partial, partial.count, 0) == partial.count)
        usleep(300_000)
        let stopped = Self.stop(held, within: 30)
        #expect(stopped.status == 1, "\(stopped)")
        #expect(stopped.seconds >= 1.9 && stopped.seconds < 10, "\(stopped)")
        let output = try String(contentsOfFile: log, encoding: .utf8)
        #expect(output.contains("the graceful shutdown did not finish within 2.0 seconds; exiting without it"), "\(output)")
    }
}
