import CutoverProbe
import CutoverStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle

/// What `cutover serve` needs to know; the CLI command and tests both provide it.
public protocol ServerArguments: Sendable {
    var hostname: String { get }
    var port: Int { get }
    /// Required for mutating calls; nil means the API is read-only.
    var token: String? { get }
    /// Require the token for reads too.
    var protectReads: Bool { get }
    /// Folder of the dashboard's static files (`Public/`).
    var publicDirectory: String { get }
}

public enum ServerSetupError: Error, CustomStringConvertible, Equatable {
    case tokenRequired(host: String)

    public var description: String {
        switch self {
        case .tokenRequired(let host):
            "refusing to listen on \(host) without an API token: set CUTOVER_TOKEN (or use --host 127.0.0.1)"
        }
    }
}

extension ServerArguments {
    var isLoopback: Bool { ["127.0.0.1", "::1", "localhost"].contains(hostname) || hostname.hasPrefix("127.") }
}

/// Assembles the Cutover server: the API under `/api/`, the dashboard from `Public/`, and the
/// job runner, which is shut down (jobs cancelled, database consistent) with the server.
public func buildApplication(_ arguments: some ServerArguments, database: AppDatabase, logger: Logger) throws -> some ApplicationProtocol {
    if !arguments.isLoopback, arguments.token == nil { throw ServerSetupError.tokenRequired(host: arguments.hostname) }
    let metrics = ServerMetrics(database: database)
    let jobs = JobRunner(database: database, logger: logger, metrics: metrics)
    let router = buildRouter(arguments, database: database, jobs: jobs, metrics: metrics, logger: logger)
    var app = Application(
        router: router,
        configuration: .init(address: .hostname(arguments.hostname, port: arguments.port), serverName: "cutover"),
        logger: logger)
    app.addServices(JobRunnerService(jobs: jobs), Scheduler(database: database, jobs: jobs, logger: logger))
    return app
}

/// The routes, for tests that do not need a socket.
public func buildRouter(
    _ arguments: some ServerArguments, database: AppDatabase, jobs: JobRunner, metrics: ServerMetrics? = nil, logger: Logger
) -> Router<AppContext> {
    let router = Router(context: AppContext.self)
    router.add(middleware: ErrorMiddleware(logger: logger))
    router.add(middleware: AuthMiddleware(token: arguments.token, protectReads: arguments.protectReads))
    // Only the dashboard folder is ever served from disk, never a site's docroot.
    router.add(middleware: FileMiddleware(arguments.publicDirectory, searchForIndexHtml: true, logger: logger))
    if let metrics {
        router.get("metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: try metrics.scrape())))
        }
    }
    let api = router.group("api")
    api.get("health") { _, _ in ["status": "ok"] }
    SitesController(database: database, jobs: jobs).add(to: api)
    URLsController(database: database).add(to: api)
    JobsController(database: database, jobs: jobs).add(to: api)
    ExportController(database: database).add(to: api)
    return router
}

/// Shuts the job runner down when the service group stops (SIGTERM, SIGINT).
struct JobRunnerService: Service {
    let jobs: JobRunner

    func run() async throws {
        try? await gracefulShutdown()
        await jobs.shutdown()
    }
}
