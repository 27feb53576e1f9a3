import CutoverCore
import Foundation
import GRDB

/// One probe run over a site's inventory.
public struct ProbeRunRecord: Codable, FetchableRecord, MutablePersistableRecord, Sendable, Hashable {
    public static let databaseTableName = "probe_runs"

    public var id: Int64?
    public var siteID: SiteID
    public var startedAt: Date
    public var finishedAt: Date?
    public var status: CrawlStatus
    public var pid: Int32?
    public var concurrency: Int
    public var urlCount: Int
    public var driftCount: Int
    public var errorCount: Int
    public var readyCount: Int
    public var fallbackHealthy: Bool?
    public var fallbackStatus: Int?
    public var fallbackDetail: String?
    public var error: String?
    /// Includes not requested: their file is unchanged since a probe found them (migration 0020).
    public var skippedIncludes = 0
    /// URLs not requested: on the site's `probeSkip` deny-list.
    public var skippedDenied = 0
    /// Requests that timed out and were asked once more.
    public var timeoutsRetried = 0

    enum CodingKeys: String, CodingKey {
        case id, status, pid, concurrency, error
        case skippedIncludes = "skipped_includes"
        case skippedDenied = "skipped_denied"
        case timeoutsRetried = "timeouts_retried"
        case siteID = "site_id"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case urlCount = "url_count"
        case driftCount = "drift_count"
        case errorCount = "error_count"
        case readyCount = "ready_count"
        case fallbackHealthy = "fallback_healthy"
        case fallbackStatus = "fallback_status"
        case fallbackDetail = "fallback_detail"
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// What one URL answered in one run.
public struct ProbeResultRecord: Codable, FetchableRecord, PersistableRecord, Sendable, Hashable {
    public static let databaseTableName = "probe_results"

    public var id: Int64?
    public var runID: Int64
    public var urlID: Int64
    public var expectedOwner: Owner?
    public var status: Int?
    public var observedOwner: Owner?
    public var ownerSource: OwnerSource?
    public var latencyMs: Double
    public var contentType: String?
    public var contentLength: Int64?
    public var bodyHash: String?
    public var bodyTruncated: Bool
    public var location: String?
    public var errorKind: ProbeErrorKind?
    public var errorMessage: String?
    public var backendStatus: Int?
    public var backendError: String?
    public var readyToFlip: Bool
    public var drift: Bool

    enum CodingKeys: String, CodingKey {
        case id, status, location, drift
        case runID = "run_id"
        case urlID = "url_id"
        case expectedOwner = "expected_owner"
        case observedOwner = "observed_owner"
        case ownerSource = "owner_source"
        case latencyMs = "latency_ms"
        case contentType = "content_type"
        case contentLength = "content_length"
        case bodyHash = "body_hash"
        case bodyTruncated = "body_truncated"
        case errorKind = "error_kind"
        case errorMessage = "error_message"
        case backendStatus = "backend_status"
        case backendError = "backend_error"
        case readyToFlip = "ready_to_flip"
    }
}

/// A URL to probe, with the owner the site should have.
public struct ProbeTarget: Sendable, Hashable {
    public var urlID: Int64
    public var path: String
    public var owner: Owner
    public var expectedOwner: Owner
    /// Planned new URL: the answer should be a redirect there.
    public var redirectTo: String? = nil
    /// An include whose file is unchanged since it was last probed: requesting it again would
    /// only run it (PHP errors in the site's log, side effects) to learn nothing new.
    public var unchangedInclude = false
}

/// One URL's outcome in a run, as the prober hands it to the store.
public struct ProbeOutcome: Sendable, Hashable {
    public var target: ProbeTarget
    public var observation: ProbeObservation
    /// The Swift backend's answer for the same path, when asked.
    public var backendStatus: Int?
    public var backendError: String?
    /// The request timed out once and was asked again.
    public var retried = false

    public init(target: ProbeTarget, observation: ProbeObservation, backendStatus: Int? = nil, backendError: String? = nil) {
        self.target = target
        self.observation = observation
        self.backendStatus = backendStatus
        self.backendError = backendError
    }

    public var drift: Bool {
        if let redirectTo = target.redirectTo {
            return Drift.isDrifted(redirectTo: redirectTo, status: observation.status, location: observation.location)
        }
        return Drift.isDrifted(expected: target.expectedOwner, observed: observation.observedOwner)
    }
    public var readyToFlip: Bool { Drift.isReadyToFlip(backendStatus: backendStatus) }
}
