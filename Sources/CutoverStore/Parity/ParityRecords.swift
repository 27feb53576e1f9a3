import CutoverCore
import Foundation
import GRDB

/// A page's parity verdict as stored: the library's four, and `not-compared` for a page that was
/// not requested (on the probe's deny-list) or needs a method parity never sends.
package enum PageParity: String, Codable, Sendable, Hashable, CaseIterable, DatabaseValueConvertible {
    case same, different, noisy, error
    case notCompared = "not-compared"
}

/// One field whose values differ between the sides, as stored (each value already shortened by
/// the library; nil where a side does not have the field).
package struct ParityFieldDifference: Codable, Sendable, Hashable {
    package var field: String
    package var php: String?
    package var swift: String?

    package init(field: String, php: String?, swift: String?) {
        self.field = field
        self.php = php
        self.swift = swift
    }
}

/// One parity run over a site's pages (migration 0030).
package struct ParityRunRecord: Codable, FetchableRecord, MutablePersistableRecord, Sendable, Hashable {
    package static let databaseTableName = "parity_runs"

    package var id: Int64?
    package var siteID: SiteID
    package var startedAt: Date
    package var finishedAt: Date?
    package var status: CrawlStatus
    package var pid: Int32?
    package var concurrency: Int
    package var urlCount = 0
    package var sameCount = 0
    package var differentCount = 0
    package var noisyCount = 0
    package var errorCount = 0
    package var notComparedCount = 0
    /// Fields that were noise on enough of the run's pages to count as noise on every page.
    package var siteNoise: [String] = []
    package var error: String?

    enum CodingKeys: String, CodingKey {
        case id, status, pid, concurrency, error
        case siteID = "site_id"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case urlCount = "url_count"
        case sameCount = "same_count"
        case differentCount = "different_count"
        case noisyCount = "noisy_count"
        case errorCount = "error_count"
        case notComparedCount = "not_compared_count"
        case siteNoise = "site_noise"
    }

    package mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// What one page's comparison found in one run.
package struct ParityResultRecord: Codable, FetchableRecord, PersistableRecord, Sendable, Hashable {
    package static let databaseTableName = "parity_results"

    package var id: Int64?
    package var runID: Int64
    package var urlID: Int64
    package var verdict: PageParity
    package var reason: String?
    package var differences: [ParityFieldDifference]
    package var noise: [String]
    /// How many differences each ignore rule or mask hid.
    package var hidden: [String: Int]
    package var fields: Int
    package var phpHash: String?
    package var swiftHash: String?

    enum CodingKeys: String, CodingKey {
        case id, verdict, reason, differences, noise, hidden, fields
        case runID = "run_id"
        case urlID = "url_id"
        case phpHash = "php_hash"
        case swiftHash = "swift_hash"
    }

    package init(
        urlID: Int64,
        verdict: PageParity,
        reason: String? = nil,
        differences: [ParityFieldDifference] = [],
        noise: [String] = [],
        hidden: [String: Int] = [:],
        fields: Int = 0,
        phpHash: String? = nil,
        swiftHash: String? = nil
    ) {
        runID = 0
        self.urlID = urlID
        self.verdict = verdict
        self.reason = reason
        self.differences = differences
        self.noise = noise
        self.hidden = hidden
        self.fields = fields
        self.phpHash = phpHash
        self.swiftHash = swiftHash
    }
}

/// A page's parity result with the run it belongs to, for a URL's history.
package struct ParityHistoryEntry: Sendable, Hashable {
    package var run: ParityRunRecord
    package var result: ParityResultRecord
}

/// A site's pages by their latest parity verdict; `readyToFlip`: Swift answers and parity is same.
package struct ParityCounts: Sendable, Hashable {
    package var same: Int
    package var different: Int
    package var noisy: Int
    package var error: Int
    package var notCompared: Int
    package var readyToFlip: Int
}
