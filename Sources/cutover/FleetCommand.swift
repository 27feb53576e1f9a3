import ArgumentParser
import CutoverCore
import CutoverExport
import CutoverFleet
import Foundation
import Logging

/// Where the fleet's PostgreSQL is: a URL or the PG* environment, the password from a file.
struct FleetDatabaseOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url"),
        help:
            "PostgreSQL holding the fleet's route table: postgres://USER@HOST:PORT/DATABASE[?sslmode=disable|require|verify-full&connect_timeout=S&statement_timeout=S] (default: the PG* environment). Never a password here."
    )
    var url: String?

    @Option(name: .long, help: "File whose first line is the database password (default: $PGPASSWORD_FILE).")
    var passwordFile: String?

    /// The options' settings; without `--database-url` and `--password-file`, the site's fleet
    /// settings when it has them, else the PG* environment.
    func settings(site: FleetSettings? = nil) throws -> FleetDatabase {
        do {
            if url == nil, passwordFile == nil, let site { return try FleetPublisher.settings(site) }
            return try FleetDatabase.parse(url: url, environment: ProcessInfo.processInfo.environment, passwordFile: passwordFile.map(absolutePath))
        } catch let error as FleetError {
            throw ValidationError(error.description)
        }
    }
}

struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish the site's plan to PostgreSQL, where every node's agent picks it up (several Apache nodes).",
        discussion: """
            One transaction: the flipped pages' map keys and a new plan version; the agents ('cutover node-agent') are \
            notified on commit and bring their node's flips to it (the tree form's marker files, or the dbm form's map \
            written atomically), so every node flips without a reload. Pages that cannot be map keys (query-identified \
            pages, very long paths) stay rules of the export: re-export and reload for those. Without --database-url \
            and --password-file, the site's fleet settings ('cutover site set --fleet-database-url'), else the PG* \
            environment; a site whose fleet says so is published after each flip by itself. With --nodes, lists what \
            each node serves and how long after the publish its flips were written (exit 3 when a node is behind).
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var siteOptions: SiteOptions
    @OptionGroup var fleet: FleetDatabaseOptions

    @Flag(name: .long, help: "List the nodes' plan versions instead of publishing.")
    var nodes = false

    func run() async throws {
        let database = try global.openDatabase(readOnly: nodes)
        let site = try await siteOptions.resolve(in: database)
        let settings = try fleet.settings(site: site.fleet)
        let logger = global.logger()
        let connection = try await settings.connect(logger: logger)
        let table = RouteTable(connection: connection, logger: logger, statementTimeout: settings.statementTimeout)
        defer { Task { try? await connection.close() } }
        // Before the first publish the tables may not exist yet: listing then says "none".
        try await table.createSchema()
        if nodes {
            try await listNodes(table, site: site.settings.name)
            return
        }
        let (keys, rules, canaries) = try await database.blocking { try Exporter(database: $0).hashedMapKeys(site: site) }
        let started = ContinuousClock.now
        let published = try await table.publish(site: site.settings.name, keys: keys, canaries: canaries)
        let elapsed = ContinuousClock.now - started
        if global.json {
            try Output.json(
                PublishSummary(
                    published,
                    rules: rules,
                    milliseconds: elapsed.wholeMilliseconds
                )
            )
            return
        }
        if published.changed {
            print(
                "published plan version \(published.version) of site '\(site.settings.name)': \(published.pages) pages in the map (+\(published.added) -\(published.removed))"
                    + (published.canaries > 0 ? ", \(published.canaries) running canaries" : "") + " in \(elapsed)"
            )
        } else {
            print("plan version \(published.version) of site '\(site.settings.name)' is already published (\(published.pages) pages)")
        }
        if !rules.isEmpty {
            print(
                "\(rules.count) flipped pages cannot be map keys and stay rules of the dbm export (re-export and reload): \(rules.prefix(5).joined(separator: " "))"
            )
        }
    }

    private func listNodes(_ table: RouteTable, site: String) async throws {
        let published = try await table.published(site: site)
        let nodes = try await table.nodes(site: site)
        let behind = nodes.filter { $0.version != published?.version }
        /// From the publish of the version a node serves to its map written.
        func latency(_ node: RouteTable.NodeState) -> Int64? {
            guard let published, node.version == published.version else { return nil }
            return max(0, Int64((node.appliedAt.timeIntervalSince(published.at) * 1000).rounded()))
        }
        if global.json {
            try Output.json(
                NodesSummary(
                    published: published?.version,
                    publishedAt: published?.at,
                    nodes: nodes.map { .init($0, current: $0.version == published?.version, flipLatencyMs: latency($0)) }
                )
            )
        } else {
            let when = published.map { " at \(Output.date($0.at))" } ?? ""
            print("site '\(site)': published plan version \(published.map { String($0.version) } ?? "none")\(when)")
            for node in nodes {
                let state = node.version == published?.version ? "current" : "BEHIND"
                let flip = latency(node).map { ", \($0) ms after the publish" } ?? ""
                print(
                    "  \(node.node): plan version \(node.version) (\(node.pages) pages), \(state); map written \(Output.date(node.appliedAt))\(flip), last seen \(Output.date(node.seenAt))"
                )
            }
            if nodes.isEmpty { print("  no node agent has reported yet") }
        }
        if !behind.isEmpty { throw ExitCode(3) }
    }
}

struct PublishSummary: Encodable {
    var version: Int64
    var changed: Bool
    var pages: Int
    var added: Int
    var removed: Int
    /// Running canaries published with the plan.
    var canaries: Int
    var ruleBoundPages: [String]
    var milliseconds: Int64

    init(_ published: RouteTable.Published, rules: [String], milliseconds: Int64) {
        (version, changed, pages, added, removed) = (published.version, published.changed, published.pages, published.added, published.removed)
        canaries = published.canaries
        ruleBoundPages = rules
        self.milliseconds = milliseconds
    }
}

struct NodesSummary: Encodable {
    struct Node: Encodable {
        var node: String
        var version: Int64
        var pages: Int
        var current: Bool
        var appliedAt: Date
        var seenAt: Date
        /// From the publish of the version it serves to its map written (only when current).
        var flipLatencyMs: Int64?

        init(_ state: RouteTable.NodeState, current: Bool, flipLatencyMs: Int64?) {
            (node, version, pages, appliedAt, seenAt) = (state.node, state.version, state.pages, state.appliedAt, state.seenAt)
            self.current = current
            self.flipLatencyMs = flipLatencyMs
        }
    }

    var published: Int64?
    var publishedAt: Date?
    var nodes: [Node]
}

struct NodeAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node-agent",
        abstract: "Keep this node's flips (tree folder or dbm map) in step with the plan published to PostgreSQL (runs until stopped).",
        discussion: """
            Run one per Apache node, as a user that may write the map's folder, with the dbm export installed \
            ('cutover export --form dbm --map-file PATH'). The agent listens for 'cutover publish', writes the new map \
            under a temporary name and renames it: Apache flips on the next request, no reload. When the database is \
            down Apache keeps the last map and the agent retries. Needs no Cutover database on the node.
            """
    )

    @OptionGroup var fleet: FleetDatabaseOptions

    @Option(name: .long, help: "The site's name, as in 'cutover site list' where it was published.")
    var site: String

    @Option(name: .long, help: "The map file (dbm) or folder (tree) named in this node's export.")
    var mapFile: String

    @Option(name: .long, help: "dbm (a GNU dbm file) or tree (a folder of marker files), as this node's export.")
    var form: ExportForm = .dbm

    @Option(name: .long, help: "This node's name in reports (default: the host name).")
    var node: String = ProcessInfo.processInfo.hostName

    @Option(name: .long, help: "Seconds between checks without a notification (and reports).")
    var poll: Double = 30

    @Option(name: .long, help: "Log level (trace, debug, info, notice, warning, error, critical).")
    var logLevel: Logger.Level = .info

    func validate() throws {
        guard poll >= 0.05, poll <= 3600 else { throw ValidationError("--poll must be between 0.05 and 3600 seconds") }
        guard !site.isEmpty, !node.isEmpty else { throw ValidationError("--site and --node must not be empty") }
        guard nodeFlips(form: form, path: mapFile) != nil else {
            throw ValidationError("--form must be dbm or tree: the agent writes a dbm file or a marker folder")
        }
    }

    func run() async throws {
        var logger = Logger(label: "cutover.node-agent") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = logLevel
        guard let flips = nodeFlips(form: form, path: absolutePath(mapFile)) else { throw ValidationError("--form must be dbm or tree") }
        let agent = NodeAgent(
            database: try fleet.settings(),
            site: site,
            node: node,
            flips: flips,
            poll: .milliseconds(Int64(poll * 1000)),
            logger: logger
        )
        await agent.run()
    }
}
