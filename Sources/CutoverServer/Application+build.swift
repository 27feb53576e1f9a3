import CutoverAPI
import CutoverLogs
import CutoverNotify
import CutoverProbe
import CutoverStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle

/// What `cutover serve` needs to know; the CLI command and tests both provide it.
package protocol ServerArguments: Sendable {
    var hostname: String { get }
    var port: Int { get }
    /// Required for mutating calls; nil means the API is read-only.
    var token: String? { get }
    /// Require the token for reads too.
    var protectReads: Bool { get }
    /// Folder of the dashboard's static files (`Public/`).
    var publicDirectory: String { get }
    /// Host names besides the bound address and loopback that requests may name (`--allowed-host`).
    var allowedHosts: [String] { get }
    /// Folders whose regular files the logs job may read (`--log-root`); empty: `LogRoots.defaultRoots`.
    var logRoots: [String] { get }
    /// How often a silent job event stream sends a keep-alive comment (`--sse-keep-alive`).
    var eventStreamKeepAlive: Duration { get }
    /// How long one logs job may read before it stops (`--log-time-limit`); what it read stays stored.
    var logTimeLimit: Duration { get }
    /// Most job event streams open at once; beyond it 429.
    var maxEventStreams: Int { get }
}

package enum ServerSetupError: Error, CustomStringConvertible, Equatable {
    case tokenRequired(host: String)

    package var description: String {
        switch self {
        case .tokenRequired(let host):
            "refusing to listen on \(host) without an API token: set CUTOVER_TOKEN (or use --host 127.0.0.1)"
        }
    }
}

extension ServerArguments {
    package var allowedHosts: [String] { [] }
    package var logRoots: [String] { [] }
    package var eventStreamKeepAlive: Duration { .seconds(15) }
    package var logTimeLimit: Duration { .seconds(600) }
    package var maxEventStreams: Int { 64 }
    var isLoopback: Bool { Loopback.contains(hostname) }
    /// Beyond loopback, reads name every site's files and URLs: they need the token too.
    var readsNeedToken: Bool { protectReads || !isLoopback }
}

/// The server's collaborators, wired once: the job runner (whose finished jobs clear the read
/// cache), the read cache, the metrics. `buildApplication` runs them; router-level tests drive
/// the same parts, so no test copies this wiring.
package struct ServerParts: Sendable {
    package let database: AppDatabase
    package let jobs: JobRunner
    package let cache: ReadCache
    package let metrics: ServerMetrics
    package let logger: Logger

    package init(_ arguments: some ServerArguments, database: AppDatabase, logger: Logger) {
        let metrics = ServerMetrics(database: database)
        let cache = ReadCache()
        self.database = database
        self.cache = cache
        self.metrics = metrics
        self.logger = logger
        jobs = JobRunner(
            database: database,
            logger: logger,
            metrics: metrics,
            logRoots: LogRoots(arguments.logRoots.isEmpty ? LogRoots.defaultRoots : arguments.logRoots),
            logTimeLimit: arguments.logTimeLimit,
            onFinish: { cache.clear() }
        )
    }

    /// The routes over these parts.
    package func router(_ arguments: some ServerArguments) -> Router<AppContext> {
        buildRouter(arguments, database: database, jobs: jobs, cache: cache, metrics: metrics, logger: logger)
    }
}

/// Assembles the Cutover server: the API under `/api/`, the dashboard from `Public/`, the job
/// runner, which is shut down (jobs cancelled, database consistent) with the server, and the
/// scheduler. `cutover serve` runs it; integration tests build it the same way
/// (`eventLoopGroupProvider` lets a test run it on one event-loop thread).
package func buildApplication(
    _ arguments: some ServerArguments,
    database: AppDatabase,
    logger: Logger,
    eventLoopGroupProvider: EventLoopGroupProvider = .singleton
) throws -> some ApplicationProtocol {
    if !arguments.isLoopback, arguments.token == nil { throw ServerSetupError.tokenRequired(host: arguments.hostname) }
    let parts = ServerParts(arguments, database: database, logger: logger)
    var app = Application(
        router: parts.router(arguments),
        configuration: .init(address: .hostname(arguments.hostname, port: arguments.port), serverName: "cutover"),
        eventLoopGroupProvider: eventLoopGroupProvider,
        logger: logger
    )
    let canaries = CanaryRunner(database: database, logger: logger, logRoots: parts.jobs.logRoots, logTimeLimit: parts.jobs.logTimeLimit)
    app.addServices(
        JobRunnerService(jobs: parts.jobs),
        Scheduler(database: database, jobs: parts.jobs, logger: logger, canaries: canaries),
        // mailto: webhooks go through the local sendmail (CUTOVER_SENDMAIL names another program).
        WebhookService(
            database: database,
            logger: logger,
            sendmail: ProcessInfo.processInfo.environment["CUTOVER_SENDMAIL"].flatMap { $0.isEmpty ? nil : $0 } ?? WebhookSender.defaultSendmail
        )
    )
    return app
}

/// The routes (see `ServerParts.router`).
func buildRouter(
    _ arguments: some ServerArguments,
    database: AppDatabase,
    jobs: JobRunner,
    cache: ReadCache,
    metrics: ServerMetrics? = nil,
    logger: Logger
) -> Router<AppContext> {
    // HEAD answers what GET would, without the body (scripts and monitors ask with HEAD).
    let router = Router(context: AppContext.self, options: .autoGenerateHeadEndpoints)
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: ErrorMiddleware(logger: logger))
    router.add(middleware: HostAllowListMiddleware(allowList: HostAllowList(boundHost: arguments.hostname, allowed: arguments.allowedHosts)))
    router.add(middleware: CacheInvalidationMiddleware(cache: cache))
    // Only the dashboard folder is ever served from disk, never a site's docroot.
    router.add(middleware: DashboardPathMiddleware())
    router.add(middleware: FileMiddleware(arguments.publicDirectory, searchForIndexHtml: true, logger: logger))

    // Open to anyone who may reach the server: liveness and the API's description.
    let open = router.group("api")
    open.get("health") { _, _ in ["status": "ok"] }
    let openAPI = OpenAPIDocument.bytes
    open.get("openapi.json") { _, _ in
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: openAPI)))
    }

    // Everything else is registered behind the token check, so authorisation is decided on the
    // matched route: no spelling of a path reaches these handlers without passing it.
    let auth = AuthMiddleware<AppContext>(token: arguments.token, protectReads: arguments.readsNeedToken)
    if let metrics {
        router.group().add(middleware: auth).get("metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            // Reads every site's counts: on NIO's blocking pool, never on an event loop.
            let text = try await metrics.scrape()
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }
    let api = router.group("api").add(middleware: auth).add(middleware: JSONBodyMiddleware())
    SitesController(database: database, jobs: jobs, cache: cache).add(to: api)
    URLsController(database: database, cache: cache).add(to: api)
    JobsController(
        database: database,
        jobs: jobs,
        streams: EventStreamSlots(limit: arguments.maxEventStreams),
        keepAlive: arguments.eventStreamKeepAlive
    ).add(to: api)
    ExportController(database: database, cache: cache).add(to: api)
    ParityController(database: database, cache: cache).add(to: api)
    TrafficController(database: database, cache: cache).add(to: api)
    FleetController(database: database).add(to: api)
    CanaryController(database: database).add(to: api)
    WebhookController(database: database).add(to: api)
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

/// The OpenAPI 3.1 document describing this API, the one place each API field is defined
/// (Resources/openapi.json; the API's Swift types in CutoverAPI are
/// generated from it). Schemathesis checks the running server against it in CI.
enum OpenAPIDocument {
    static let bytes: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"), let data = try? Data(contentsOf: url) else {
            return Array(#"{"openapi":"3.1.0","info":{"title":"Cutover API","version":"missing"},"paths":{}}"#.utf8)
        }
        return Array(data)
    }()
}
