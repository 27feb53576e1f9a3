import CutoverCore
import Foundation
import GRDB

/// A canary as stored (#29).
package struct CanaryRecord: Sendable, Hashable {
    package var id: Int64
    package var name: String
    package var weight: Int
    package var steps: [Int]
    package var state: CanaryState
    package var createdAt: Date
    package var updatedAt: Date
    /// Canonical URL paths of its pages.
    package var pages: [String]
    /// How it is judged and stepped.
    package var policy = CanaryPolicy()
    /// Whether the scheduler analyses it each interval and steps, holds or rolls it back.
    package var automatic = false
    /// A person paused it: analyses go on, the weight stays.
    package var paused = false
    /// Where its weights are written (as `cutover apply`): the map form and path.
    package var mapForm: String?
    package var mapPath: String?
    /// Why it ended (promoted or aborted, by whom or by which analysis).
    package var endedReason: String?
    /// When the current weight began.
    package var stepStartedAt: Date?
}

/// How a canary is started beyond its pages and steps.
package struct CanaryOptions: Sendable {
    package var policy = CanaryPolicy()
    package var automatic = false
    /// The map form and path its weights are written to (needed when automatic).
    package var map: (form: ExportForm, path: String)?

    package init(policy: CanaryPolicy = CanaryPolicy(), automatic: Bool = false, map: (form: ExportForm, path: String)? = nil) {
        self.policy = policy
        self.automatic = automatic
        self.map = map
    }
}

package enum CanaryState: String, Sendable, Hashable, Codable, DatabaseValueConvertible {
    case running, promoted, aborted
}

package enum CanaryError: Error, CustomStringConvertible, Equatable {
    case invalidName(String)
    case invalidSteps(String)
    case invalidPolicy(String)
    case automaticNeedsMap
    case invalidMap(String)
    case invalidWeight(Int)
    case exists(String)
    case unknown(String)
    case notRunning(String, CanaryState)
    case notCanaryPage(String, String)
    case inAnotherCanary(path: String, canary: String)

    package var description: String {
        switch self {
        case .invalidName(let name):
            "canary name '\(ConfigText.visible(name))' must be 1-64 characters of letters, digits, '-', '_' or '.'"
        case .invalidSteps(let problem): problem
        case .invalidPolicy(let problem): problem
        case .invalidMap(let problem): problem
        case .automaticNeedsMap:
            "an automatic canary needs the map its weights are written to (the map form and path of 'cutover apply'): the service writes them itself"
        case .invalidWeight(let weight): "a canary's weight is a share of visitors between 0 and 100 (got \(weight))"
        case .exists(let name): "a canary named '\(name)' already exists for this site"
        case .unknown(let name): "no canary named '\(ConfigText.visible(name))' (see 'cutover canary list')"
        case .notRunning(let name, let state): "canary '\(name)' is \(state.rawValue), not running"
        case .notCanaryPage(let path, let reason): "'\(ConfigText.visible(path))' cannot be in a canary: \(reason)"
        case .inAnotherCanary(let path, let canary): "'\(ConfigText.visible(path))' is already in the running canary '\(canary)'"
        }
    }
}

extension CanaryError: ReportedError {
    package var kind: ErrorKind {
        switch self {
        case .unknown: .notFound
        case .exists, .notRunning, .inAnotherCanary: .conflict
        default: .invalid
        }
    }
}

extension PlanStore {
    /// Starts a canary at weight 0 over `selection`'s PHP pages (and the other URLs of their files:
    /// `/about/` moves with `/about/index.php`). Pages must be PHP's now and in no other running
    /// canary; query-identified pages cannot be (the map's key is the path).
    @discardableResult
    package func startCanary(
        siteID: SiteID,
        name: String,
        _ selection: URLSelection,
        steps: [Int] = Canary.defaultSteps,
        options: CanaryOptions = CanaryOptions(),
        actor: String = "cli"
    ) async throws
        -> CanaryRecord
    {
        guard Canary.isValidName(name) else { throw CanaryError.invalidName(name) }
        if let problem = Canary.stepsProblem(steps) { throw CanaryError.invalidSteps(problem) }
        if let problem = options.policy.problems.first { throw CanaryError.invalidPolicy(problem) }
        if options.automatic, options.map == nil { throw CanaryError.automaticNeedsMap }
        if let map = options.map {
            // The path is written into Apache's config by every export: checked where it enters.
            if !map.path.hasPrefix("/") { throw CanaryError.invalidMap("the map file must be an absolute path") }
            if let problem = ConfigText.pathProblem(map.path) { throw CanaryError.invalidMap("the map file \(problem)") }
        }
        return try await writer.write { [now = clock.now()] db in
            if try Int.fetchOne(db, sql: "SELECT 1 FROM canaries WHERE site_id = ? AND name = ?", arguments: [siteID, name]) != nil {
                throw CanaryError.exists(name)
            }
            var byID: [Int64: URLRecord] = [:]
            for page in try Self.select(db, siteID: siteID, selection) { byID[page.id] = page }
            let files = Set(byID.values.filter { !$0.urlFlags.contains(.queryPage) }.compactMap(\.filePath)).sorted()
            if !files.isEmpty {
                let list = String(decoding: try JSONEncoder().encode(files), as: UTF8.self)
                for sibling in try URLRecord.filter(URLRecord.Columns.siteID == siteID)
                    .filter(sql: "file_path IN (SELECT value FROM json_each(?)) AND gone = 0", arguments: [list]).fetchAll(db)
                where !sibling.urlFlags.contains(.queryPage) {
                    byID[sibling.id] = sibling
                }
            }
            let pages = byID.values.sorted { $0.path < $1.path }
            for page in pages {
                if page.path.contains("?") || page.urlFlags.contains(.queryPage) {
                    throw CanaryError.notCanaryPage(page.path, "a query-identified page (the canary map is keyed by the URL path)")
                }
                if (try? ApacheEscaping.mapKey(forPath: page.path)) == nil {
                    throw CanaryError.notCanaryPage(page.path, "its path cannot be a key of the canary map (white space, or a leading '#')")
                }
                if page.owner != .php || page.expectedOwner != .php {
                    throw CanaryError.notCanaryPage(page.path, "it is not PHP's now (a canary moves PHP pages to Swift step by step)")
                }
                if let other = try String.fetchOne(
                    db,
                    sql: """
                        SELECT c.name FROM canary_pages p JOIN canaries c ON c.id = p.canary_id
                        WHERE p.url_id = ? AND c.state = 'running'
                        """,
                    arguments: [page.id]
                ) {
                    throw CanaryError.inAnotherCanary(path: page.path, canary: other)
                }
            }
            let stepsText = String(decoding: try JSONEncoder().encode(steps), as: UTF8.self)
            let policyText = String(decoding: try JSONEncoder().encode(options.policy), as: UTF8.self)
            try db.execute(
                sql: """
                    INSERT INTO canaries (site_id, name, weight, steps, created_at, updated_at, policy, automatic, map_form, map_path)
                    VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [siteID, name, stepsText, now, now, policyText, options.automatic, options.map?.form.rawValue, options.map?.path]
            )
            let id = db.lastInsertedRowID
            for page in pages { try db.execute(sql: "INSERT INTO canary_pages (canary_id, url_id) VALUES (?, ?)", arguments: [id, page.id]) }
            try Self.moveCanaryStep(db, canaryID: id, to: 0, at: now)
            try Self.recordCanaryDecision(
                db,
                canaryID: id,
                weight: 0,
                decision: .manual,
                reason: "started over \(pages.count) URLs\(options.automatic ? ", stepped automatically" : "")",
                figures: nil,
                actor: actor,
                at: now
            )
            return try Self.canary(db, siteID: siteID, name: name)
        }
    }

    /// Sets a running canary's weight (0-100): a new step from now.
    @discardableResult
    package func setCanaryWeight(
        siteID: SiteID,
        name: String,
        weight: Int,
        decision: CanaryDecision.Kind = .manual,
        reason: String? = nil,
        figures: CanaryFigures? = nil,
        actor: String = "cli"
    ) async throws -> CanaryRecord {
        guard (0...100).contains(weight) else { throw CanaryError.invalidWeight(weight) }
        return try await writer.write { [now = clock.now()] db in
            let canary = try Self.canary(db, siteID: siteID, name: name)
            guard canary.state == .running else { throw CanaryError.notRunning(name, canary.state) }
            try db.execute(sql: "UPDATE canaries SET weight = ?, updated_at = ? WHERE id = ?", arguments: [weight, now, canary.id])
            if weight != canary.weight { try Self.moveCanaryStep(db, canaryID: canary.id, to: weight, at: now) }
            try Self.recordCanaryDecision(
                db,
                canaryID: canary.id,
                weight: weight,
                decision: decision,
                reason: reason ?? "weight \(canary.weight) → \(weight) %",
                figures: figures,
                actor: actor,
                at: now
            )
            return try Self.canary(db, siteID: siteID, name: name)
        }
    }

    /// Records an analysis that changed no weight (wait or hold). A wait or hold right after the
    /// same at the same weight replaces it (newest reason and figures): a step that waits for
    /// days keeps one row, not one per interval.
    package func recordCanaryDecision(
        siteID: SiteID,
        name: String,
        decision: CanaryDecision.Kind,
        reason: String,
        figures: CanaryFigures?,
        actor: String
    ) async throws {
        try await writer.write { [now = clock.now()] db in
            let canary = try Self.canary(db, siteID: siteID, name: name)
            if decision == .wait || decision == .hold,
                let latest = try Row.fetchOne(
                    db,
                    sql: "SELECT id, decision, weight FROM canary_decisions WHERE canary_id = ? ORDER BY id DESC LIMIT 1",
                    arguments: [canary.id]
                ),
                latest["decision"] as String == decision.rawValue, latest["weight"] as Int == canary.weight
            {
                let encoded = try figures.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) } ?? "{}"
                try db.execute(
                    sql: "UPDATE canary_decisions SET at = ?, reason = ?, figures = ?, actor = ? WHERE id = ?",
                    arguments: [now, reason, encoded, actor, latest["id"] as Int64]
                )
                return
            }
            try Self.recordCanaryDecision(
                db,
                canaryID: canary.id,
                weight: canary.weight,
                decision: decision,
                reason: reason,
                figures: figures,
                actor: actor,
                at: now
            )
        }
    }

    /// Pauses or resumes a running canary's automatic steps (analyses go on).
    @discardableResult
    package func pauseCanary(siteID: SiteID, name: String, paused: Bool, actor: String) async throws -> CanaryRecord {
        try await writer.write { [now = clock.now()] db in
            let canary = try Self.canary(db, siteID: siteID, name: name)
            guard canary.state == .running else { throw CanaryError.notRunning(name, canary.state) }
            try db.execute(sql: "UPDATE canaries SET paused = ?, updated_at = ? WHERE id = ?", arguments: [paused, now, canary.id])
            try Self.recordCanaryDecision(
                db,
                canaryID: canary.id,
                weight: canary.weight,
                decision: .manual,
                reason: paused ? "paused: the weight stays until resumed" : "resumed",
                figures: nil,
                actor: actor,
                at: now
            )
            return try Self.canary(db, siteID: siteID, name: name)
        }
    }

    /// Ends a running canary: aborted (weight 0, every visitor on PHP), or promoted (its pages
    /// flipped to Swift: an ordinary flip from then on).
    @discardableResult
    package func endCanary(
        siteID: SiteID,
        name: String,
        promote: Bool,
        actor: String,
        decision: CanaryDecision.Kind = .manual,
        reason: String? = nil,
        figures: CanaryFigures? = nil
    ) async throws -> CanaryRecord {
        try await writer.write { [now = clock.now()] db in
            let canary = try Self.canary(db, siteID: siteID, name: name)
            guard canary.state == .running else { throw CanaryError.notRunning(name, canary.state) }
            if promote, !canary.pages.isEmpty {
                try Self.flip(
                    db,
                    siteID: siteID,
                    .paths(canary.pages),
                    to: .swift,
                    reason: "canary '\(name)' promoted",
                    actor: actor,
                    redirect: nil,
                    at: now
                )
            }
            let why = reason ?? (promote ? "promoted" : "aborted")
            try db.execute(
                sql: "UPDATE canaries SET state = ?, weight = ?, updated_at = ?, ended_reason = ? WHERE id = ?",
                arguments: [promote ? CanaryState.promoted : CanaryState.aborted, promote ? 100 : 0, now, why, canary.id]
            )
            try Self.moveCanaryStep(db, canaryID: canary.id, to: nil, at: now)
            var payload: [String: Any] = ["canary": name, "weight": canary.weight, "reason": why, "pages": canary.pages, "actor": actor]
            if let figures, let data = try? JSONEncoder().encode(figures), let object = try? JSONSerialization.jsonObject(with: data) {
                payload["figures"] = object
            }
            let event: NotifyEvent = promote ? .canaryPromoted : (decision == .rollback ? .canaryRolledBack : .canaryAborted)
            try NotifyStore.enqueue(db, siteID: siteID, event: event, payload: payload, at: now)
            try Self.recordCanaryDecision(
                db,
                canaryID: canary.id,
                weight: promote ? 100 : 0,
                decision: decision,
                reason: why,
                figures: figures,
                actor: actor,
                at: now
            )
            return try Self.canary(db, siteID: siteID, name: name)
        }
    }

    /// One canary of the site by name (`CanaryError.unknown` when there is none).
    package func canary(siteID: SiteID, name: String) async throws -> CanaryRecord {
        try await writer.read { db in try Self.canary(db, siteID: siteID, name: name) }
    }

    /// The site's canaries, newest first.
    package func canaries(siteID: SiteID) async throws -> [CanaryRecord] {
        try await writer.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM canaries WHERE site_id = ? ORDER BY id DESC", arguments: [siteID])
                .map { try Self.canary(db, siteID: siteID, name: $0) }
        }
    }

    static func canary(_ db: Database, siteID: SiteID, name: String) throws -> CanaryRecord {
        guard
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT id, name, weight, steps, state, created_at, updated_at, policy, automatic, paused, map_form, map_path, ended_reason,
                      (SELECT started_at FROM canary_steps s WHERE s.canary_id = canaries.id AND s.ended_at IS NULL) AS step_started_at
                    FROM canaries WHERE site_id = ? AND name = ?
                    """,
                arguments: [siteID, name]
            )
        else { throw CanaryError.unknown(name) }
        let id: Int64 = row["id"]
        let stepsText: String = row["steps"]
        let policyText: String = row["policy"]
        var record = CanaryRecord(
            id: id,
            name: row["name"],
            weight: row["weight"],
            steps: (try? JSONDecoder().decode([Int].self, from: Data(stepsText.utf8))) ?? Canary.defaultSteps,
            state: row["state"],
            createdAt: row["created_at"],
            updatedAt: row["updated_at"],
            pages: try String.fetchAll(
                db,
                sql: "SELECT u.path FROM canary_pages p JOIN urls u ON u.id = p.url_id WHERE p.canary_id = ? AND u.gone = 0 ORDER BY u.path",
                arguments: [id]
            )
        )
        record.policy = (try? JSONDecoder().decode(CanaryPolicy.self, from: Data(policyText.utf8))) ?? CanaryPolicy()
        record.automatic = row["automatic"]
        record.paused = row["paused"]
        record.mapForm = row["map_form"]
        record.mapPath = row["map_path"]
        record.endedReason = row["ended_reason"]
        record.stepStartedAt = row["step_started_at"]
        return record
    }

    /// The running canaries as the export routes them: pages still PHP's in the plan.
    static func canaryRoutes(_ db: Database, siteID: SiteID) throws -> [CanaryRoute] {
        try Row.fetchAll(db, sql: "SELECT id, name, weight FROM canaries WHERE site_id = ? AND state = 'running' ORDER BY name", arguments: [siteID])
            .map { row in
                CanaryRoute(
                    name: row["name"],
                    weight: row["weight"],
                    pages: try String.fetchAll(
                        db,
                        sql: """
                            SELECT u.path FROM canary_pages p JOIN urls u ON u.id = p.url_id
                            WHERE p.canary_id = ? AND u.gone = 0 AND ifnull(u.planned_owner, u.owner) = 'php' ORDER BY u.path
                            """,
                        arguments: [row["id"] as Int64]
                    )
                )
            }
    }
}
