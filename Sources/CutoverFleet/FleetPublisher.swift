import CutoverCore
import CutoverExport
import CutoverStore
import Foundation
import Logging

/// Publishes a site's plan to its fleet's route table and reads the fleet's state back (#28.2,
/// #28.5): the library behind `cutover publish`, the automatic publish after a plan change, and
/// the API's fleet view. Each call opens one connection and closes it.
package struct FleetPublisher: Sendable {
    package let database: AppDatabase
    package let logger: Logger

    package init(database: AppDatabase, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// The connection settings of `fleet` (the password read from its file now).
    package static func settings(_ fleet: FleetSettings, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> FleetDatabase
    {
        try FleetDatabase.parse(url: fleet.databaseURL, environment: environment, passwordFile: fleet.passwordFile)
    }

    /// What a publish did, and the pages that cannot be map keys (they stay rules of the export).
    package struct Outcome: Sendable, Equatable {
        package var published: RouteTable.Published
        package var ruleBoundPages: [String]
        package var duration: Duration
    }

    /// Publishes the site's current plan in one transaction.
    package func publish(site: SiteRecord, to settings: FleetDatabase) async throws -> Outcome {
        let (keys, rules, canaries) = try await database.blocking { try Exporter(database: $0).hashedMapKeys(site: site) }
        let started = ContinuousClock.now
        let connection = try await settings.connect(logger: logger)
        defer { Task { try? await connection.close() } }
        let table = RouteTable(connection: connection, logger: logger, statementTimeout: settings.statementTimeout)
        try await table.createSchema()
        let published = try await table.publish(site: site.name, keys: keys, canaries: canaries)
        return Outcome(published: published, ruleBoundPages: rules, duration: ContinuousClock.now - started)
    }

    /// After a plan change: publishes when the site asks for it. Never throws: the plan change
    /// stands whatever happens to the publish, and the outcome says what did.
    package func publishIfAsked(site: SiteRecord) async -> AutoPublish? {
        guard let fleet = site.fleet, fleet.autoPublish else { return nil }
        do {
            let outcome = try await publish(site: site, to: Self.settings(fleet))
            return .published(outcome)
        } catch {
            let reason = (error as? FleetError)?.description ?? String(describing: error)
            logger.warning("automatic publish failed", metadata: ["site": .string(site.name), "error": .string(reason)])
            return .failed(reason)
        }
    }

    package enum AutoPublish: Sendable, Equatable {
        case published(Outcome)
        case failed(String)
    }

    /// The fleet as its database sees it: the published plan and each node's report. When the
    /// database cannot be reached the nodes keep serving the last plan each has (the fail-safe
    /// state), which is what `reachable == false` says.
    package struct State: Sendable, Equatable {
        package struct Node: Sendable, Equatable {
            package var name: String
            package var version: Int64
            package var pages: Int
            package var appliedAt: Date
            package var seenAt: Date
            /// It serves the published version.
            package var current: Bool
            /// From the publish of the version it serves to its map written: the flip latency
            /// (nil unless it serves the published version).
            package var flipLatency: Duration?
        }
        package var database: String
        package var reachable: Bool
        package var error: String?
        package var version: Int64?
        package var pages: Int?
        package var publishedAt: Date?
        package var nodes: [Node]
    }

    /// Reads the fleet's state; an unreachable or failing database is a state, not an error.
    package func state(site: SiteRecord, settings: FleetDatabase) async -> State {
        var state = State(database: settings.description, reachable: false, nodes: [])
        do {
            let connection = try await settings.connect(logger: logger)
            defer { Task { try? await connection.close() } }
            let table = RouteTable(connection: connection, logger: logger, statementTimeout: settings.statementTimeout)
            try await table.createSchema()
            let published = try await table.published(site: site.name)
            state.reachable = true
            (state.version, state.pages, state.publishedAt) = (published?.version, published?.pages, published?.at)
            state.nodes = try await table.nodes(site: site.name).map { node in
                let current = node.version == published?.version
                let latency = current ? published.map { Duration.seconds(node.appliedAt.timeIntervalSince($0.at)) } : nil
                return State.Node(
                    name: node.node,
                    version: node.version,
                    pages: node.pages,
                    appliedAt: node.appliedAt,
                    seenAt: node.seenAt,
                    current: current,
                    // A node that already held the plan (an unchanged publish) wrote nothing.
                    flipLatency: latency.map { max($0, .zero) }
                )
            }
        } catch {
            state.reachable = false
            state.error = (error as? FleetError)?.description ?? String(describing: error)
        }
        return state
    }
}
