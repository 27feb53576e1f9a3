import CutoverCore
import CutoverStore
package import Foundation

extension Components.Schemas.Traffic {
    /// Requests to one URL path, from the imported access logs.
    package init(_ row: TrafficRow) {
        let counts = row.counts
        self.init(
            attributed: counts.attributed,
            bytes: counts.bytes,
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
