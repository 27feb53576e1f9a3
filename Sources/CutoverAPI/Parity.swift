import CutoverCore
import CutoverStore
package import Foundation

extension Components.Schemas.ParityRun {
    /// One parity run of a site.
    package init(_ run: ParityRunRecord) {
        self.init(
            concurrency: run.concurrency,
            differentCount: run.differentCount,
            error: run.error,
            errorCount: run.errorCount,
            finishedAt: run.finishedAt,
            id: Int(run.id ?? 0),
            noisyCount: run.noisyCount,
            notComparedCount: run.notComparedCount,
            sameCount: run.sameCount,
            siteNoise: run.siteNoise,
            startedAt: run.startedAt,
            status: .init(run.status),
            urlCount: run.urlCount
        )
    }
}

extension Components.Schemas.ParityResult {
    /// One page's comparison in a run; `at` is when the run started (in a URL's history).
    package init(_ result: ParityResultRecord, path: String, at: Date? = nil) {
        self.init(
            at: at,
            differences: result.differences.map { Components.Schemas.ParityDifference(field: $0.field, php: $0.php, swift: $0.swift) },
            fields: result.fields,
            hidden: .init(additionalProperties: result.hidden),
            noise: result.noise,
            path: path,
            phpHash: result.phpHash,
            reason: result.reason,
            runId: Int(result.runID),
            swiftHash: result.swiftHash,
            urlId: Int(result.urlID),
            verdict: .init(result.verdict)
        )
    }
}

extension Components.Schemas.ParityRunDetail {
    package init(_ run: ParityRunRecord, _ results: [(path: String, result: ParityResultRecord)]) {
        self.init(results: results.map { Components.Schemas.ParityResult($0.result, path: $0.path) }, run: Components.Schemas.ParityRun(run))
    }
}

extension Components.Schemas.ParityCounts {
    package init(_ counts: ParityCounts) {
        self.init(
            different: counts.different,
            error: counts.error,
            noisy: counts.noisy,
            notCompared: counts.notCompared,
            readyToFlip: counts.readyToFlip,
            same: counts.same
        )
    }
}
