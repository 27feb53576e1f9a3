import CutoverCore
import Foundation
import GRDB

/// How one node answered in a probe run (#28.4): the site's `nodes`, each asked directly with the
/// site's `Host`, so a node the load balancer hides from the public URL is seen too.
package struct NodeSummary: Sendable, Hashable {
    /// The node's base URL as the site lists it.
    package var node: String
    package var urlCount: Int
    /// URLs it answers otherwise than the plan expects.
    package var driftedURLs: Int
    package var errorCount: Int
    /// The export most of its answers carried (`X-Cutover-Export`), nil when none carried one.
    package var exportID: Int64?
    /// The export most nodes serve, when this node serves another: a node that missed a reload.
    package var expectedExportID: Int64?
    /// A few of its drifted URLs, by path.
    package var drifted: [NodeDrift]

    /// Node drift this node counts for: each drifted URL, and one for serving another export.
    package var driftCount: Int { driftedURLs + (expectedExportID == nil ? 0 : 1) }

    /// One line a person reads: "node 10.0.0.3:80 serves export 41, the others 42".
    package var problems: [String] {
        let label = SiteNodes.label(node)
        var lines: [String] = []
        if let expected = expectedExportID {
            lines.append("node \(label) serves export \(exportID.map(String.init) ?? "none"), the others \(expected)")
        }
        for item in drifted {
            lines.append("node \(label) still serves \(item.observedOwner.rawValue) for \(item.path) (expected \(item.expectedOwner.rawValue))")
        }
        if driftedURLs > drifted.count { lines.append("node \(label): \(driftedURLs - drifted.count) more URLs drifted") }
        return lines
    }
}

/// A URL a node answers otherwise than the plan expects.
package struct NodeDrift: Sendable, Hashable {
    package var path: String
    package var expectedOwner: Owner
    package var observedOwner: Owner
    package var status: Int?
}

extension ProbeStore {
    /// Drifted URLs listed per node in a summary.
    package static let nodeDriftShown = 20

    static func saveNodeResults(_ db: Database, runID: Int64, _ outcomes: [ProbeOutcome]) throws {
        guard outcomes.contains(where: { !$0.nodes.isEmpty }) else { return }
        let insert = try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO probe_node_results (run_id, url_id, node, status, observed_owner, export_id, error_kind, drift)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        for outcome in outcomes {
            for node in outcome.nodes {
                let seen = node.observation
                try insert.execute(arguments: [
                    runID, outcome.target.urlID, node.node, seen.status, seen.observedOwner, seen.exportID, seen.errorKind, node.drift,
                ])
            }
        }
    }

    /// Each node's answers in run `runID`, in the order the site lists its nodes when `order`
    /// is given (by URL otherwise).
    package func nodeSummaries(runID: Int64, order: [String] = []) async throws -> [NodeSummary] {
        try await writer.read { db in try ProbeStore.nodeSummaries(db, runID: runID, order: order) }
    }

    /// The site's nodes as its latest finished probe saw them (empty when it lists none).
    static func latestNodeSummaries(_ db: Database, site: SiteRecord) throws -> [NodeSummary] {
        guard !site.nodes.isEmpty,
            let finished = try Int64.fetchOne(
                db,
                sql: "SELECT id FROM probe_runs WHERE site_id = ? AND status = 'succeeded' ORDER BY id DESC LIMIT 1",
                arguments: [site.id]
            )
        else { return [] }
        return try nodeSummaries(db, runID: finished, order: site.nodes)
    }

    static func nodeSummaries(_ db: Database, runID: Int64, order: [String] = []) throws -> [NodeSummary] {
        var summaries = try Row.fetchAll(
            db,
            sql: """
                SELECT node, count(*) AS urls, ifnull(sum(drift), 0) AS drift, ifnull(sum(error_kind IS NOT NULL), 0) AS errors
                FROM probe_node_results WHERE run_id = ? GROUP BY node ORDER BY node
                """,
            arguments: [runID]
        )
        .map { row in
            NodeSummary(node: row["node"], urlCount: row["urls"], driftedURLs: row["drift"], errorCount: row["errors"], drifted: [])
        }
        guard !summaries.isEmpty else { return [] }
        // Each node's export: the one most of its answers carried (the newest of a tie).
        let exports = try Row.fetchAll(
            db,
            sql: """
                SELECT node, export_id, count(*) AS answers FROM probe_node_results
                WHERE run_id = ? AND export_id IS NOT NULL GROUP BY node, export_id ORDER BY node, answers DESC, export_id DESC
                """,
            arguments: [runID]
        )
        var served: [String: Int64] = [:]
        for row in exports where served[row["node"]] == nil { served[row["node"]] = row["export_id"] }
        // The export most nodes serve (the newest of a tie): a node serving another missed a change.
        let tally = Dictionary(grouping: served.values, by: { $0 }).mapValues(\.count)
        let common = tally.max { ($0.value, $0.key) < ($1.value, $1.key) }?.key
        for index in summaries.indices {
            let node = summaries[index].node
            summaries[index].exportID = served[node]
            if let common, served.count > 1, served[node] != common { summaries[index].expectedExportID = common }
            summaries[index].drifted = try Row.fetchAll(
                db,
                sql: """
                    SELECT u.path, r.status, r.observed_owner, ifnull(p.expected_owner, u.owner) AS expected_owner
                    FROM probe_node_results r JOIN urls u ON u.id = r.url_id
                    LEFT JOIN probe_results p ON p.run_id = r.run_id AND p.url_id = r.url_id
                    WHERE r.run_id = ? AND r.node = ? AND r.drift = 1 AND r.observed_owner IS NOT NULL ORDER BY u.path LIMIT ?
                    """,
                arguments: [runID, node, nodeDriftShown]
            )
            .map { row in
                NodeDrift(path: row["path"], expectedOwner: row["expected_owner"], observedOwner: row["observed_owner"], status: row["status"])
            }
        }
        let rank = Dictionary(order.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        return summaries.sorted { (rank[$0.node] ?? Int.max, $0.node) < (rank[$1.node] ?? Int.max, $1.node) }
    }
}
