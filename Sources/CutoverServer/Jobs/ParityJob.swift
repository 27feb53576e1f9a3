import CutoverParity
import CutoverProbe
import CutoverStore

/// Compares how Swift and PHP answer each page (or the selected ones), through Apache, and
/// stores the run.
struct ParityJob: JobWork {
    static let kind = JobKind.parity

    func run(site: SiteRecord, with context: JobContext, report: @escaping @Sendable (Int, Int?) -> Void) async throws -> JobOutcome {
        let selection = context.selection
        let pages = try await context.database.blocking { try $0.plan.parityPages(siteID: site.id, selection) }
        report(0, pages.count)
        let check = ParityCheck(database: context.database, configuration: context.probeConfiguration, logger: context.logger)
        let rules = ParityRules.site(site, bodyCap: context.probeConfiguration.bodyCap)
        let parity = try await check.check(site: site, pages: pages, rules: rules) { done, total in report(done, total) }
        return JobOutcome(runID: parity.run.id)
    }
}
