import CutoverCore
import GRDB

/// Splits what a log import counted between exact rows and the log's tail (#26.1).
///
/// A requested path keeps exact rows (`traffic`, `traffic_daily`, its queries) when it is in the
/// inventory, already has a row, or earns one; every other request is counted in one bounded
/// Space-Saving summary per UTC day (`traffic_tail`, `traffic_tail_days`). A path earns exact
/// rows when a day's summary is certain it had more than N/K requests that day, or when it is
/// requested on one day while another day's summary holds it. Its rows count from the stretch
/// that earned them on; the requests counted before stay in the summaries (`exact_since`).
///
/// One import holds one tail: it reads the summaries and the set of exact paths on its first
/// stretch, and keeps them in step with each stretch it stores. If a stretch's transaction fails,
/// `invalidate()` makes the next one read them again.
package final class TrafficTail {
    /// Paths per day's summary (K).
    package static let defaultCapacity = 1_000
    /// Days of summaries kept, counted back from the newest: the longest figure covers 30 days.
    package static let keptDays = 40

    let siteID: SiteID
    let capacity: Int
    private var loaded = false
    /// Hashes of the paths with exact rows or in the inventory (a collision only gives a path rows).
    private var exact: Set<Int> = []
    private var days: [Int: Day] = [:]
    /// How many days' summaries hold each path (the two-day rule).
    private var daysHolding: [String: Int] = [:]

    /// Of a path's requests counted since it took its counter: by people, and answered 4xx.
    struct Extras: AdditiveArithmetic, Sendable, Equatable {
        var human = 0
        var clientErrors = 0

        static let zero = Extras()
        static func + (a: Extras, b: Extras) -> Extras { Extras(human: a.human + b.human, clientErrors: a.clientErrors + b.clientErrors) }
        static func - (a: Extras, b: Extras) -> Extras { Extras(human: a.human - b.human, clientErrors: a.clientErrors - b.clientErrors) }

        init(human: Int = 0, clientErrors: Int = 0) {
            self.human = human
            self.clientErrors = clientErrors
        }

        init(_ counts: TrafficCounts) {
            self.init(human: counts.hits - counts.botHits, clientErrors: counts.status4xx)
        }
    }

    typealias Summary = SpaceSaving<String, Extras>

    /// One UTC day's summary and what it counted as a whole (a class: updated in place, never
    /// copied per request).
    final class Day {
        var summary: Summary
        var totals: Totals
        var changed = false

        init(summary: Summary, totals: Totals = Totals()) {
            self.summary = summary
            self.totals = totals
        }
    }

    struct Totals {
        var hits = 0
        var humanHits = 0
        var attributed = 0
        var servedSwift = 0
        var servedPHP = 0
        var clientErrors = 0

        mutating func add(_ counts: TrafficCounts, sign: Int = 1) {
            hits += sign * counts.hits
            humanHits += sign * (counts.hits - counts.botHits)
            attributed += sign * counts.attributed
            servedSwift += sign * counts.servedSwift
            servedPHP += sign * counts.servedPHP
            clientErrors += sign * counts.status4xx
        }
    }

    /// A stretch's requests of one tail path on one day, on their way to the day's summary (a
    /// small struct: sorting tuples of the whole counts went through generic value witnesses).
    struct Pending {
        var path: String
        var day: Int
        var hits: Int
        var extras: Extras
    }

    /// What a stretch's split did.
    package struct Split {
        /// Paths that earned exact rows in this stretch, with the requests the summaries had
        /// counted for them before (an upper bound; 0 when they had none).
        package var promoted: [String: Int] = [:]
        /// Requests counted in the tail.
        package var tailHits = 0
    }

    package init(siteID: SiteID, capacity: Int = TrafficTail.defaultCapacity) {
        self.siteID = siteID
        self.capacity = capacity
    }

    /// Forgets what was read: the next stretch reads the summaries again.
    package func invalidate() {
        loaded = false
        exact = []
        days = [:]
        daysHolding = [:]
    }

    private func load(_ db: Database) throws {
        guard !loaded else { return }
        invalidate()
        let paths = try String.fetchCursor(
            db,
            sql: "SELECT path FROM traffic WHERE site_id = ?1 UNION ALL SELECT path FROM urls WHERE site_id = ?1",
            arguments: [siteID]
        )
        while let path = try paths.next() { exact.insert(path.hashValue) }
        var entries: [Int: [Summary.Entry]] = [:]
        for row in try Row.fetchAll(
            db,
            sql: "SELECT day, path, hits, error, human_hits, hits_4xx FROM traffic_tail WHERE site_id = ?",
            arguments: [siteID]
        ) {
            let path: String = row["path"]
            let extras = Extras(human: row["human_hits"], clientErrors: row["hits_4xx"])
            entries[row["day"], default: []].append(.init(key: path, count: row["hits"], error: row["error"], payload: extras))
            daysHolding[path, default: 0] += 1
        }
        for row in try Row.fetchAll(db, sql: "SELECT * FROM traffic_tail_days WHERE site_id = ?", arguments: [siteID]) {
            let day: Int = row["day"]
            var totals = Totals()
            totals.hits = row["hits"]
            totals.humanHits = row["human_hits"]
            totals.attributed = row["attributed"]
            totals.servedSwift = row["served_swift"]
            totals.servedPHP = row["served_php"]
            totals.clientErrors = row["hits_4xx"]
            // Entries sorted by count restore the same summary whatever order the table gives.
            let kept = (entries[day] ?? []).sorted { ($0.count, $0.key) < ($1.count, $1.key) }
            days[day] = Day(summary: Summary(capacity: row["capacity"], total: totals.hits, floor: row["floor"], entries: kept), totals: totals)
        }
        loaded = true
    }

    private func day(_ number: Int) -> Day {
        if let day = days[number] { return day }
        let day = Day(summary: Summary(capacity: capacity))
        days[number] = day
        return day
    }

    /// One fewer day's summary holds `path`.
    private func released(_ path: String) {
        if let held = daysHolding[path], held > 1 { daysHolding[path] = held - 1 } else { daysHolding[path] = nil }
    }

    /// Takes the tail's requests out of `batch` (counting them in the day summaries) and leaves
    /// the exact rows' in it, including paths that earn rows now.
    ///
    /// A path earns rows in a stretch when another day's summary holds it, or when its day's
    /// summary is certain it had more than N/K requests that day and more than one: mid-import a
    /// day may be only beginning (N/K below 1), and a scanner's one-off must not earn a row at the
    /// start of every day. On the import's last stretch (`closing`) a day is all there is so far,
    /// and one request above N/K suffices: on a quiet site every requested path keeps rows.
    package func split(_ batch: inout TrafficBatch, closing: Bool, db: Database) throws -> Split {
        var split = Split()
        // Nothing read (an unchanged file's last stretch): no need to read the summaries.
        guard !batch.days.isEmpty || !batch.paths.isEmpty else { return split }
        try load(db)
        var exactDays: [TrafficBatch.DayKey: TrafficCounts] = [:]
        var candidates: Set<String> = []
        var touched: Set<Int> = []
        var pairs: [Pending] = []
        pairs.reserveCapacity(batch.days.count)
        for (key, counts) in batch.days {
            if exact.contains(key.path.hashValue) {
                exactDays[key] = counts
            } else {
                pairs.append(Pending(path: key.path, day: key.day, hits: counts.hits, extras: Extras(counts)))
                touched.insert(key.day)
                let day = day(key.day)
                day.totals.add(counts)
                day.changed = true
            }
        }
        // A stretch's counts reach the summaries lightest first: a dictionary's order is random,
        // and a path counted early can lose its counter to the stretch's one-offs, while one
        // counted last keeps it. So the heavier paths of a stretch keep theirs, whatever the order.
        pairs.sort { $0.hits < $1.hits }
        for pending in pairs {
            let day = day(pending.day)
            let added = day.summary.add(pending.path, weight: pending.hits, payload: pending.extras)
            if let evicted = added.evicted { released(evicted) }
            if !added.wasKept {
                // Requested on two UTC days, as the summaries tell: another day holds it.
                if daysHolding[pending.path] != nil { candidates.insert(pending.path) }
                daysHolding[pending.path, default: 0] += 1
            } else if let held = daysHolding[pending.path], held > 1 {
                candidates.insert(pending.path)
            }
        }
        guard !pairs.isEmpty else { return split }
        // Certain to stand above the day's error bound, and requested in this stretch.
        for number in touched {
            guard let day = days[number] else { continue }
            let bound = closing ? day.summary.bound : max(day.summary.bound, 1)
            for entry in day.summary.entries
            where entry.guaranteed > bound && batch.days[.init(day: number, path: entry.key)] != nil {
                candidates.insert(entry.key)
            }
        }
        for path in candidates {
            for number in touched {
                let key = TrafficBatch.DayKey(day: number, path: path)
                guard let counts = batch.days[key], let day = days[number] else { continue }
                exactDays[key] = counts
                let held = day.summary.entry(path) != nil
                if !day.summary.subtract(path, weight: counts.hits, payload: Extras(counts)), held { released(path) }
                day.totals.add(counts, sign: -1)
            }
            split.promoted[path] = days.values.reduce(0) { $0 + ($1.summary.entry(path)?.count ?? 0) }
            exact.insert(path.hashValue)
        }
        batch.days = exactDays
        var exactPaths: [String: TrafficCounts] = [:]
        var tailPaths: Set<String> = []
        for (path, counts) in batch.paths {
            if exact.contains(path.hashValue) {
                exactPaths[path] = counts
            } else {
                split.tailHits += counts.hits
                if !batch.queries.isEmpty || !batch.values.isEmpty || !batch.otherValues.isEmpty || !batch.otherQueryHits.isEmpty
                    || !batch.otherKeyHits.isEmpty
                {
                    tailPaths.insert(path)
                }
            }
        }
        batch.paths = exactPaths
        if !batch.sides.isEmpty { batch.sides = batch.sides.filter { exact.contains($0.key.path.hashValue) } }
        guard !tailPaths.isEmpty else { return split }
        batch.queries = batch.queries.filter { !tailPaths.contains($0.key.path) }
        batch.values = batch.values.filter { !tailPaths.contains($0.key.path) }
        batch.otherValues = batch.otherValues.filter { !tailPaths.contains($0.key.path) }
        batch.otherQueryHits = batch.otherQueryHits.filter { !tailPaths.contains($0.key) }
        batch.otherKeyHits = batch.otherKeyHits.filter { !tailPaths.contains($0.key) }
        return split
    }

    /// Writes the summaries `split` changed, marks the promoted rows, and drops summaries older
    /// than `keptDays` before the newest.
    package func store(_ split: Split, db: Database) throws {
        for (path, before) in split.promoted where before > 0 {
            try db.execute(
                sql: "UPDATE traffic SET exact_since = first_seen, estimated_before = ? WHERE site_id = ? AND path = ? AND exact_since IS NULL",
                arguments: [before, siteID, path]
            )
        }
        var insert = try BoundStatement(
            db,
            sql: "INSERT INTO traffic_tail (site_id, day, path, hits, error, human_hits, hits_4xx) VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        for (number, day) in days where day.changed {
            let totals = day.totals
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO traffic_tail_days (site_id, day, hits, human_hits, attributed, served_swift, served_php, hits_4xx, capacity, floor)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    siteID, number, totals.hits, totals.humanHits, totals.attributed, totals.servedSwift, totals.servedPHP,
                    totals.clientErrors, day.summary.capacity, day.summary.floor,
                ]
            )
            try db.execute(sql: "DELETE FROM traffic_tail WHERE site_id = ? AND day = ?", arguments: [siteID, number])
            for entry in day.summary.entries {
                insert.bind(siteID)
                insert.bind(number)
                insert.bind(entry.key)
                insert.bind(entry.count)
                insert.bind(entry.error)
                insert.bind(max(0, entry.payload.human))
                insert.bind(max(0, entry.payload.clientErrors))
                try insert.run()
            }
            day.changed = false
        }
        guard let newest = days.keys.max() else { return }
        let oldest = newest - Self.keptDays
        let expired = days.keys.filter { $0 <= oldest }
        guard !expired.isEmpty else { return }
        try db.execute(sql: "DELETE FROM traffic_tail WHERE site_id = ? AND day <= ?", arguments: [siteID, oldest])
        try db.execute(sql: "DELETE FROM traffic_tail_days WHERE site_id = ? AND day <= ?", arguments: [siteID, oldest])
        for number in expired {
            for entry in days[number]?.summary.entries ?? [] { released(entry.key) }
            days[number] = nil
        }
    }
}
