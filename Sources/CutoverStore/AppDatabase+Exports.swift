import CutoverCore
import Foundation
import GRDB

/// A stored export: the rendered text, its hash and the plan it came from.
public struct ExportRecord: Codable, FetchableRecord, MutablePersistableRecord, Sendable, Hashable {
    public static let databaseTableName = "exports"

    public var id: Int64?
    public var siteID: Int64
    public var form: ExportForm
    public var createdAt: Date
    public var sha256: String
    public var content: String
    public var mapContent: Data?
    /// JSON of the flips and redirects rendered.
    public var plan: String

    enum CodingKeys: String, CodingKey {
        case id, form, sha256, content, plan
        case siteID = "site_id"
        case createdAt = "created_at"
        case mapContent = "map_content"
    }

    public init(siteID: Int64, form: ExportForm, createdAt: Date, sha256: String, content: String, mapContent: Data?, plan: String) {
        self.siteID = siteID
        self.form = form
        self.createdAt = createdAt
        self.sha256 = sha256
        self.content = content
        self.mapContent = mapContent
        self.plan = plan
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension ExportForm: DatabaseValueConvertible {}

extension AppDatabase {
    /// Stores an export unless it is byte-identical to the newest one of the same form.
    @discardableResult
    /// Stores `export` (identical consecutive exports of a form are stored once) with its id
    /// stamped into its content (`ExportStamp`); `sha256` is the hash without the stamp.
    public func saveExport(_ export: ExportRecord) throws -> ExportRecord {
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

    public func exports(siteID: Int64, form: ExportForm? = nil, limit: Int = 50) throws -> [ExportRecord] {
        try writer.read { db in
            var request = ExportRecord.filter(Column("site_id") == siteID)
            if let form { request = request.filter(Column("form") == form) }
            return try request.order(Column("id").desc).limit(limit).fetchAll(db)
        }
    }

    public func export(id: Int64, siteID: Int64) throws -> ExportRecord? {
        try writer.read { db in try ExportRecord.filter(Column("id") == id && Column("site_id") == siteID).fetchOne(db) }
    }

    /// Pages whose owner would change if the plan were applied: last observed owner versus
    /// planned owner.
    public func ownerChanges(siteID: Int64) throws -> [URLRecord] {
        try writer.read { db in
            try URLRecord.filter(
                sql: "site_id = ? AND gone = 0 AND COALESCE(planned_owner, owner) != COALESCE(observed_owner, owner)",
                arguments: [siteID]
            ).order(URLRecord.Columns.path).fetchAll(db)
        }
    }
}
