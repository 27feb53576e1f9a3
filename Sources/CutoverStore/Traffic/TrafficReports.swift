import CutoverCore
import Foundation

// What the imported access logs say, as the traffic store computes it. The API's shapes for
// these (Components.Schemas in CutoverAPI, generated from the OpenAPI document) are made from them.

/// A query key's value as PHP reads it, and its hits; `value` nil sums the values beyond the cap.
package struct QueryValue: Sendable, Hashable {
    package var key: String
    package var value: String?
    package var hits: Int

    package init(key: String, value: String?, hits: Int) {
        self.key = key
        self.value = value
        self.hits = hits
    }
}

/// All requests of one UTC day.
package struct TrafficDay: Sendable, Hashable {
    /// Days since 1970 (UTC); `CivilDate.text` writes it as `2026-12-03`.
    package var day: Int
    package var hits: Int
    package var humanHits: Int
    package var attributed: Int
    package var servedSwift: Int
    package var servedPHP: Int
    /// Of `hits`, those counted in the log's tail (paths without exact rows).
    package var tailHits: Int

    package init(day: Int, hits: Int, humanHits: Int, attributed: Int, servedSwift: Int, servedPHP: Int, tailHits: Int = 0) {
        self.tailHits = tailHits
        self.day = day
        self.hits = hits
        self.humanHits = humanHits
        self.attributed = attributed
        self.servedSwift = servedSwift
        self.servedPHP = servedPHP
    }
}

/// Days since 1970 to a civil (proleptic Gregorian, UTC) date: Howard Hinnant's civil_from_days.
package enum CivilDate {
    /// `2026-12-03`.
    package static func text(daysSince1970 days: Int) -> String {
        let (year, month, day) = from(daysSince1970: days)
        return String(format: "%04d-%02d-%02d", year, month, day)
    }

    package static func from(daysSince1970 days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// How much of the page traffic of the last `days` days Swift served.
package struct TrafficShare: Sendable, Hashable {
    package var days: Int
    /// Requests to pages (PHP or Swift URLs, and requested URLs without a file that the fallback
    /// answers); static files and 4xx-only noise are left out.
    package var pageHits: Int
    package var swiftHits: Int
    /// nil when there were no page requests.
    package var percentOnSwift: Double?
    /// How the page hits were attributed: by the log line itself (`%R`, owner header), by the
    /// latest probe of the URL, or by the inventory and plan where no probe exists.
    package var byLog: Int
    package var byProbe: Int
    package var byPlan: Int
    /// The same for requests by people only (bots left out by their user agent): attributed by
    /// the log where the line says, else by the probe or the inventory as above.
    package var humanPageHits: Int
    package var humanSwiftHits: Int
    package var humanPercentOnSwift: Double?

    package init(days: Int) {
        self.days = days
        humanPageHits = 0
        humanSwiftHits = 0
        pageHits = 0
        swiftHits = 0
        byLog = 0
        byProbe = 0
        byPlan = 0
    }
}

/// A page and its requests over the summary's window.
package struct RankedPage: Sendable, Hashable {
    package var path: String
    package var hits: Int
    package var humanHits: Int

    package init(path: String, hits: Int, humanHits: Int) {
        self.path = path
        self.hits = hits
        self.humanHits = humanHits
    }
}

/// What the imported access logs say about a site's migration.
package struct TrafficSummary: Sendable, Hashable {
    /// Days without a person's request after which a PHP page is an orphan, unless asked otherwise.
    package static let defaultOrphanDays = 30
    /// First and last UTC day with imported traffic (nil: no log imported yet).
    package var logsFrom: String?
    package var logsTo: String?
    package var last7: TrafficShare
    package var last30: TrafficShare
    /// PHP pages not yet planned for Swift that people requested, most requested first.
    package var portNext: [RankedPage]
    /// PHP pages no person requested in the last `orphanDays` days: candidates to delete rather
    /// than port (only as good as the logs' coverage: see `logsFrom`).
    package var orphanDays: Int
    package var orphanCount: Int
    package var orphans: [String]
    /// `.php` files no person ever requested that answer with an error (403, 404, 5xx) or an
    /// empty body when probed: included files, not pages (URLs flagged `include`).
    package var includeCount: Int
    /// The first of them by path (`GET /api/sites/S/urls?include=true` lists them all).
    package var includes: [String]
    /// Requested URLs without a file that only ever got 4xx (scanners, mistyped links): kept
    /// out of the page figures.
    package var noiseCount: Int
    package var noiseHits: Int
    package var noise: [RankedPage]
    /// Query keys that look like they name a script's pages (`/doku.php` → `id`), not yet declared.
    package var pageKeySuggestions: [PageKeySuggestion]
    /// The log's tail over the last 30 days (paths without exact rows): estimates.
    package var tail = TrafficTailFigures()

    package init(orphanDays: Int) {
        pageKeySuggestions = []
        last7 = TrafficShare(days: 7)
        last30 = TrafficShare(days: 30)
        portNext = []
        self.orphanDays = orphanDays
        orphanCount = 0
        orphans = []
        includeCount = 0
        includes = []
        noiseCount = 0
        noiseHits = 0
        noise = []
    }
}

/// The log's tail over a window of UTC days (#26.1): requests to paths without exact rows,
/// counted in one bounded summary per day and merged. Every figure here is an estimate.
package struct TrafficTailFigures: Sendable, Hashable {
    /// Days of the window that have a summary.
    package var days: Int
    /// Requests counted in the tail (exact: every tail request adds to its day's total).
    package var requests: Int
    /// By people, and answered 4xx (exact, as totals).
    package var humanRequests: Int
    package var clientErrorRequests: Int
    /// How far any path's estimate may be from its true count: the sum over the days of N/K.
    package var bound: Int
    /// The most requested tail paths, estimated.
    package var paths: [TrafficTailPath]

    package init(
        days: Int = 0,
        requests: Int = 0,
        humanRequests: Int = 0,
        clientErrorRequests: Int = 0,
        bound: Int = 0,
        paths: [TrafficTailPath] = []
    ) {
        self.days = days
        self.requests = requests
        self.humanRequests = humanRequests
        self.clientErrorRequests = clientErrorRequests
        self.bound = bound
        self.paths = paths
    }
}

/// One path of the tail over a window: the sum of its day summaries' counts.
package struct TrafficTailPath: Sendable, Hashable {
    package var path: String
    /// Estimated requests: each day's count overestimates by at most that day's error, and a
    /// day whose summary dropped the path may have had up to N/K of it.
    package var hits: Int
    /// Requests it certainly had (the counts less their errors).
    package var certain: Int
    /// Of the requests counted since it held each day's counter: by people, answered 4xx.
    package var humanHits: Int
    package var clientErrorHits: Int
    /// Days whose summaries hold it.
    package var days: Int

    package init(path: String, hits: Int, certain: Int, humanHits: Int, clientErrorHits: Int, days: Int) {
        self.path = path
        self.hits = hits
        self.certain = certain
        self.humanHits = humanHits
        self.clientErrorHits = clientErrorHits
        self.days = days
    }
}

/// One side's requests to a page over a window of UTC days (`traffic_sides`): what a canary
/// compares with the other side.
package struct SideFigures: Sendable, Hashable {
    package var side: Owner
    package var hits: Int
    package var status2xx: Int
    package var status3xx: Int
    package var status4xx: Int
    package var status5xx: Int
    package var statusOther: Int
    /// The durations of the `latency.total` requests whose line carried one.
    package var latency: LatencyHistogram

    package init(side: Owner) {
        self.side = side
        hits = 0
        status2xx = 0
        status3xx = 0
        status4xx = 0
        status5xx = 0
        statusOther = 0
        latency = LatencyHistogram()
    }
}
