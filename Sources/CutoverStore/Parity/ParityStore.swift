import CutoverCore
import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#endif

extension ParityStore {
    /// Records a parity run as running (marking runs of dead processes interrupted first).
    package func beginRun(siteID: SiteID, concurrency: Int) async throws -> ParityRunRecord {
        try await writer.write { db in
            try Self.markInterruptedRuns(db, now: clock.now())
            var run = ParityRunRecord(siteID: siteID, startedAt: clock.now(), status: .running, pid: getpid(), concurrency: concurrency)
            try run.insert(db)
            return run
        }
    }

    /// Stores a run's results and publishes them in one transaction: keeps the site's newest
    /// `retention` runs (this one included), sets each compared page's latest verdict on its URL
    /// row (a page not compared keeps the verdict it had) and counts the verdicts.
    package func finishRun(
        _ run: ParityRunRecord,
        results: [ParityResultRecord],
        siteNoise: [String],
        retention: Int
    ) async throws -> ParityRunRecord {
        guard let runID = run.id else { preconditionFailure("parity run was not inserted") }
        let now = clock.now()
        return try await writer.write { db in
            try db.execute(
                sql: """
                    DELETE FROM parity_runs WHERE site_id = ? AND status != 'running' AND id NOT IN
                    (SELECT id FROM parity_runs WHERE site_id = ? AND id != ? ORDER BY id DESC LIMIT ?)
                    """,
                arguments: [run.siteID, run.siteID, runID, max(retention - 1, 0)]
            )
            var done = run
            // One prepared statement and JSON written directly: the records' Codable path was
            // most of the store's time for 10,000 pages (perf, scripts/bench-apache.py parity).
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO parity_results (run_id, url_id, verdict, reason, differences, noise, hidden, fields, php_hash, swift_hash)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            )
            for result in results {
                try insert.execute(arguments: [
                    runID, result.urlID, result.verdict.rawValue, result.reason, Self.json(result.differences), Self.json(result.noise),
                    Self.json(result.hidden), result.fields, result.phpHash, result.swiftHash,
                ])
                done.urlCount += 1
                switch result.verdict {
                case .same: done.sameCount += 1
                case .different: done.differentCount += 1
                case .noisy: done.noisyCount += 1
                case .error: done.errorCount += 1
                case .notCompared: done.notComparedCount += 1
                }
            }
            // Pages the same before and different now: a regression, for the site's webhooks.
            let regressed = try String.fetchAll(
                db,
                sql: """
                    SELECT u.path FROM parity_results r JOIN urls u ON u.id = r.url_id
                    WHERE r.run_id = ? AND r.verdict = 'different' AND u.parity = 'same' ORDER BY u.path
                    """,
                arguments: [runID]
            )
            if !regressed.isEmpty {
                try NotifyStore.enqueue(
                    db,
                    siteID: run.siteID,
                    event: .parityRegression,
                    payload: ["parityRun": runID, "count": regressed.count, "firstPaths": Array(regressed.prefix(10))],
                    at: now
                )
            }
            try db.execute(
                sql: """
                    UPDATE urls SET parity = r.verdict, parity_run = r.run_id
                    FROM parity_results r WHERE r.run_id = ? AND urls.id = r.url_id AND r.verdict != 'not-compared'
                    """,
                arguments: [runID]
            )
            done.siteNoise = siteNoise
            done.finishedAt = now
            done.status = .succeeded
            try done.update(db)
            return done
        }
    }

    /// `[{"field": …, "php": …, "swift": …}]`, a side without the field left out (as the record decodes it).
    static func json(_ differences: [ParityFieldDifference]) -> String {
        let writer = JSONWriter(capacity: 64 + differences.count * 96)
        writer.raw("[")
        for (index, difference) in differences.enumerated() {
            if index > 0 { writer.raw(",") }
            var first = true
            writer.raw("{")
            writer.key("field", first: &first)
            writer.string(difference.field)
            if let php = difference.php {
                writer.key("php", first: &first)
                writer.string(php)
            }
            if let swift = difference.swift {
                writer.key("swift", first: &first)
                writer.string(swift)
            }
            writer.raw("}")
        }
        writer.raw("]")
        return writer.withBytes { String(decoding: $0, as: UTF8.self) }
    }

    static func json(_ names: [String]) -> String {
        let writer = JSONWriter(capacity: 16 + names.count * 48)
        writer.raw("[")
        for (index, name) in names.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.string(name)
        }
        writer.raw("]")
        return writer.withBytes { String(decoding: $0, as: UTF8.self) }
    }

    static func json(_ counts: [String: Int]) -> String {
        let writer = JSONWriter(capacity: 16 + counts.count * 48)
        writer.raw("{")
        for (index, (name, count)) in counts.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { writer.raw(",") }
            writer.string(name)
            writer.raw(":")
            writer.int(count)
        }
        writer.raw("}")
        return writer.withBytes { String(decoding: $0, as: UTF8.self) }
    }

    /// Marks a run failed: a run counts whole or not at all (no result was stored).
    package func failRun(_ run: ParityRunRecord, error: String) async throws {
        try await writer.write { db in
            var failed = run
            failed.status = .failed
            failed.finishedAt = clock.now()
            failed.error = error
            try failed.update(db)
        }
    }

    /// The site's runs, newest first.
    @available(*, noasync)
    package func runs(siteID: SiteID, limit: Int = 20) throws -> [ParityRunRecord] {
        try writer.read { db in try Self.runs(db, siteID: siteID, limit: limit) }
    }

    static func runs(_ db: Database, siteID: SiteID, limit: Int) throws -> [ParityRunRecord] {
        try ParityRunRecord.filter(Column("site_id") == siteID).order(Column("id").desc).limit(limit).fetchAll(db)
    }

    /// One run of the site, or nil.
    @available(*, noasync)
    package func run(id: Int64, siteID: SiteID) throws -> ParityRunRecord? {
        try writer.read { db in try ParityRunRecord.filter(Column("id") == id && Column("site_id") == siteID).fetchOne(db) }
    }

    /// Pages (not static files, includes or gone URLs) by their latest verdict.
    static func counts(_ db: Database, siteID: SiteID) throws -> ParityCounts {
        let row = try Row.fetchOne(
            db,
            sql: """
                SELECT ifnull(sum(parity = 'same'), 0) AS same, ifnull(sum(parity = 'different'), 0) AS different,
                ifnull(sum(parity = 'noisy'), 0) AS noisy, ifnull(sum(parity = 'error'), 0) AS error,
                ifnull(sum(parity IS NULL), 0) AS not_compared, ifnull(sum(parity = 'same' AND ready_to_flip = 1), 0) AS ready
                FROM urls WHERE site_id = ? AND gone = 0 AND owner != 'static' AND flags & \(URLFlags.include.rawValue) = 0
                """,
            arguments: [siteID]
        )!
        return ParityCounts(
            same: row["same"],
            different: row["different"],
            noisy: row["noisy"],
            error: row["error"],
            notCompared: row["not_compared"],
            readyToFlip: row["ready"]
        )
    }

    /// A run's results in path order, with each page's path.
    @available(*, noasync)
    package func results(runID: Int64) throws -> [(path: String, result: ParityResultRecord)] {
        try writer.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT u.path AS path, r.* FROM parity_results r JOIN urls u ON u.id = r.url_id WHERE r.run_id = ? ORDER BY u.path",
                arguments: [runID]
            ).map { row in (row["path"], try ParityResultRecord(row: row)) }
        }
    }

    /// A page's parity history, newest first: results of finished runs only.
    @available(*, noasync)
    package func history(urlID: Int64, limit: Int = 20) throws -> [ParityHistoryEntry] {
        try writer.read { db in try Self.history(db, urlID: urlID, limit: limit) }
    }

    static func history(_ db: Database, urlID: Int64, limit: Int) throws -> [ParityHistoryEntry] {
        let results = try ParityResultRecord.filter(Column("url_id") == urlID)
            .filter(sql: "run_id IN (SELECT id FROM parity_runs WHERE status = 'succeeded')")
            .order(Column("run_id").desc).limit(limit).fetchAll(db)
        let runs = try ParityRunRecord.filter(keys: Set(results.map(\.runID))).fetchAll(db)
        let byID = Dictionary(uniqueKeysWithValues: runs.map { ($0.id!, $0) })
        return results.compactMap { result in byID[result.runID].map { ParityHistoryEntry(run: $0, result: result) } }
    }

    /// Marks parity runs of dead processes interrupted.
    @discardableResult
    static func markInterruptedRuns(_ db: Database, now: Date) throws -> Int {
        try AppDatabase.interruptDeadRuns(
            db,
            table: ParityRunRecord.databaseTableName,
            message: "the parity process stopped before committing",
            now: now
        )
    }
}
