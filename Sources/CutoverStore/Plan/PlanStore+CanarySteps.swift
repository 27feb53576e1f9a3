import CutoverCore
import Foundation
import GRDB

/// One weight a canary ran at.
package struct CanaryStep: Sendable, Hashable {
    package var weight: Int
    package var startedAt: Date
    /// Nil while it is the current step.
    package var endedAt: Date?
}

/// One analysis or a person's change of a canary, as recorded.
package struct CanaryDecision: Sendable, Hashable {
    package enum Kind: String, Sendable, Hashable, Codable, DatabaseValueConvertible {
        /// The step passed: the next weight (or promotion past the last).
        case promote
        /// Swift did worse than PHP: weight 0, every visitor back on PHP.
        case rollback
        /// Too little traffic yet.
        case wait
        /// Staying at this weight (a parity difference, too little traffic for too long, paused,
        /// or no analysis for two intervals).
        case hold
        /// A person's weight, promotion or abort.
        case manual
    }

    package var weight: Int
    package var at: Date
    package var decision: Kind
    package var reason: String
    /// Both sides' figures the decision rests on (nil for a person's change).
    package var figures: CanaryFigures?
    package var actor: String
}

/// The figures of one analysis, as stored and shown.
package struct CanaryFigures: Sendable, Hashable, Codable {
    package var swiftRequests: Int
    package var swiftErrors: Int
    package var phpRequests: Int
    package var phpErrors: Int
    /// 50th/95th/99th percentiles in milliseconds, interpolated (nil without durations).
    package var swiftP50: Double?
    package var swiftP95: Double?
    package var swiftP99: Double?
    package var phpP50: Double?
    package var phpP95: Double?
    package var phpP99: Double?
    package var latencyP: Double?

    package init(_ analysis: CanaryAnalysis) {
        swiftRequests = analysis.swift.requests
        swiftErrors = analysis.swift.errors
        phpRequests = analysis.php.requests
        phpErrors = analysis.php.errors
        func ms(_ q: Double, _ side: CanarySide) -> Double? {
            side.latency.total == 0 ? nil : (CanaryAnalysis.quantile(q, of: side.latency) / 10).rounded() / 100
        }
        swiftP50 = ms(0.5, analysis.swift)
        swiftP95 = ms(0.95, analysis.swift)
        swiftP99 = ms(0.99, analysis.swift)
        phpP50 = ms(0.5, analysis.php)
        phpP95 = ms(0.95, analysis.php)
        phpP99 = ms(0.99, analysis.php)
        latencyP = analysis.latencyP
    }
}

extension PlanStore {
    /// The pages of the site's running canaries, and the earliest start of their current steps:
    /// what the log import counts per minute.
    @available(*, noasync)
    package func canaryPages(siteID: SiteID) throws -> CanaryPages {
        try writer.read { db in
            let paths = try String.fetchAll(
                db,
                sql: """
                    SELECT u.path FROM canaries c JOIN canary_pages p ON p.canary_id = c.id JOIN urls u ON u.id = p.url_id
                    WHERE c.site_id = ? AND c.state = 'running' AND u.gone = 0
                    """,
                arguments: [siteID]
            )
            let since = try Date.fetchOne(
                db,
                sql: """
                    SELECT min(s.started_at) FROM canary_steps s JOIN canaries c ON c.id = s.canary_id
                    WHERE c.site_id = ? AND c.state = 'running' AND s.ended_at IS NULL
                    """,
                arguments: [siteID]
            )
            return CanaryPages(paths: Set(paths), since: since.map { Int($0.timeIntervalSince1970) } ?? 0)
        }
    }

    /// What each side answered for the canary's pages since `start`: from the minute it began
    /// (lines of that minute before it are skipped when they are imported after the change; a
    /// log imported late may add a few seconds of the previous weight, whose sides are the same
    /// code).
    package func canaryWindow(canaryID: Int64, since start: Date) async throws -> (swift: CanarySide, php: CanarySide) {
        try await writer.read { db in
            var swift = CanarySide()
            var php = CanarySide()
            let first = Int((start.timeIntervalSince1970 / 60).rounded(.down))
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT s.side, s.hits, s.status_5xx, s.latency FROM canary_samples s
                    JOIN canaries c ON c.site_id = s.site_id
                    WHERE c.id = ?1 AND s.minute >= ?2
                      AND s.path IN (SELECT u.path FROM canary_pages p JOIN urls u ON u.id = p.url_id WHERE p.canary_id = ?1)
                    """,
                arguments: [canaryID, first]
            )
            while let row = try rows.next() {
                let bytes: [UInt8] = (row["latency"] as Data?).map { Array($0) } ?? []
                let side = CanarySide(
                    requests: row["hits"],
                    errors: row["status_5xx"],
                    latency: LatencyHistogram(encoded: bytes) ?? LatencyHistogram()
                )
                if (row["side"] as String) == "swift" { swift.merge(side) } else { php.merge(side) }
            }
            return (swift, php)
        }
    }

    /// The canary's pages whose latest parity verdict is "different".
    package func parityDifferent(canaryID: Int64) async throws -> [String] {
        try await writer.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT u.path FROM canary_pages p JOIN urls u ON u.id = p.url_id
                    WHERE p.canary_id = ? AND u.gone = 0 AND u.parity = 'different' ORDER BY u.path
                    """,
                arguments: [canaryID]
            )
        }
    }

    /// The canary's steps, oldest first.
    package func canarySteps(canaryID: Int64) async throws -> [CanaryStep] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT weight, started_at, ended_at FROM canary_steps WHERE canary_id = ? ORDER BY id", arguments: [canaryID])
                .map { CanaryStep(weight: $0["weight"], startedAt: $0["started_at"], endedAt: $0["ended_at"]) }
        }
    }

    /// The canary's decisions, newest first (at most `limit`).
    package func canaryDecisions(canaryID: Int64, limit: Int = 100) async throws -> [CanaryDecision] {
        try await writer.read { db in try Self.canaryDecisions(db, canaryID: canaryID, limit: limit) }
    }

    /// The decisions of every canary a page is in, newest first: its timeline's canary steps.
    static func canaryDecisions(_ db: Database, urlID: Int64, limit: Int) throws -> [(name: String, decision: CanaryDecision)] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT c.name, d.canary_id FROM canary_pages p JOIN canaries c ON c.id = p.canary_id
                JOIN canary_decisions d ON d.canary_id = c.id WHERE p.url_id = ? GROUP BY c.id
                """,
            arguments: [urlID]
        ).flatMap { row -> [(name: String, decision: CanaryDecision)] in
            let name: String = row["name"]
            return try canaryDecisions(db, canaryID: row["canary_id"], limit: limit).map { (name, $0) }
        }
        .sorted { $0.decision.at > $1.decision.at }
        .prefix(limit).map { $0 }
    }

    static func canaryDecisions(_ db: Database, canaryID: Int64, limit: Int) throws -> [CanaryDecision] {
        try Row.fetchAll(
            db,
            sql: "SELECT weight, at, decision, reason, figures, actor FROM canary_decisions WHERE canary_id = ? ORDER BY id DESC LIMIT ?",
            arguments: [canaryID, limit]
        ).map { row in
            let figures: String = row["figures"]
            return CanaryDecision(
                weight: row["weight"],
                at: row["at"],
                decision: row["decision"],
                reason: row["reason"],
                figures: try? JSONDecoder().decode(CanaryFigures.self, from: Data(figures.utf8)),
                actor: row["actor"]
            )
        }
    }

    /// Records a decision (an analysis that changed nothing, or a person's change).
    static func recordCanaryDecision(
        _ db: Database,
        canaryID: Int64,
        weight: Int,
        decision: CanaryDecision.Kind,
        reason: String,
        figures: CanaryFigures?,
        actor: String,
        at: Date
    ) throws {
        let encoded = try figures.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) } ?? "{}"
        try db.execute(
            sql: "INSERT INTO canary_decisions (canary_id, weight, at, decision, reason, figures, actor) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [canaryID, weight, at, decision, reason, encoded, actor]
        )
    }

    /// Ends the open step and, unless the canary ended, opens one at `weight`.
    static func moveCanaryStep(_ db: Database, canaryID: Int64, to weight: Int?, at: Date) throws {
        try db.execute(sql: "UPDATE canary_steps SET ended_at = ? WHERE canary_id = ? AND ended_at IS NULL", arguments: [at, canaryID])
        if let weight {
            try db.execute(sql: "INSERT INTO canary_steps (canary_id, weight, started_at) VALUES (?, ?, ?)", arguments: [canaryID, weight, at])
        }
    }
}

/// An automatic canary with no analysis for two intervals holds its weight: why, said.
package enum CanaryStaleness {
    package static func reason(_ canary: CanaryRecord, lastDecision: Date?, now: Date) -> String? {
        guard canary.automatic, canary.state == .running, let last = lastDecision ?? canary.stepStartedAt else { return nil }
        let limit = Double(2 * canary.policy.intervalSeconds)
        guard now.timeIntervalSince(last) > limit else { return nil }
        return "no analysis for \(Int(now.timeIntervalSince(last))) s (two intervals are \(Int(limit)) s): holding at \(canary.weight) % — "
            + "is 'cutover serve' running, and can it read the access logs?"
    }
}
