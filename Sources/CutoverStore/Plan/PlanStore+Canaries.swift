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
}

package enum CanaryState: String, Sendable, Hashable, Codable, DatabaseValueConvertible {
    case running, promoted, aborted
}

package enum CanaryError: Error, CustomStringConvertible, Equatable {
    case invalidName(String)
    case invalidSteps(String)
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
        steps: [Int] = Canary.defaultSteps
    ) async throws
        -> CanaryRecord
    {
        guard Canary.isValidName(name) else { throw CanaryError.invalidName(name) }
        if let problem = Canary.stepsProblem(steps) { throw CanaryError.invalidSteps(problem) }
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
            try db.execute(
                sql: "INSERT INTO canaries (site_id, name, weight, steps, created_at, updated_at) VALUES (?, ?, 0, ?, ?, ?)",
                arguments: [siteID, name, stepsText, now, now]
            )
            let id = db.lastInsertedRowID
            for page in pages { try db.execute(sql: "INSERT INTO canary_pages (canary_id, url_id) VALUES (?, ?)", arguments: [id, page.id]) }
            return try Self.canary(db, siteID: siteID, name: name)
        }
    }

    /// Sets a running canary's weight (0-100).
    @discardableResult
    package func setCanaryWeight(siteID: SiteID, name: String, weight: Int) async throws -> CanaryRecord {
        guard (0...100).contains(weight) else { throw CanaryError.invalidWeight(weight) }
        return try await writer.write { [now = clock.now()] db in
            let canary = try Self.canary(db, siteID: siteID, name: name)
            guard canary.state == .running else { throw CanaryError.notRunning(name, canary.state) }
            try db.execute(sql: "UPDATE canaries SET weight = ?, updated_at = ? WHERE id = ?", arguments: [weight, now, canary.id])
            return try Self.canary(db, siteID: siteID, name: name)
        }
    }

    /// Ends a running canary: aborted (weight 0, every visitor on PHP), or promoted (its pages
    /// flipped to Swift: an ordinary flip from then on).
    @discardableResult
    package func endCanary(siteID: SiteID, name: String, promote: Bool, actor: String) async throws -> CanaryRecord {
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
            try db.execute(
                sql: "UPDATE canaries SET state = ?, weight = ?, updated_at = ? WHERE id = ?",
                arguments: [promote ? CanaryState.promoted : CanaryState.aborted, promote ? 100 : 0, now, canary.id]
            )
            return try Self.canary(db, siteID: siteID, name: name)
        }
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
                sql: "SELECT id, name, weight, steps, state, created_at, updated_at FROM canaries WHERE site_id = ? AND name = ?",
                arguments: [siteID, name]
            )
        else { throw CanaryError.unknown(name) }
        let id: Int64 = row["id"]
        let stepsText: String = row["steps"]
        return CanaryRecord(
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
