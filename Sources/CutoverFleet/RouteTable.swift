import CutoverExport
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The fleet's route table in PostgreSQL (#28): per site, the keys of the dbm map (the flipped
/// pages, exactly as `RewriteMapForm` keys them), the running canaries (#29: name, weight, their
/// pages' keys) and a plan version. A publish is one
/// transaction and ends with a `NOTIFY`, which PostgreSQL delivers only on commit: an agent
/// reads a whole plan or none of it, and hears of it at once.
package struct RouteTable: Sendable {
    /// The `LISTEN` channel; the payload is the site's name.
    package static let channel = "cutover_plan"

    /// Created by the first publish (`IF NOT EXISTS`, so concurrent first publishes agree).
    /// Keys are `bytea`: a URL path is bytes, and only Cutover's agent reads them.
    package static let schema = [
        """
        CREATE TABLE IF NOT EXISTS cutover_plan (
            site text PRIMARY KEY, version bigint NOT NULL, pages integer NOT NULL, published_at timestamptz NOT NULL DEFAULT now())
        """,
        """
        CREATE TABLE IF NOT EXISTS cutover_route (
            site text NOT NULL REFERENCES cutover_plan (site) ON DELETE CASCADE, key bytea NOT NULL, PRIMARY KEY (site, key))
        """,
        """
        CREATE TABLE IF NOT EXISTS cutover_canary (
            site text NOT NULL REFERENCES cutover_plan (site) ON DELETE CASCADE, name text NOT NULL, weight integer NOT NULL,
            PRIMARY KEY (site, name))
        """,
        """
        CREATE TABLE IF NOT EXISTS cutover_canary_page (
            site text NOT NULL, name text NOT NULL, key bytea NOT NULL, PRIMARY KEY (site, key),
            FOREIGN KEY (site, name) REFERENCES cutover_canary (site, name) ON DELETE CASCADE)
        """,
        """
        CREATE TABLE IF NOT EXISTS cutover_node (
            site text NOT NULL, node text NOT NULL, version bigint NOT NULL, pages integer NOT NULL,
            applied_at timestamptz NOT NULL, seen_at timestamptz NOT NULL, PRIMARY KEY (site, node))
        """,
    ]

    let connection: PostgresConnection
    let logger: Logger
    let statementTimeout: Duration

    package init(connection: PostgresConnection, logger: Logger, statementTimeout: Duration = .seconds(10)) {
        self.connection = connection
        self.logger = logger
        self.statementTimeout = statementTimeout
    }

    package func createSchema() async throws {
        for statement in Self.schema {
            try await run("create the route table") { connection, logger in
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
        }
    }

    /// What a publish did.
    package struct Published: Sendable, Equatable {
        package var version: Int64
        package var pages: Int
        package var added: Int
        package var removed: Int
        /// False when the table already held exactly these keys and canaries: the version stays,
        /// no node is woken.
        package var changed: Bool
        /// The running canaries published with the plan.
        package var canaries: Int = 0

        package init(version: Int64, pages: Int, added: Int, removed: Int, changed: Bool, canaries: Int = 0) {
            (self.version, self.pages, self.added, self.removed, self.changed) = (version, pages, added, removed, changed)
            self.canaries = canaries
        }
    }

    /// Makes `keys` and `canaries` the site's published plan in one transaction: removes the keys
    /// that went, adds the new ones, replaces the canaries when they differ, bumps the version
    /// and notifies the agents; changes nothing when both are the same. Concurrent publishes of
    /// one site queue on the plan row.
    package func publish(site: String, keys: [[UInt8]], canaries: [CanaryTree.Canary] = []) async throws -> Published {
        let buffers = keys.map { ByteBuffer(bytes: $0) }
        let canaries = canaries.sorted { $0.name < $1.name }.map {
            CanaryTree.Canary(name: $0.name, weight: $0.weight, keys: $0.keys.sorted { $0.lexicographicallyPrecedes($1) })
        }
        return try await run("publish the plan of site '\(site)'") { connection, logger in
            try await connection.withTransaction(logger: logger) { connection in
                try await connection.query(
                    "INSERT INTO cutover_plan (site, version, pages) VALUES (\(site), 0, 0) ON CONFLICT (site) DO NOTHING",
                    logger: logger
                )
                var version: Int64 = 0
                for try await current in try await connection.query(
                    "SELECT version FROM cutover_plan WHERE site = \(site) FOR UPDATE",
                    logger: logger
                ).decode(Int64.self) { version = current }
                var removed = 0
                for try await count in try await connection.query(
                    """
                    WITH gone AS (DELETE FROM cutover_route WHERE site = \(site)
                        AND key NOT IN (SELECT unnest(\(buffers)::bytea[])) RETURNING 1)
                    SELECT count(*) FROM gone
                    """,
                    logger: logger
                ).decode(Int64.self) { removed = Int(count) }
                var added = 0
                for try await count in try await connection.query(
                    """
                    WITH new AS (INSERT INTO cutover_route (site, key) SELECT \(site), k FROM unnest(\(buffers)::bytea[]) AS k
                        ON CONFLICT DO NOTHING RETURNING 1)
                    SELECT count(*) FROM new
                    """,
                    logger: logger
                ).decode(Int64.self) { added = Int(count) }
                let canariesChanged = try await Self.canaries(site: site, connection: connection, logger: logger) != canaries
                if canariesChanged {
                    try await connection.query("DELETE FROM cutover_canary WHERE site = \(site)", logger: logger)
                    let (names, weights) = (canaries.map(\.name), canaries.map { Int64($0.weight) })
                    try await connection.query(
                        "INSERT INTO cutover_canary (site, name, weight) SELECT \(site), n, w FROM unnest(\(names)::text[], \(weights)::bigint[]) AS t(n, w)",
                        logger: logger
                    )
                    let pageNames = canaries.flatMap { canary in canary.keys.map { _ in canary.name } }
                    let pageKeys = canaries.flatMap { $0.keys.map { ByteBuffer(bytes: $0) } }
                    try await connection.query(
                        """
                        INSERT INTO cutover_canary_page (site, name, key)
                        SELECT \(site), n, k FROM unnest(\(pageNames)::text[], \(pageKeys)::bytea[]) AS t(n, k)
                        """,
                        logger: logger
                    )
                }
                let pages = Set(keys).count
                guard added > 0 || removed > 0 || canariesChanged || version == 0 else {
                    return Published(version: version, pages: pages, added: 0, removed: 0, changed: false, canaries: canaries.count)
                }
                for try await next in try await connection.query(
                    "UPDATE cutover_plan SET version = version + 1, pages = \(pages), published_at = now() WHERE site = \(site) RETURNING version",
                    logger: logger
                ).decode(Int64.self) { version = next }
                try await connection.query("SELECT pg_notify(\(Self.channel), \(site))", logger: logger)
                return Published(version: version, pages: pages, added: added, removed: removed, changed: true, canaries: canaries.count)
            }
        }
    }

    /// The site's published canaries, by name, each page's keys sorted.
    private static func canaries(site: String, connection: PostgresConnection, logger: Logger) async throws -> [CanaryTree.Canary] {
        var canaries: [String: CanaryTree.Canary] = [:]
        for try await (name, weight) in try await connection.query(
            "SELECT name, weight FROM cutover_canary WHERE site = \(site)",
            logger: logger
        ).decode((String, Int32).self) { canaries[name] = CanaryTree.Canary(name: name, weight: Int(weight), keys: []) }
        for try await (name, key) in try await connection.query(
            "SELECT name, key FROM cutover_canary_page WHERE site = \(site)",
            logger: logger
        ).decode((String, ByteBuffer).self) { canaries[name]?.keys.append(Array(key.readableBytesView)) }
        return canaries.values.sorted { $0.name < $1.name }.map {
            CanaryTree.Canary(name: $0.name, weight: $0.weight, keys: $0.keys.sorted { $0.lexicographicallyPrecedes($1) })
        }
    }

    /// A site's published plan, read in one snapshot (its version and its keys agree).
    package struct Plan: Sendable, Equatable {
        package var version: Int64
        package var keys: [[UInt8]]
        package var canaries: [CanaryTree.Canary] = []

        package init(version: Int64, keys: [[UInt8]], canaries: [CanaryTree.Canary] = []) {
            (self.version, self.keys, self.canaries) = (version, keys, canaries)
        }
    }

    /// The version of the site's published plan (nil: never published).
    package func version(site: String) async throws -> Int64? {
        try await run("read the plan version of site '\(site)'") { connection, logger in
            var version: Int64?
            for try await current in try await connection.query(
                "SELECT version FROM cutover_plan WHERE site = \(site)",
                logger: logger
            ).decode(Int64.self) { version = current }
            return version
        }
    }

    /// The version of the site's published plan, its page count and when it was published (nil:
    /// never published).
    package func published(site: String) async throws -> (version: Int64, pages: Int, at: Date)? {
        try await run("read the plan version of site '\(site)'") { connection, logger in
            var found: (Int64, Int, Date)?
            for try await (version, pages, at) in try await connection.query(
                "SELECT version, pages, published_at FROM cutover_plan WHERE site = \(site)",
                logger: logger
            ).decode((Int64, Int32, Date).self) { found = (version, Int(pages), at) }
            return found
        }
    }

    /// The site's published plan (nil: never published).
    package func plan(site: String) async throws -> Plan? {
        try await run("read the plan of site '\(site)'") { connection, logger in
            try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            do {
                var version: Int64?
                for try await current in try await connection.query(
                    "SELECT version FROM cutover_plan WHERE site = \(site)",
                    logger: logger
                ).decode(Int64.self) { version = current }
                var keys: [[UInt8]] = []
                var canaries: [CanaryTree.Canary] = []
                if version != nil {
                    for try await key in try await connection.query(
                        "SELECT key FROM cutover_route WHERE site = \(site)",
                        logger: logger
                    ).decode(ByteBuffer.self) { keys.append(Array(key.readableBytesView)) }
                    canaries = try await Self.canaries(site: site, connection: connection, logger: logger)
                }
                try await connection.query("COMMIT", logger: logger)
                return version.map { Plan(version: $0, keys: keys, canaries: canaries) }
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// One node's report: the plan version its map holds, and when its agent last checked in.
    package struct NodeState: Sendable, Equatable {
        package var node: String
        package var version: Int64
        package var pages: Int
        package var appliedAt: Date
        package var seenAt: Date
    }

    /// Records that `node` serves `version` (`applied`: its map was just written).
    package func report(site: String, node: String, version: Int64, pages: Int, applied: Bool) async throws {
        try await run("report node '\(node)'") { connection, logger in
            try await connection.query(
                """
                INSERT INTO cutover_node (site, node, version, pages, applied_at, seen_at) VALUES (\(site), \(node), \(version), \(pages), now(), now())
                ON CONFLICT (site, node) DO UPDATE SET version = excluded.version, seen_at = now(),
                    pages = CASE WHEN \(applied) THEN excluded.pages ELSE cutover_node.pages END,
                    applied_at = CASE WHEN \(applied) THEN now() ELSE cutover_node.applied_at END
                """,
                logger: logger
            )
        }
    }

    /// Every node that has reported for `site`, by name.
    package func nodes(site: String) async throws -> [NodeState] {
        try await run("read the nodes of site '\(site)'") { connection, logger in
            var nodes: [NodeState] = []
            for try await (node, version, pages, applied, seen) in try await connection.query(
                "SELECT node, version, pages, applied_at, seen_at FROM cutover_node WHERE site = \(site) ORDER BY node",
                logger: logger
            ).decode((String, Int64, Int32, Date, Date).self) {
                nodes.append(NodeState(node: node, version: version, pages: Int(pages), appliedAt: applied, seenAt: seen))
            }
            return nodes
        }
    }

    /// Runs one step with the client-side deadline, naming the step in the error.
    @discardableResult
    private func run<T: Sendable>(
        _ what: String,
        _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T
    ) async throws -> T {
        let (connection, logger) = (connection, logger)
        do {
            return try await FleetDeadline.within(statementTimeout, what: what) { try await body(connection, logger) }
        } catch let error as FleetError {
            throw error
        } catch let error as PSQLError {
            throw FleetError.query(what, error.serverInfo?[.message] ?? String(describing: error.code))
        } catch {
            throw FleetError.query(what, String(describing: error))
        }
    }
}
