import CutoverCore
import CutoverExport
import CutoverFleet
import CutoverLogs
import CutoverStore
import Foundation
import Logging

/// The `canary` job (#29): every interval of each running automatic canary, imports its site's
/// access logs (what is new since the last import) and analyses the step, then promotes, holds,
/// waits or rolls back (`CanaryStepper`). It runs beside the job runner's jobs, not in their
/// queue: a long crawl or parity run of the site never delays a rollback.
package actor CanaryRunner {
    let database: AppDatabase
    let logger: Logger
    let logRoots: LogRoots
    let logTimeLimit: Duration
    /// When each canary (by id) was last analysed by this process.
    private var lastRun: [Int64: Date] = [:]
    private var inFlight: Set<Int64> = []

    package init(database: AppDatabase, logger: Logger, logRoots: LogRoots, logTimeLimit: Duration = .seconds(600)) {
        self.database = database
        self.logger = logger
        self.logRoots = logRoots
        self.logTimeLimit = logTimeLimit
    }

    /// The automatic canaries due now, marked as in flight; `run(_:)` each.
    package func due(now: Date) async -> [(site: SiteRecord, canary: CanaryRecord)] {
        let sites: [SiteRecord]
        do {
            sites = try await database.sites.all()
        } catch {
            logger.error("canary runner cannot read sites", metadata: ["error": .string("\(error)")])
            return []
        }
        var found: [(SiteRecord, CanaryRecord)] = []
        for site in sites {
            guard let canaries = try? await database.plan.canaries(siteID: site.id) else { continue }
            for canary in canaries where canary.state == .running && canary.automatic && !inFlight.contains(canary.id) {
                if let last = lastRun[canary.id], now.timeIntervalSince(last) < Double(canary.policy.intervalSeconds) { continue }
                inFlight.insert(canary.id)
                lastRun[canary.id] = now
                found.append((site, canary))
            }
        }
        return found
    }

    /// Imports the site's logs, then steps the canary; a failure is recorded as a hold with the
    /// reason, never thrown.
    package func run(site: SiteRecord, canary: CanaryRecord) async {
        defer { inFlight.remove(canary.id) }
        var importProblem: String?
        if !site.accessLogs.isEmpty {
            do {
                var importer = LogImporter(database: database, site: site, format: try LogFormat(site.accessLogFormat), logger: logger)
                importer.roots = logRoots
                importer.timeLimit = logTimeLimit
                let configured = importer
                let report = try await offEventLoop { isCancelled in try configured.importConfigured(isCancelled: isCancelled) }
                // Another import of the same file (the scheduled logs job) is as good as this one.
                let errors = report.errors.filter { !$0.contains("another import of this file") }
                if !errors.isEmpty { importProblem = errors.joined(separator: "; ") }
            } catch {
                importProblem = "\(error)"
            }
        }
        do {
            if let importProblem {
                let reason = "holding at \(canary.weight) %: the access logs could not be imported (\(ConfigText.visible(importProblem, limit: 300)))"
                try await database.plan.recordCanaryDecision(
                    siteID: site.id,
                    name: canary.name,
                    decision: .hold,
                    reason: reason,
                    figures: nil,
                    actor: "schedule"
                )
                logger.warning("canary held", metadata: ["site": .string(site.name), "canary": .string(canary.name), "reason": .string(reason)])
                return
            }
            let outcome = try await CanaryStepper(database: database, logger: logger).step(site: site, name: canary.name)
            logger.info(
                "canary analysed",
                metadata: [
                    "site": .string(site.name), "canary": .string(canary.name), "decision": .string(outcome.decision.rawValue),
                    "weight": .string("\(outcome.weightBefore) -> \(outcome.canary.weight)"),
                ]
            )
            if let error = outcome.publishError {
                logger.error(
                    "canary weights not written",
                    metadata: ["site": .string(site.name), "canary": .string(canary.name), "error": .string(error)]
                )
            }
        } catch {
            logger.warning(
                "canary not analysed",
                metadata: ["site": .string(site.name), "canary": .string(canary.name), "error": .string("\(error)")]
            )
        }
    }
}
