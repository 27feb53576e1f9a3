import CutoverCore
import CutoverExport
import Foundation
import Logging
import PostgresNIO

/// Keeps one Apache node's hashed map in step with the published plan (#28): the fleet form.
/// It listens for the publish notification, reads the whole plan in one snapshot and writes the
/// node's `dbm=gdbm:` map under a temporary name and renames it (`HashedMapFile`), so mod_rewrite
/// sees the old plan or the new one and no reload is needed. The map also holds the plan's
/// version (`planKey`), which is how the node says what it serves.
///
/// The database is never on a request's path: when it is down, refuses, never answers or is
/// slow, Apache goes on answering from the last map it has, and the agent retries with a
/// growing delay (up to 30 s). A notification lost with a connection is made up for by the poll.
package struct NodeAgent: Sendable {
    /// The map key holding the plan version. Apache looks up request paths, which start with
    /// `/`, so it never collides with a page.
    package static let planKey = "cutover:plan"

    package var database: FleetDatabase
    package var site: String
    package var node: String
    package var mapPath: String
    /// `.dbm` (a GNU dbm file at `mapPath`) or `.tree` (marker files in the folder `mapPath`),
    /// as the node's export.
    package var form: ExportForm
    /// How often the agent checks the version even without a notification, and reports in.
    package var poll: Duration
    package var logger: Logger

    package init(
        database: FleetDatabase,
        site: String,
        node: String,
        mapPath: String,
        form: ExportForm = .dbm,
        poll: Duration = .seconds(30),
        logger: Logger
    ) {
        self.database = database
        self.site = site
        self.node = node
        self.mapPath = mapPath
        self.form = form
        self.poll = poll
        self.logger = logger
    }

    /// The plan version the node's map holds (nil: no map, or one not written by an agent).
    package static func servedVersion(mapPath: String, form: ExportForm = .dbm) -> Int64? {
        switch form {
        case .tree: MarkerTree.servedVersion(mapPath).flatMap { Int64($0) }
        default: HashedMapFile.value(forKey: planKey, in: mapPath).flatMap { Int64($0) }
        }
    }

    private var servedVersion: Int64? { Self.servedVersion(mapPath: mapPath, form: form) }

    /// Puts `keys` and the plan version in the node's map.
    private func writeMap(keys: [[UInt8]], version: Int64) throws {
        switch form {
        case .tree: try MarkerTree.write(keys: keys, to: mapPath, version: String(version))
        default: try HashedMapFile.write(keys: keys, extra: [(Self.planKey, String(version))], to: mapPath)
        }
    }

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
        if published != served {
            guard let plan = try await table.plan(site: site) else { return served }
            let started = ContinuousClock.now
            try writeMap(keys: plan.keys, version: plan.version)
            logger.info(
                "map \(mapPath) now holds plan version \(plan.version) (\(plan.keys.count) pages), written in \((ContinuousClock.now - started).wholeMilliseconds) ms"
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
