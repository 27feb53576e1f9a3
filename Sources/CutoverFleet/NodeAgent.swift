import CutoverCore
import CutoverExport
import Foundation
import Logging
import PostgresNIO

/// Keeps one Apache node's flips in step with the published plan (#28): the fleet form.
/// It listens for the publish notification, reads the whole plan in one snapshot and writes the
/// node's flips (`NodeFlips`: the tree form's marker files, or the dbm form's map written under a
/// temporary name and renamed), so mod_rewrite sees each page's old owner or its new one and no
/// reload is needed. The running canaries' weights go beside them (`CanaryTree`), after the flips
/// (a promoted canary's pages are flipped before they leave it). The flips and the canaries keep
/// the plan's version, which is how the node says what it serves.
///
/// The database is never on a request's path: when it is down, refuses, never answers or is
/// slow, Apache goes on answering from the last map it has, and the agent retries with a
/// growing delay (up to 30 s). A notification lost with a connection is made up for by the poll.
package struct NodeAgent: Sendable {
    package var database: FleetDatabase
    package var site: String
    package var node: String
    /// The node's flips: a dbm file or a marker folder, as its export reads them.
    package var flips: any NodeFlips
    package var mapPath: String { flips.path }
    /// How often the agent checks the version even without a notification, and reports in.
    package var poll: Duration
    package var logger: Logger

    package init(
        database: FleetDatabase,
        site: String,
        node: String,
        flips: any NodeFlips,
        poll: Duration = .seconds(30),
        logger: Logger
    ) {
        self.database = database
        self.site = site
        self.node = node
        self.flips = flips
        self.poll = poll
        self.logger = logger
    }

    /// The plan version the node's flips of `form` at `mapPath` are from (nil: none there, one
    /// not written by an agent, or a form no agent keeps).
    package static func servedVersion(mapPath: String, form: ExportForm = .dbm) -> Int64? {
        nodeFlips(form: form, path: mapPath)?.servedVersion()
    }

    private var servedVersion: Int64? { flips.servedVersion() }

    private func writeMap(keys: [[UInt8]], version: Int64) throws { try flips.write(keys: keys, version: version) }

    /// Runs until the task is cancelled; never gives up on the database.
    package func run() async {
        if !FileManager.default.fileExists(atPath: mapPath) {
            // Apache's lookups need a map to open: an empty one sends every page to PHP.
            do {
                try writeMap(keys: [], version: 0)
            } catch {
                logger.error("cannot write the empty map \(mapPath): \(error)")
            }
        }
        var delay = Duration.milliseconds(250)
        while !Task.isCancelled {
            do {
                let connection = try await database.connect(logger: logger)
                delay = .milliseconds(250)
                logger.info("connected to \(database); listening for plans of site '\(site)'")
                do {
                    try await follow(connection)
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                if Task.isCancelled { break }
                let served = servedVersion.map(String.init) ?? "none"
                logger.warning("\(error); Apache keeps serving plan version \(served) from \(mapPath); retrying in \(delay.wholeMilliseconds) ms")
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(30))
            }
        }
    }

    /// Listens on `connection` and syncs on each notification and each poll, until the
    /// connection fails (the error is thrown) or the task is cancelled.
    private func follow(_ connection: PostgresConnection) async throws {
        let table = RouteTable(connection: connection, logger: logger, statementTimeout: database.statementTimeout)
        let (wakes, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let (site, poll) = (site, poll)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await connection.listen(on: RouteTable.channel) { notifications in
                    wake.yield()  // listening from here on: no publish can fall between the first sync and the LISTEN
                    for try await notification in notifications where notification.payload == site { wake.yield() }
                }
                throw FleetError.query("listen for plans", "the connection closed")
            }
            group.addTask {
                while true {
                    try await Task.sleep(for: poll)
                    wake.yield()
                }
            }
            group.addTask {
                for await _ in wakes { try await sync(table) }
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Brings the map to the published version if it differs, and reports the node's version.
    /// Returns the version the map holds afterwards (nil: nothing published yet).
    @discardableResult
    package func sync(_ table: RouteTable) async throws -> Int64? {
        let served = servedVersion
        guard let published = try await table.version(site: site) else {
            logger.info("site '\(site)' has no published plan yet; the map stays as it is")
            return served
        }
        var applied = false
        var pages = 0
        // The canaries are written after the flips: a version there too says both are.
        if published != served || published != CanaryTree.servedVersion(mapPath).flatMap({ Int64($0) }) {
            guard let plan = try await table.plan(site: site) else { return served }
            let started = ContinuousClock.now
            try writeMap(keys: plan.keys, version: plan.version)
            try CanaryTree.write(plan.canaries, mapFilePath: mapPath, version: String(plan.version))
            let canaries = plan.canaries.map { "\($0.name) \($0.weight) %" }.joined(separator: ", ")
            logger.info(
                "map \(mapPath) now holds plan version \(plan.version) (\(plan.keys.count) pages\(canaries.isEmpty ? "" : "; canaries \(canaries)")), written in \((ContinuousClock.now - started).wholeMilliseconds) ms"
            )
            applied = true
            pages = plan.keys.count
        }
        let version = applied ? servedVersion ?? published : published
        do {
            try await table.report(site: site, node: node, version: version, pages: pages, applied: applied)
        } catch {
            // The map is right; a role that may only read the plan cannot report, and that must not stop it.
            logger.warning("could not report node '\(node)': \(error)")
        }
        return version
    }
}
