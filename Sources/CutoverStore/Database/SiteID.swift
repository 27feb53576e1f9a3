import GRDB

/// A registered site's row id, typed so that a URL, crawl or export id can never be passed
/// where a site is meant. Stored and encoded as the plain integer (JSON `"id": 3`, SQL `3`).
public struct SiteID: Hashable, Sendable, Codable, CustomStringConvertible, DatabaseValueConvertible {
    public let rawValue: Int64

    public init(_ rawValue: Int64) { self.rawValue = rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { String(rawValue) }

    public var databaseValue: DatabaseValue { rawValue.databaseValue }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> SiteID? {
        Int64.fromDatabaseValue(dbValue).map(SiteID.init)
    }
}
