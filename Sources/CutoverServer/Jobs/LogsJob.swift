import CutoverCore
import CutoverLogs
import CutoverStore

/// Imports the site's configured access logs, with the site's format, inside the log roots.
struct LogsJob: JobWork {
    static let kind = JobKind.logs

    func run(site: SiteRecord, with context: JobContext, report: @escaping @Sendable (Int, Int?) -> Void) async throws -> JobOutcome {
        guard !site.accessLogs.isEmpty else {
            throw JobFailure("site '\(site.name)' has no access logs configured (set accessLogs)")
        }
        var configured = LogImporter(
            database: context.database,
            site: site,
            format: try LogFormat(site.accessLogFormat),
            logger: context.logger
        )
        configured.roots = context.logRoots
        configured.timeLimit = context.logTimeLimit
        let importer = configured
        let result = try await offEventLoop { isCancelled in
            try importer.importConfigured(isCancelled: isCancelled) { done, total in report(done, total) }
        }
        if result.files.isEmpty && result.errors.isEmpty {
            throw JobFailure("no file matches the access logs \(site.accessLogs.joined(separator: ", "))")
        }
        return JobOutcome(
            state: result.errors.isEmpty ? .succeeded : .failed,
            error: result.errors.isEmpty ? nil : result.errors.joined(separator: "; ")
        )
    }
}
