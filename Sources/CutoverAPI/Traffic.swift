import CutoverCore
import CutoverStore
internal import Foundation

extension Components.Schemas.Traffic {
    /// Requests to one URL path, from the imported access logs.
    package init(_ row: TrafficRow) {
        let counts = row.counts
        self.init(
            attributed: counts.attributed,
            bytes: counts.bytes,
            estimatedBefore: row.exactSince == nil ? nil : row.estimatedBefore,
            exactSince: row.exactSince.map { Date(timeIntervalSince1970: Double($0)) },
            firstSeen: Date(timeIntervalSince1970: Double(counts.firstSeen)),
            hits: counts.hits,
            humanHits: counts.hits - counts.botHits,
            lastSeen: Date(timeIntervalSince1970: Double(counts.lastSeen)),
            otherKeyHits: row.otherKeyHits,
            otherQueryHits: row.otherQueryHits,
            path: row.path,
            servedPHP: counts.servedPHP,
            servedSwift: counts.servedSwift,
            status2xx: counts.status2xx,
            status3xx: counts.status3xx,
            status4xx: counts.status4xx,
            status5xx: counts.status5xx
        )
    }
}

extension Components.Schemas.LogFile {
    /// An access log file and how far it has been read.
    package init(_ state: LogFileState) {
        self.init(
            badLines: state.badLines,
            firstImportedAt: state.firstImportedAt,
            format: state.format,
            gzip: state.gzip,
            lastImportedAt: state.lastImportedAt,
            lines: state.lines,
            offset: Int(state.offset),
            path: state.path,
            size: Int(state.size),
            skippedLines: state.skippedLines
        )
    }
}

extension Components.Schemas.TrafficDay {
    /// All requests of one UTC day.
    package init(_ day: TrafficDay) {
        self.init(
            attributed: day.attributed,
            day: CivilDate.text(daysSince1970: day.day),
            hits: day.hits,
            humanHits: day.humanHits,
            servedPHP: day.servedPHP,
            servedSwift: day.servedSwift,
            tailHits: day.tailHits
        )
    }
}

extension Components.Schemas.QueryValue {
    /// A query key's value as PHP reads it, and its hits; `value` nil sums the values beyond the cap.
    package init(_ value: QueryValue) { self.init(hits: value.hits, key: value.key, value: value.value) }
}

extension Components.Schemas.RankedPage {
    package init(_ page: RankedPage) { self.init(hits: page.hits, humanHits: page.humanHits, path: page.path) }
}

extension Components.Schemas.TrafficShare {
    /// How much of the page traffic of the last `days` days Swift served.
    package init(_ share: TrafficShare) {
        self.init(
            byLog: share.byLog,
            byPlan: share.byPlan,
            byProbe: share.byProbe,
            days: share.days,
            humanPageHits: share.humanPageHits,
            humanPercentOnSwift: share.humanPercentOnSwift,
            humanSwiftHits: share.humanSwiftHits,
            pageHits: share.pageHits,
            percentOnSwift: share.percentOnSwift,
            swiftHits: share.swiftHits
        )
    }
}

extension Components.Schemas.PageKeySuggestion {
    /// A query key that looks like it names the pages of a script, with the evidence.
    package init(_ suggestion: PageKeySuggestion) {
        self.init(
            distinctValues: suggestion.distinctValues,
            key: suggestion.key,
            keyHits: suggestion.keyHits,
            script: suggestion.script,
            scriptHits: suggestion.scriptHits,
            topValues: suggestion.topValues.map(Components.Schemas.QueryValue.init)
        )
    }
}

extension Components.Schemas.TrafficSummary {
    /// What the imported access logs say about a site's migration.
    package init(_ summary: TrafficSummary) {
        self.init(
            includeCount: summary.includeCount,
            includes: summary.includes,
            last30: .init(summary.last30),
            last7: .init(summary.last7),
            logsFrom: summary.logsFrom,
            logsTo: summary.logsTo,
            noise: summary.noise.map(Components.Schemas.RankedPage.init),
            noiseCount: summary.noiseCount,
            noiseHits: summary.noiseHits,
            orphanCount: summary.orphanCount,
            orphanDays: summary.orphanDays,
            orphans: summary.orphans,
            pageKeySuggestions: summary.pageKeySuggestions.map(Components.Schemas.PageKeySuggestion.init),
            portNext: summary.portNext.map(Components.Schemas.RankedPage.init),
            tail: .init(summary.tail)
        )
    }
}

extension Components.Schemas.TrafficTail {
    /// The log's tail over a window: exact totals, estimated paths.
    package init(_ tail: TrafficTailFigures) {
        self.init(
            bound: tail.bound,
            clientErrorRequests: tail.clientErrorRequests,
            days: tail.days,
            humanRequests: tail.humanRequests,
            paths: tail.paths.map {
                .init(certain: $0.certain, clientErrorHits: $0.clientErrorHits, days: $0.days, hits: $0.hits, humanHits: $0.humanHits, path: $0.path)
            },
            requests: tail.requests
        )
    }
}
