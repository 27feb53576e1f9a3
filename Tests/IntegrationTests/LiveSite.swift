import CutoverCore
import CutoverCrawl
import CutoverExport
import CutoverProbe
import CutoverStore
import CutoverTestSupport
import Foundation
import Logging
import Testing

/// A whole live site for integration tests: a docroot, a real Apache + mod_php with the fallback
/// and the owner marker, the recording Swift backend, and a Cutover database with the site.
final class LiveSite: @unchecked Sendable {
    let docroot: TemporaryDirectory
    let backend: RecordingBackend
    let apache: ApacheServer
    let database: AppDatabase
    private(set) var site: SiteRecord
    let quiet: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }()

    /// - Parameter serverConfig: extra server-level directives (`BACKEND` is replaced by the backend URL).
    /// - Parameter backendPages: pages the Swift backend serves (twins of PHP pages), by path.
    init(
        files: [String: String],
        directoryConfig: String? = nil,
        serverConfig: String = "",
        backendPages: [String: RecordingBackend.Page] = [:],
        backendDelays: [String: Double] = [:]
    ) async throws {
        docroot = try TemporaryDirectory(prefix: "site")
        for (path, contents) in files { try docroot.write("htdocs/\(path)", contents) }
        backend = RecordingBackend(pages: backendPages, delays: backendDelays)
        try await backend.start()
        let directory = directoryConfig ?? ApacheSnippets.directoryFallback(backend: backend.baseURL) + "\n" + ApacheSnippets.ownerMarker
        apache = try ApacheServer(
            docroot: docroot.appending("htdocs"),
            directoryConfig: directory.replacingOccurrences(of: "BACKEND", with: backend.baseURL),
            serverConfig: serverConfig.replacingOccurrences(of: "BACKEND", with: backend.baseURL)
        )
        let started = apache
        try await offPool { try started.start() }
        database = try AppDatabase(path: docroot.appending("cutover.sqlite"))
        site = try await database.sites.add(
            SiteSettings(name: "live", docroot: docroot.appending("htdocs"), publicURL: apache.baseURL, backendURL: backend.baseURL)
        )
    }

    var htdocs: String { docroot.appending("htdocs") }

    /// Changes the site's settings (page keys, front controller) in the store and here.
    @discardableResult
    func configure(_ change: (inout SiteSettings) -> Void) async throws -> SiteRecord {
        var settings = site.settings
        change(&settings)
        site = try await database.sites.save(settings)
        return site
    }

    func remove(_ path: String) throws { try FileManager.default.removeItem(atPath: "\(htdocs)/\(path)") }

    /// On a Dispatch thread: the walk and the source scan block (see `offPool`).
    @discardableResult
    func crawl() async throws -> CrawlResult {
        let (database, site, quiet) = (database, site, quiet)
        return try await offPool { try Crawler(database: database, logger: quiet).crawl(site: site) }
    }

    /// The timeout is a ceiling for a loaded CI machine (every live suite runs at once on 2
    /// cores), never a wait: answers come in milliseconds.
    func probe(_ configuration: ProbeConfiguration = ProbeConfiguration(timeout: .seconds(30))) async throws -> ProbeReport {
        try await Prober(database: database, configuration: configuration, logger: quiet).probe(site: site)
    }

    func observed(_ report: ProbeReport) -> [String: Owner] {
        var result: [String: Owner] = [:]
        for outcome in report.outcomes { result[outcome.target.path] = outcome.observation.observedOwner }
        return result
    }

    private var exportIncluded = false

    /// Renders the site's export in `form` and puts it live: the vhost forms as an `Include`
    /// (with `appHtaccess`, the app's own rules, as the docroot's `.htaccess`), the htaccess form
    /// as the docroot's `.htaccess` followed by the app's rules verbatim. Apache's config test
    /// must pass; then a graceful reload.
    @discardableResult
    func install(_ form: ExportForm, appHtaccess: String? = nil) async throws -> RenderedExport {
        let mapPath = docroot.appending("flips.\(form.rawValue)")  // a file, or the tree form's folder
        let (_, rendered) = try storeCall { try Exporter(database: database).render(site: site, form: form, mapFilePath: mapPath) }
        if rendered.mapFile != nil { try Exporter.writeMap(rendered, to: mapPath) }
        let include = apache.workDirectory.appending("cutover.conf")
        let htaccess = "\(htdocs)/.htaccess"
        if form == .htaccess {
            try "".write(toFile: include, atomically: true, encoding: .utf8)
            try (rendered.text + (appHtaccess.map { "\n" + $0 } ?? "")).write(toFile: htaccess, atomically: true, encoding: .utf8)
        } else {
            if let appHtaccess {
                try appHtaccess.write(toFile: htaccess, atomically: true, encoding: .utf8)
            } else {
                try? FileManager.default.removeItem(atPath: htaccess)
            }
            try rendered.text.write(toFile: include, atomically: true, encoding: .utf8)
        }
        if !exportIncluded {
            try apache.appendToConfig("Include \"\(include)\"")
            exportIncluded = true
        }
        let apache = apache
        let check = try await offPool { try apache.configTest() }
        #expect(check.status == 0, "\(form): \(check.stderr)\n\(rendered.text)")
        try await offPool { try apache.gracefulReload() }
        return rendered
    }

    /// Sends `target` through Apache as a client would and tells whether it reached the Swift
    /// backend, which must then have received exactly `target` (path and query as sent).
    func reachesSwift(_ target: String, headers: [String: String] = [:]) async throws -> (swift: Bool, answer: RawHTTPResponse) {
        let before = backend.requestTargets.count
        let answer = try await RawHTTP.send(port: apache.port, method: "GET", path: target, headers: headers)
        let received = Array(backend.requestTargets.dropFirst(before))
        if !received.isEmpty { #expect(received == [target], "the backend gets path and query exactly as sent") }
        return (!received.isEmpty, answer)
    }

    func shutdown() async {
        let apache = apache
        _ = try? await offPool { apache.shutdown() }
        await backend.stop()
        docroot.remove()
    }
}

/// PostgreSQL and two Apache nodes serving one crawled docroot, as the fleet suites start them
/// (the nodes' configs and agents are each suite's own).
struct TwoNodeFleet {
    let postgres: PostgresServer
    let live: LiveSite
    let node2: ApacheServer
    var nodes: [ApacheServer] { [live.apache, node2] }
    var ports: [Int] { nodes.map(\.port) }

    static func start(files: [String: String]) async throws -> TwoNodeFleet {
        let postgres = try PostgresServer()
        do {
            try await offPool { try postgres.start() }
            let live = try await LiveSite(files: files, directoryConfig: "")
            do {
                try await live.crawl()
                return TwoNodeFleet(postgres: postgres, live: live, node2: try ApacheServer(docroot: live.htdocs))
            } catch {
                await live.shutdown()
                throw error
            }
        } catch {
            postgres.shutdown()
            throw error
        }
    }

    func shutdown() async {
        node2.shutdown()
        await live.shutdown()
        postgres.shutdown()
    }
}
