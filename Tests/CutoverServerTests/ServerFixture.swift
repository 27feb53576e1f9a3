import CutoverCore
import CutoverLogs
import CutoverServer
import CutoverStore
import CutoverTestSupport
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore

struct TestArguments: ServerArguments {
    var hostname = "127.0.0.1"
    var port = 0
    var token: String? = "s3cret-token"
    var protectReads = false
    var publicDirectory: String
    var logRoots: [String] = []
}

/// A temporary docroot with a registered site, a real SQLite file and a Public folder.
struct ServerFixture {
    let folder: TemporaryDirectory
    let database: AppDatabase
    var arguments: TestArguments
    let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }()

    init(files: Int = 0, protectReads: Bool = false, token: String? = "s3cret-token") async throws {
        folder = try TemporaryDirectory(prefix: "server")
        for file in ["index.php", "page-1.php", "page-2.php", "old page.php", "css/site.css"] { try folder.write("htdocs/\(file)", "<?php echo 1;") }
        for index in 0..<files { try folder.write("htdocs/bulk/p\(index).php", "x") }
        try folder.write("public/index.html", "<!doctype html><title>dashboard</title>")
        database = try AppDatabase(path: folder.appending("cutover.sqlite"))
        try await database.sites.add(
            SiteSettings(name: "demo", docroot: folder.appending("htdocs"), publicURL: "http://127.0.0.1:9", backendURL: "http://127.0.0.1:9")
        )
        // The test's own folder is its log root (the server's default is /var/log/apache2).
        arguments = TestArguments(token: token, protectReads: protectReads, publicDirectory: folder.appending("public"), logRoots: [folder.path])
        // The same wiring as `cutover serve` (buildApplication), without its socket and scheduler.
        parts = ServerParts(arguments, database: database, logger: logger)
    }

    let parts: ServerParts
    var jobs: JobRunner { parts.jobs }
    var metrics: ServerMetrics { parts.metrics }
    var cache: ReadCache { parts.cache }
    var router: Router<AppContext> { parts.router(arguments) }

    func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = Application(router: router, logger: logger)
        try await app.test(.router) { client in try await body(client) }
    }

    func crawl() async throws {
        let site = try await database.sites.named("demo")
        let job = try await jobs.start(.crawl, site: site)
        _ = await jobs.wait(for: job.id)
    }

    func cleanup() { folder.remove() }
}

let authorized: HTTPFields = [.authorization: "Bearer s3cret-token", .contentType: "application/json"]
let anonymous: HTTPFields = [.contentType: "application/json"]

func json(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

func decode(_ response: TestResponse) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any] ?? [:]
}

func errorCode(_ response: TestResponse) throws -> String? {
    (try decode(response)["error"] as? [String: Any])?["code"] as? String
}

/// Holds SQLite's write lock from another connection until released, so a job that must write
/// (every crawl does) stays running for as long as a test needs: no timing races.
final class WriteLock: @unchecked Sendable {
    private let release = DispatchSemaphore(value: 0)
    private let held = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)

    private final class Outcome: @unchecked Sendable {
        var error: (any Error)?
    }

    /// Waits up to 10 s for another writer to finish; throws (never hangs) when it cannot lock.
    init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        let outcome = Outcome()
        Thread { [self] in
            do {
                try queue.inTransaction(.immediate) { _ in
                    held.signal()
                    release.wait()
                    return .rollback
                }
            } catch {
                outcome.error = error
                held.signal()
            }
            done.signal()
        }.start()
        held.wait()
        if let error = outcome.error { throw error }
    }

    func unlock() {
        release.signal()
        done.wait()
    }
}
