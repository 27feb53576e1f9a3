import CutoverCore
import Foundation
import GRDB

/// One probe run over a site's inventory.
package struct ProbeRunRecord: Codable, FetchableRecord, MutablePersistableRecord, Sendable, Hashable {
    package static let databaseTableName = "probe_runs"

    package var id: Int64?
    package var siteID: SiteID
    package var startedAt: Date
    package var finishedAt: Date?
    package var status: CrawlStatus
    package var pid: Int32?
    package var concurrency: Int
    package var urlCount: Int
    package var driftCount: Int
    package var errorCount: Int
    package var readyCount: Int
    package var fallbackHealthy: Bool?
    package var fallbackStatus: Int?
    package var fallbackDetail: String?
    package var error: String?
    /// Includes not requested: their file is unchanged since a probe found them (migration 0020).
    package var skippedIncludes = 0
    /// URLs not requested: on the site's `probeSkip` deny-list.
    package var skippedDenied = 0
    /// Requests that timed out and were asked once more.
    package var timeoutsRetried = 0
    /// Answers of single nodes (the site's `nodes`) that disagree with the expected owner, or
    /// nodes serving another export than the others (migration 0035).
    package var nodeDriftCount = 0

    enum CodingKeys: String, CodingKey {
        case id, status, pid, concurrency, error
        case nodeDriftCount = "node_drift_count"
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

    package mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// What one URL answered in one run.
package struct ProbeResultRecord: Codable, FetchableRecord, PersistableRecord, Sendable, Hashable {
    package static let databaseTableName = "probe_results"

    package var id: Int64?
    package var runID: Int64
    package var urlID: Int64
    package var expectedOwner: Owner?
    package var status: Int?
    package var observedOwner: Owner?
    package var ownerSource: OwnerSource?
    package var latencyMs: Double
    package var contentType: String?
    package var contentLength: Int64?
    package var bodyHash: String?
    package var bodyTruncated: Bool
    package var location: String?
    package var errorKind: ProbeErrorKind?
    package var errorMessage: String?
    package var backendStatus: Int?
    package var backendError: String?
    package var readyToFlip: Bool
    package var drift: Bool

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
package struct ProbeTarget: Sendable, Hashable {
    package var urlID: Int64
    package var path: String
    package var owner: Owner
    package var expectedOwner: Owner
    /// Planned new URL: the answer should be a redirect there.
    package var redirectTo: String? = nil
    /// An include whose file is unchanged since it was last probed: requesting it again would
    /// only run it (PHP errors in the site's log, side effects) to learn nothing new.
    package var unchangedInclude = false
}

extension ProbeTarget {
    /// Whether `observation` disagrees with what the plan expects here: the redirect when the
    /// URL moves, else the expected owner.
    package func isDrifted(_ observation: ProbeObservation) -> Bool {
        if let redirectTo {
            return Drift.isDrifted(redirectTo: redirectTo, status: observation.status, location: observation.location)
        }
        return Drift.isDrifted(expected: expectedOwner, observed: observation.observedOwner)
    }
}

/// What one node, asked directly with the site's `Host`, answered for a URL.
package struct NodeOutcome: Sendable, Hashable {
    /// The node's base URL as the site lists it.
    package var node: String
    package var observation: ProbeObservation
    /// The node answers otherwise than the plan expects.
    package var drift: Bool

    package init(node: String, observation: ProbeObservation, drift: Bool) {
        self.node = node
        self.observation = observation
        self.drift = drift
    }
}

/// One URL's outcome in a run, as the prober hands it to the store.
package struct ProbeOutcome: Sendable, Hashable {
    package var target: ProbeTarget
    package var observation: ProbeObservation
    /// The Swift backend's answer for the same path, when asked.
    package var backendStatus: Int?
    package var backendError: String?
    /// The request timed out once and was asked again.
    package var retried = false
    /// What each of the site's nodes answered for the same request, asked directly.
    package var nodes: [NodeOutcome] = []

    package init(target: ProbeTarget, observation: ProbeObservation, backendStatus: Int? = nil, backendError: String? = nil) {
        self.target = target
        self.observation = observation
        self.backendStatus = backendStatus
        self.backendError = backendError
    }

    package var drift: Bool { target.isDrifted(observation) }
    package var readyToFlip: Bool { Drift.isReadyToFlip(backendStatus: backendStatus) }
}
