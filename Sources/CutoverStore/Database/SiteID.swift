import GRDB

/// A registered site's row id, typed so that a URL, crawl or export id can never be passed
/// where a site is meant. Stored and encoded as the plain integer (JSON `"id": 3`, SQL `3`).
package struct SiteID: Hashable, Sendable, Codable, CustomStringConvertible, DatabaseValueConvertible {
    package let rawValue: Int64

    package init(_ rawValue: Int64) { self.rawValue = rawValue }

    package init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(Int64.self)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    package var description: String { String(rawValue) }

    package var databaseValue: DatabaseValue { rawValue.databaseValue }

    package static func fromDatabaseValue(_ dbValue: DatabaseValue) -> SiteID? {
        Int64.fromDatabaseValue(dbValue).map(SiteID.init)
    }
}
