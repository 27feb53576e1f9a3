import CutoverCore
import Foundation
import GRDB

/// A stored export: the rendered text, its hash and the plan it came from.
package struct ExportRecord: Codable, FetchableRecord, MutablePersistableRecord, Sendable, Hashable {
    package static let databaseTableName = "exports"

    package var id: Int64?
    package var siteID: SiteID
    package var form: ExportForm
    package var createdAt: Date
    package var sha256: String
    package var content: String
    package var mapContent: Data?
    /// JSON of the flips and redirects rendered.
    package var plan: String

    enum CodingKeys: String, CodingKey {
        case id, form, sha256, content, plan
        case siteID = "site_id"
        case createdAt = "created_at"
        case mapContent = "map_content"
    }

    package init(siteID: SiteID, form: ExportForm, createdAt: Date, sha256: String, content: String, mapContent: Data?, plan: String) {
        self.siteID = siteID
        self.form = form
        self.createdAt = createdAt
        self.sha256 = sha256
        self.content = content
        self.mapContent = mapContent
        self.plan = plan
    }

    package mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension ExportForm: DatabaseValueConvertible {}

extension ExportStore {
    /// Stores an export unless it is byte-identical to the newest one of the same form.
    @discardableResult
    /// Stores `export` (identical consecutive exports of a form are stored once) with its id
    /// stamped into its content (`ExportStamp`); `sha256` is the hash without the stamp.
    @available(*, noasync)
    package func save(_ export: ExportRecord) throws -> ExportRecord {
        try writer.write { db in
            if let latest = try ExportRecord.filter(Column("site_id") == export.siteID && Column("form") == export.form)
                .order(Column("id").desc).fetchOne(db), latest.sha256 == export.sha256
            {
                return latest
            }
            var record = export
            try record.insert(db)
            record.content = ExportStamp.stamp(export.content, id: record.id!)
            try record.update(db, columns: ["content"])
            return record
        }
    }

    @available(*, noasync)
    package func list(siteID: SiteID, form: ExportForm? = nil, limit: Int = 50) throws -> [ExportRecord] {
        try writer.read { db in
            var request = ExportRecord.filter(Column("site_id") == siteID)
            if let form { request = request.filter(Column("form") == form) }
            return try request.order(Column("id").desc).limit(limit).fetchAll(db)
        }
    }

    @available(*, noasync)
    package func find(id: Int64, siteID: SiteID) throws -> ExportRecord? {
        try writer.read { db in try ExportRecord.filter(Column("id") == id && Column("site_id") == siteID).fetchOne(db) }
    }

    /// Pages whose owner would change if the plan were applied: last observed owner versus
    /// planned owner.
    /// What the first export changes besides the plan, while no export is stored and no probe
    /// has found the fallback working: URLs without a file the fallback starts to answer (known
    /// ones, and the logs' most requested 404s), and directories without an index file.
    @available(*, noasync)
    package func fallbackTakeover(site: SiteRecord, noiseLimit: Int = 100) throws -> FallbackTakeover? {
        try writer.read { db in
            let siteID = site.id
            guard try Int.fetchOne(db, sql: "SELECT count(*) FROM exports WHERE site_id = ?", arguments: [siteID]) == 0,
                try Bool.fetchOne(
                    db,
                    sql: "SELECT fallback_healthy FROM probe_runs WHERE site_id = ? AND status = 'succeeded' ORDER BY id DESC LIMIT 1",
                    arguments: [siteID]
                ) != true,
                site.routingFrontController == nil
            else { return nil }
            var takeover = FallbackTakeover()
            takeover.urls = try Row.fetchAll(
                db,
                sql: """
                    SELECT path, last_status FROM urls WHERE site_id = ? AND gone = 0 AND file_path IS NULL
                      AND flags & ? = 0 AND coalesce(planned_owner, owner) = 'swift' AND observed_owner IS NULL
                    ORDER BY path
                    """,
                arguments: [siteID, URLFlags.queryPage.rawValue]
            ).map { (path: $0["path"], status: $0["last_status"]) }
            takeover.noise = try Row.fetchAll(
                db,
                sql: """
                    SELECT t.path, t.hits FROM traffic t WHERE t.site_id = ? AND t.status_4xx = t.hits
                      AND NOT EXISTS (SELECT 1 FROM urls u WHERE u.site_id = t.site_id AND u.path = t.path)
                    ORDER BY t.hits DESC, t.path LIMIT ?
                    """,
                arguments: [siteID, noiseLimit]
            ).map { (path: $0["path"], hits: $0["hits"]) }
            if site.sendsDirectoriesToSwift {
                takeover.directories = try String.fetchAll(
                    db,
                    sql: "SELECT path FROM bare_directories WHERE site_id = ? ORDER BY path",
                    arguments: [siteID]
                )
            }
            return takeover
        }
    }

    @available(*, noasync)
    package func ownerChanges(siteID: SiteID) throws -> [URLRecord] {
        try writer.read { db in
            try URLRecord.filter(
                sql: "site_id = ? AND gone = 0 AND COALESCE(planned_owner, owner) != COALESCE(observed_owner, owner)",
                arguments: [siteID]
            ).order(URLRecord.Columns.path).fetchAll(db)
        }
    }
}

/// What Apache answers itself until the first export's fallback sends it to Swift.
package struct FallbackTakeover: Sendable {
    /// Known URLs without a file that no probe has seen answered (`status`: their last probe's).
    package var urls: [(path: String, status: Int?)] = []
    /// Requested paths that only ever got 4xx and are not in the inventory, most requested first.
    package var noise: [(path: String, hits: Int)] = []
    /// Directories without an index file (when the site sends them to Swift).
    package var directories: [String] = []
}
