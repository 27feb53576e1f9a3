import ArgumentParser
import CutoverServer
import CutoverStore
import Foundation
import Hummingbird

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the REST API (/api/) and the dashboard (Public/).",
        discussion: """
            Mutating API calls need 'Authorization: Bearer TOKEN' with the token from the CUTOVER_TOKEN \
            environment variable (or --token-file). Without a token the API is read-only, and the server \
            refuses to listen on a non-loopback address; there, reads need the token too. Requests whose \
            Host is not --host, a loopback name or an --allowed-host are refused (421, DNS rebinding). SIGTERM or SIGINT stop it gracefully: running jobs \
            are cancelled and the database stays consistent.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(name: .long, help: "Port to listen on (0 picks a free one).")
    var port = 8080

    @Option(name: .long, help: "File holding the API token (instead of CUTOVER_TOKEN).")
    var tokenFile: String?

    @Flag(name: .long, help: "Require the token for reads too (always on when --host is not a loopback address).")
    var protectReads = false

    @Option(
        name: .customLong("allowed-host"),
        help: "A Host name clients use to reach the server (repeatable). Loopback names and --host are always allowed; other Hosts get 421."
    )
    var allowedHosts: [String] = []

    @Option(
        name: .customLong("log-root"),
        help: "A folder whose regular files the logs job may read (repeatable; default $APACHE_LOG_DIR or /var/log/apache2)."
    )
    var logRoots: [String] = []

    @Option(
        name: .customLong("sse-keep-alive"),
        help: "Seconds between keep-alive comments on a silent job event stream; an abandoned stream ends within one."
    )
    var sseKeepAlive = 15.0

    @Option(
        name: .customLong("log-time-limit"),
        help: "Seconds one logs job may read; it stores what it read and the next run goes on from there."
    )
    var logTimeLimit = 600.0

    @Option(
        name: .customLong("public"),
        help: "Folder of the dashboard files (default: ./Public, else Public beside the binary, ../share/cutover/Public, /usr/share/cutover/Public)."
    )
    var publicDirectory: String?

    @Option(
        name: .customLong("shutdown-limit"),
        help: "Seconds a stop (SIGTERM, SIGINT) may take to finish requests and jobs; past them the process exits with status 1."
    )
    var shutdownLimit = 30.0

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard (0.1...3600).contains(sseKeepAlive) else { throw ValidationError("--sse-keep-alive must be between 0.1 and 3600 seconds") }
        guard (0...86400).contains(logTimeLimit) else { throw ValidationError("--log-time-limit must be between 0 and 86400 seconds") }
        guard (0.1...3600).contains(shutdownLimit) else { throw ValidationError("--shutdown-limit must be between 0.1 and 3600 seconds") }
    }

    func run() async throws {
        let database = try global.openDatabase()
        let dashboard = try dashboardFolder()
        var logger = global.logger("cutover.serve")
        if logger.logLevel > .info { logger.logLevel = .info }
        let token = try readToken()
        for warning in tokenWarnings(token) { logger.warning("\(warning)") }
        if token == nil {
            logger.notice("no API token: the API is read-only. Set CUTOVER_TOKEN=<secret> (or --token-file) to allow changes.")
        }
        let arguments = ServeArguments(
            hostname: host,
            port: port,
            token: token,
            protectReads: protectReads,
            publicDirectory: dashboard,
            allowedHosts: allowedHosts,
            logRoots: logRoots.map(absolutePath),
            eventStreamKeepAlive: .milliseconds(Int64(sseKeepAlive * 1000)),
            logTimeLimit: .milliseconds(Int64(logTimeLimit * 1000))
        )
        let app = try buildApplication(arguments, database: database, logger: logger)
        let watchdog = ShutdownWatchdog(limit: .milliseconds(Int64(shutdownLimit * 1000)), logger: logger)
        try await app.runService()
        withExtendedLifetime(watchdog) {}
    }

    /// The dashboard's folder: the one given, or the first of the usual places that holds an
    /// `index.html`. Refuses to start without one: a server answering 404 for its dashboard
    /// looks broken for no stated reason.
    func dashboardFolder() throws -> String {
        if let publicDirectory {
            let folder = absolutePath(publicDirectory)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw DashboardMissing("--public '\(folder)' is not a folder (the dashboard's files: Public/ of the source tree or package)")
            }
            return folder
        }
        let binary = URL(fileURLWithPath: CommandLine.arguments[0].hasPrefix("/") ? CommandLine.arguments[0] : Bundle.main.executablePath ?? "")
            .resolvingSymlinksInPath().deletingLastPathComponent().path
        let candidates = [
            absolutePath("Public"), "\(binary)/Public", "\(binary)/../share/cutover/Public", "/usr/share/cutover/Public",
        ]
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: "\($0)/index.html") }) else {
            throw DashboardMissing(
                "the dashboard's files are not found (looked for index.html in \(candidates.joined(separator: ", "))): "
                    + "give their folder with --public DIR"
            )
        }
        return (found as NSString).standardizingPath
    }

    /// A token anyone can guess, or a token file others can read, draws a warning at start.
    func tokenWarnings(_ token: String?) -> [String] {
        var warnings: [String] = []
        if let token, token.count < 16 {
            warnings.append(
                "the API token has \(token.count) characters: use at least 16 random ones (e.g. `openssl rand -hex 16`), or anyone who can reach the server may guess it"
            )
        }
        if let tokenFile, let mode = try? FileManager.default.attributesOfItem(atPath: absolutePath(tokenFile))[.posixPermissions] as? Int,
            mode & 0o077 != 0
        {
            warnings.append(
                "the token file '\(tokenFile)' can be read by other users (mode \(String(mode, radix: 8))): chmod 600 it"
            )
        }
        return warnings
    }

    func readToken() throws -> String? {
        if let tokenFile {
            let text = try String(contentsOfFile: absolutePath(tokenFile), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { throw ValidationError("token file '\(tokenFile)' is empty") }
            return text
        }
        let value = ProcessInfo.processInfo.environment["CUTOVER_TOKEN"]?.trimmingCharacters(in: .whitespacesAndNewlines)
        return value?.isEmpty == false ? value : nil
    }
}

struct ServeArguments: ServerArguments {
    var hostname: String
    var port: Int
    var token: String?
    var protectReads: Bool
    var publicDirectory: String
    var allowedHosts: [String]
    var logRoots: [String]
    var eventStreamKeepAlive: Duration
    var logTimeLimit: Duration
}

/// `serve` without its dashboard: said in one line, without the usage text.
struct DashboardMissing: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
