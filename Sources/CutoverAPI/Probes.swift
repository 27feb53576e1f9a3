import CutoverCore
import CutoverStore

extension Components.Schemas.ProbeRun {
    /// One probe run of a site.
    package init(_ run: ProbeRunRecord) {
        self.init(
            concurrency: run.concurrency,
            driftCount: run.driftCount,
            error: run.error,
            errorCount: run.errorCount,
            fallbackDetail: run.fallbackDetail,
            fallbackHealthy: run.fallbackHealthy,
            fallbackStatus: run.fallbackStatus,
            finishedAt: run.finishedAt,
            id: Int(run.id ?? 0),
            nodeDriftCount: run.nodeDriftCount,
            readyCount: run.readyCount,
            skippedDenied: run.skippedDenied,
            skippedIncludes: run.skippedIncludes,
            startedAt: run.startedAt,
            status: .init(run.status),
            timeoutsRetried: run.timeoutsRetried,
            urlCount: run.urlCount
        )
    }
}

extension Components.Schemas.ProbeResult {
    /// What one probe run saw at one URL.
    package init(_ result: ProbeResultRecord) {
        self.init(
            backendError: result.backendError,
            backendStatus: result.backendStatus,
            bodyHash: result.bodyHash,
            bodyTruncated: result.bodyTruncated,
            contentLength: result.contentLength.map(Int.init),
            contentType: result.contentType,
            drift: result.drift,
            errorKind: result.errorKind.map(Components.Schemas.ProbeErrorKind.init),
            errorMessage: result.errorMessage,
            expectedOwner: result.expectedOwner.map(Components.Schemas.Owner.init),
            latencyMs: result.latencyMs,
            location: result.location,
            observedOwner: result.observedOwner.map(Components.Schemas.Owner.init),
            ownerSource: result.ownerSource.map(Components.Schemas.OwnerSource.init),
            readyToFlip: result.readyToFlip,
            runID: Int(result.runID),
            status: result.status
        )
    }
}

extension Components.Schemas.OwnershipEvent {
    /// A change of owner of one URL.
    package init(_ event: OwnershipEventRecord) {
        self.init(
            actor: event.actor,
            at: event.at,
            fromOwner: event.fromOwner.map(Components.Schemas.Owner.init),
            reason: event.reason,
            toOwner: .init(event.toOwner)
        )
    }
}
