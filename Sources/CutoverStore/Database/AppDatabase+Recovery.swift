import Foundation
import GRDB

// Runs whose process died (a crash, a kill -9) are found by their pid when a command opens the
// database, whichever kind of job they were.
extension AppDatabase {
    /// Marks crawls and probe runs whose process has died as interrupted (dropping the results such
    /// a probe run had saved); returns how many.
    @available(*, noasync)
    @discardableResult
    package func recoverInterruptedRuns() throws -> Int {
        let now = clock.now()
        return try writer.write { db in
            try CrawlStore.markInterruptedCrawls(db, now: now) + ProbeStore.markInterruptedProbeRuns(db, now: now)
                + ParityStore.markInterruptedRuns(db, now: now)
        }
    }

    /// Marks `running` rows of a job table (crawls, probe runs) whose process has died as
    /// `interrupted`; returns how many.
    static func interruptDeadRuns(_ db: Database, table: String, message: String, now: Date) throws -> Int {
        let dead = try Row.fetchAll(db, sql: "SELECT id, pid FROM \(table) WHERE status = 'running'")
            .filter { !isAlive($0["pid"]) }
            .map { row -> Int64 in row["id"] }
        guard !dead.isEmpty else { return 0 }
        try db.execute(
            sql:
                "UPDATE \(table) SET status = 'interrupted', finished_at = ?, error = ? WHERE id IN (\(dead.map(String.init).joined(separator: ",")))",
            arguments: [now, message]
        )
        return dead.count
    }

    static func isAlive(_ pid: Int32?) -> Bool {
        guard let pid, pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}
