import CutoverCore
import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#endif

extension AppDatabase {
    /// Records a probe run as running (marking runs of dead processes interrupted first).
    public func beginProbeRun(siteID: Int64, concurrency: Int) throws -> ProbeRunRecord {
        try writer.write { db in
            try Self.interruptDeadRuns(db, table: ProbeRunRecord.databaseTableName, message: "the probing process stopped before committing")
            var run = ProbeRunRecord(
                siteID: siteID, startedAt: Date(), status: .running, pid: getpid(), concurrency: concurrency, urlCount: 0,
                driftCount: 0, errorCount: 0, readyCount: 0)
            try run.insert(db)
            return run
        }
    }

    /// The URLs a probe run visits: everything in the inventory except static files that are gone.
    public func probeTargets(siteID: Int64) throws -> [ProbeTarget] {
        try writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, path, owner, planned_owner, redirect_to FROM urls WHERE site_id = ? AND gone = 0 ORDER BY path",
                arguments: [siteID]
            )
            .map { row in
                let owner: Owner = row["owner"]
                let planned: Owner? = row["planned_owner"]
                return ProbeTarget(urlID: row["id"], path: row["path"], owner: owner, expectedOwner: planned ?? owner, redirectTo: row["redirect_to"])
            }
        }
    }

    /// Stores a run's results, refreshes each URL's latest probe columns and prunes history beyond
    /// the site's retention, in one transaction.
    public func finishProbeRun(_ run: ProbeRunRecord, outcomes: [ProbeOutcome], fallback: FallbackHealth, retention: Int) throws
        -> ProbeRunRecord
    {
        guard let runID = run.id else { preconditionFailure("probe run was not inserted") }
        return try writer.write { db in
            let insert = try db.makeStatement(
                sql: """
                    INSERT INTO probe_results (run_id, url_id, expected_owner, status, observed_owner, owner_source, latency_ms,
                    content_type, content_length, body_hash, body_truncated, location, error_kind, error_message,
                    backend_status, backend_error, ready_to_flip, drift)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            let latest = try db.makeStatement(
                sql: """
                    UPDATE urls SET observed_owner = ?, observed_source = ?, last_status = ?, last_latency_ms = ?,
                    last_probe_run = ?, last_error = ?, ready_to_flip = ?, drift = ? WHERE id = ?
                    """)
            var done = run
            for outcome in outcomes {
                let seen = outcome.observation
                let error = seen.errorKind.map { "\($0.rawValue): \(seen.errorMessage ?? "")" }
                try insert.execute(arguments: [
                    runID, outcome.target.urlID, outcome.target.expectedOwner, seen.status, seen.observedOwner, seen.ownerSource,
                    seen.latencyMilliseconds, seen.contentType, seen.contentLength, seen.bodyHash, seen.bodyTruncated, seen.location,
                    seen.errorKind, seen.errorMessage, outcome.backendStatus, outcome.backendError, outcome.readyToFlip, outcome.drift,
                ])
                try latest.execute(arguments: [
                    seen.observedOwner, seen.ownerSource, seen.status, seen.latencyMilliseconds, runID, error, outcome.readyToFlip,
                    outcome.drift, outcome.target.urlID,
                ])
                if outcome.drift { done.driftCount += 1 }
                if seen.errorKind != nil { done.errorCount += 1 }
                if outcome.readyToFlip { done.readyCount += 1 }
            }
            done.urlCount = outcomes.count
            done.finishedAt = Date()
            done.status = .succeeded
            done.fallbackHealthy = fallback.healthy
            done.fallbackStatus = fallback.status
            done.fallbackDetail = fallback.detail
            try done.update(db)
            try Self.recordSnapshot(db, siteID: run.siteID, source: "probe")
            try db.execute(
                sql: """
                    DELETE FROM probe_runs WHERE site_id = ? AND status != 'running' AND id NOT IN
                    (SELECT id FROM probe_runs WHERE site_id = ? ORDER BY id DESC LIMIT ?)
                    """, arguments: [run.siteID, run.siteID, retention])
            return done
        }
    }

    public func failProbeRun(_ run: ProbeRunRecord, error: String) throws {
        try writer.write { db in
            var failed = run
            failed.status = .failed
            failed.finishedAt = Date()
            failed.error = error
            try failed.update(db)
        }
    }

    public func probeRuns(siteID: Int64, limit: Int = 20) throws -> [ProbeRunRecord] {
        try writer.read { db in
            try ProbeRunRecord.filter(Column("site_id") == siteID).order(Column("id").desc).limit(limit).fetchAll(db)
        }
    }

    /// A URL's probe history, newest first.
    public func probeHistory(urlID: Int64, limit: Int = 50) throws -> [ProbeResultRecord] {
        try writer.read { db in
            try ProbeResultRecord.filter(Column("url_id") == urlID).order(Column("run_id").desc).limit(limit).fetchAll(db)
        }
    }

    /// URLs whose latest probe disagrees with the expected owner.
    public func driftedURLs(siteID: Int64, limit: Int? = nil) throws -> [URLRecord] {
        try writer.read { db in
            var request = URLRecord.filter(URLRecord.Columns.siteID == siteID && Column("drift") == true && URLRecord.Columns.gone == false)
                .order(URLRecord.Columns.path)
            if let limit { request = request.limit(limit) }
            return try request.fetchAll(db)
        }
    }
}
