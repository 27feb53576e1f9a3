import CutoverProbe
import CutoverStore

/// Asks the live site who answers each URL.
struct ProbeJob: JobWork {
    static let kind = JobKind.probe

    func run(site: SiteRecord, with context: JobContext, report: @escaping @Sendable (Int, Int?) -> Void) async throws -> JobOutcome {
        let prober = Prober(database: context.database, configuration: context.probeConfiguration, logger: context.logger)
        let probe = try await prober.probe(site: site) { progress in report(progress.done, progress.total) }
        return JobOutcome(runID: probe.run.id)
    }
}
