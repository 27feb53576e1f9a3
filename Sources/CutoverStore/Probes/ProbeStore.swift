import CutoverCore
import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#endif

extension ProbeStore {
    /// Records a probe run as running (marking runs of dead processes interrupted first).
    package func beginRun(siteID: SiteID, concurrency: Int) async throws -> ProbeRunRecord {
        try await writer.write { db in
            try ProbeStore.markInterruptedProbeRuns(db, now: clock.now())
            var run = ProbeRunRecord(
                siteID: siteID,
                startedAt: clock.now(),
                status: .running,
                pid: getpid(),
                concurrency: concurrency,
                urlCount: 0,
                driftCount: 0,
                errorCount: 0,
                readyCount: 0
            )
            try run.insert(db)
            return run
        }
    }

    /// The URLs a probe run visits: everything in the inventory except static files that are gone.
    package func targets(siteID: SiteID) async throws -> [ProbeTarget] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, path, owner, planned_owner, redirect_to,
                      (flags & \(URLFlags.include.rawValue) != 0 AND content_hash IS NOT NULL AND probed_hash IS content_hash) AS unchanged_include
                    FROM urls WHERE site_id = ? AND gone = 0 ORDER BY path
                    """,
                arguments: [siteID]
            )
            .map { row in
                let owner: Owner = row["owner"]
                let planned: Owner? = row["planned_owner"]
                return ProbeTarget(
                    urlID: row["id"],
                    path: row["path"],
                    owner: owner,
                    expectedOwner: planned ?? owner,
                    redirectTo: row["redirect_to"],
                    unchangedInclude: row["unchanged_include"]
                )
            }
        }
    }

    /// Stores a batch of a running run's results. A prober saves batches while it still probes,
    /// so the end of the run only has to publish them (`finishProbeRun`); until then the rows belong
    /// to an unfinished run and nothing reads them.
    package func saveResults(runID: Int64, _ outcomes: [ProbeOutcome]) async throws {
        try await writer.write { db in
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO probe_results (run_id, url_id, expected_owner, status, observed_owner, owner_source, latency_ms,
                    content_type, content_length, body_hash, body_truncated, location, error_kind, error_message,
                    backend_status, backend_error, ready_to_flip, drift)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            )
            for outcome in outcomes {
                let seen = outcome.observation
                try insert.execute(arguments: [
                    runID, outcome.target.urlID, outcome.target.expectedOwner, seen.status, seen.observedOwner, seen.ownerSource,
                    seen.latencyMilliseconds, seen.contentType, seen.contentLength, seen.bodyHash, seen.bodyTruncated, seen.location,
                    seen.errorKind, seen.errorMessage, outcome.backendStatus, outcome.backendError, outcome.readyToFlip, outcome.drift,
                ])
            }
            try ProbeStore.saveNodeResults(db, runID: runID, outcomes)
        }
    }

    /// Publishes a run whose results were saved: refreshes each URL's latest probe columns from
    /// them, marks includes, counts drift, errors and ready pages (includes are no pages) and
    /// records a burndown snapshot, in one transaction.
    package func finishRun(
        _ run: ProbeRunRecord,
        fallback: FallbackHealth,
        skipped: (includes: Int, denied: Int, timeoutsRetried: Int) = (0, 0, 0)
    ) async throws -> ProbeRunRecord {
        guard let runID = run.id else { preconditionFailure("probe run was not inserted") }
        return try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE urls SET observed_owner = r.observed_owner, observed_source = r.owner_source, last_status = r.status,
                    last_latency_ms = r.latency_ms, last_probe_run = r.run_id,
                    last_error = CASE WHEN r.error_kind IS NULL THEN NULL ELSE r.error_kind || ': ' || ifnull(r.error_message, '') END,
                    ready_to_flip = r.ready_to_flip, drift = r.drift, probed_hash = urls.content_hash
                    FROM probe_results r WHERE r.run_id = ? AND urls.id = r.url_id
                    """,
                arguments: [runID]
            )
            try InventoryRules.markIncludes(db, siteID: run.siteID)
            let counts = try Row.fetchOne(
                db,
                sql: """
                    SELECT count(*) AS urls, ifnull(sum(r.drift), 0) AS drift, ifnull(sum(r.error_kind IS NOT NULL), 0) AS errors,
                    ifnull(sum(r.ready_to_flip AND ifnull(u.flags, 0) & \(URLFlags.notAPage.rawValue) = 0), 0) AS ready
                    FROM probe_results r LEFT JOIN urls u ON u.id = r.url_id WHERE r.run_id = ?
                    """,
                arguments: [runID]
            )!
            var done = run
            done.skippedIncludes = skipped.includes
            done.skippedDenied = skipped.denied
            done.timeoutsRetried = skipped.timeoutsRetried
            done.urlCount = counts["urls"]
            done.driftCount = counts["drift"]
            done.errorCount = counts["errors"]
            done.readyCount = counts["ready"]
            done.nodeDriftCount = try ProbeStore.nodeSummaries(db, runID: runID).map(\.driftCount).reduce(0, +)
            done.finishedAt = clock.now()
            done.status = .succeeded
            done.fallbackHealthy = fallback.healthy
            done.fallbackStatus = fallback.status
            done.fallbackDetail = fallback.detail
            try done.update(db)
            try Self.notify(db, done: done)
            try InventoryStore.recordSnapshot(db, siteID: run.siteID, source: "probe", at: done.finishedAt ?? clock.now())
            return done
        }
    }

    /// Makes room for `run` in the site's history: keeps the newest `retention` runs, `run`
    /// included (older finished runs and their results go). A prober calls it while its first
    /// requests are in flight; deleting a run's 10,000 results took 0.12 s, too long to leave
    /// for the end of the run.
    package func pruneHistory(for run: ProbeRunRecord, retention: Int) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    DELETE FROM probe_runs WHERE site_id = ? AND status != 'running' AND id NOT IN
                    (SELECT id FROM probe_runs WHERE site_id = ? AND id != ? ORDER BY id DESC LIMIT ?)
                    """,
                arguments: [run.siteID, run.siteID, run.id, max(retention - 1, 0)]
            )
        }
    }

    /// Marks a run failed and drops the results it had saved: a run counts whole or not at all.
    package func failRun(_ run: ProbeRunRecord, error: String) async throws {
        try await writer.write { db in
            var failed = run
            failed.status = .failed
            failed.finishedAt = clock.now()
            failed.error = error
            try failed.update(db)
            try db.execute(sql: "DELETE FROM probe_results WHERE run_id = ?", arguments: [run.id])
            try db.execute(sql: "DELETE FROM probe_node_results WHERE run_id = ?", arguments: [run.id])
        }
    }

    @available(*, noasync)
    package func runs(siteID: SiteID, limit: Int = 20) throws -> [ProbeRunRecord] {
        try writer.read { db in try ProbeStore.probeRuns(db, siteID: siteID, limit: limit) }
    }

    static func probeRuns(_ db: Database, siteID: SiteID, limit: Int) throws -> [ProbeRunRecord] {
        try ProbeRunRecord.filter(Column("site_id") == siteID).order(Column("id").desc).limit(limit).fetchAll(db)
    }

    /// A URL's probe history, newest first: results of finished runs only.
    @available(*, noasync)
    package func history(urlID: Int64, limit: Int = 50) throws -> [ProbeResultRecord] {
        try writer.read { db in try ProbeStore.probeHistory(db, urlID: urlID, limit: limit) }
    }

    static func probeHistory(_ db: Database, urlID: Int64, limit: Int) throws -> [ProbeResultRecord] {
        try ProbeResultRecord
            .filter(Column("url_id") == urlID)
            .filter(sql: "run_id IN (SELECT id FROM probe_runs WHERE status = 'succeeded')")
            .order(Column("run_id").desc).limit(limit).fetchAll(db)
    }

    /// Marks probe runs of dead processes interrupted and drops the results they had saved.
    @discardableResult
    static func markInterruptedProbeRuns(_ db: Database, now: Date) throws -> Int {
        let count = try AppDatabase.interruptDeadRuns(
            db,
            table: ProbeRunRecord.databaseTableName,
            message: "the probing process stopped before committing",
            now: now
        )
        if count > 0 {
            try db.execute(sql: "DELETE FROM probe_results WHERE run_id IN (SELECT id FROM probe_runs WHERE status = 'interrupted')")
            try db.execute(sql: "DELETE FROM probe_node_results WHERE run_id IN (SELECT id FROM probe_runs WHERE status = 'interrupted')")
        }
        return count
    }

    /// URLs whose latest probe disagrees with the expected owner.
    @available(*, noasync)
    package func driftedURLs(siteID: SiteID, limit: Int? = nil) throws -> [URLRecord] {
        try writer.read { db in
            var request = URLRecord.filter(URLRecord.Columns.siteID == siteID && Column("drift") == true && URLRecord.Columns.gone == false)
                .order(URLRecord.Columns.path)
            if let limit { request = request.limit(limit) }
            return try request.fetchAll(db)
        }
    }
}

extension ProbeStore {
    /// Queues the run's news for the site's webhooks: more drift than the run before, and a
    /// fallback that broke (it was healthy, or unknown, before).
    static func notify(_ db: Database, done: ProbeRunRecord) throws {
        guard let id = done.id else { return }
        let previous = try Row.fetchOne(
            db,
            sql: """
                SELECT drift_count, fallback_healthy FROM probe_runs WHERE site_id = ? AND id < ? AND status = 'succeeded'
                ORDER BY id DESC LIMIT 1
                """,
            arguments: [done.siteID, id]
        )
        let at = done.finishedAt ?? Date()
        let before: Int = previous?["drift_count"] ?? 0
        if done.driftCount > before {
            let paths = try String.fetchAll(
                db,
                sql: "SELECT u.path FROM probe_results r JOIN urls u ON u.id = r.url_id WHERE r.run_id = ? AND r.drift = 1 ORDER BY u.path LIMIT 10",
                arguments: [id]
            )
            try NotifyStore.enqueue(
                db,
                siteID: done.siteID,
                event: .drift,
                payload: ["probeRun": id, "driftCount": done.driftCount, "previousDriftCount": before, "firstPaths": paths],
                at: at
            )
        }
        let wasHealthy: Bool? = previous?["fallback_healthy"]
        if done.fallbackHealthy == false, wasHealthy != false {
            try NotifyStore.enqueue(
                db,
                siteID: done.siteID,
                event: .fallbackBroken,
                payload: ["probeRun": id, "status": done.fallbackStatus ?? 0, "detail": done.fallbackDetail ?? ""],
                at: at
            )
        }
    }
}
