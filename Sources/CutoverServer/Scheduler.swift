import CutoverStore
import Foundation
import Logging
import ServiceLifecycle

/// Runs each scheduled site's access-log import (when it names logs), then its crawl, then its
/// probe, every `crawlEverySeconds`, inside
/// `cutover serve`. Uses the job runner, so a scheduled run never overlaps another job of the
/// same site (a manual trigger meanwhile gets 409), and a failing job is recorded while the
/// schedule goes on.
package struct Scheduler: Service {
    let database: AppDatabase
    let jobs: JobRunner
    let logger: Logger
    let tick: Duration
    /// Steps automatic canaries every interval, beside the jobs (nil: none are stepped).
    let canaries: CanaryRunner?

    package init(database: AppDatabase, jobs: JobRunner, logger: Logger, tick: Duration = .seconds(5), canaries: CanaryRunner? = nil) {
        self.canaries = canaries
        self.database = database
        self.jobs = jobs
        self.logger = logger
        self.tick = tick
    }

    /// Ticks until graceful shutdown, then returns normally (a thrown error would make the
    /// service group report a failure). Each started cycle goes on as a child task of this one
    /// (structured: the service waits for them, and cancels them when it stops).
    package func run() async throws {
        await withDiscardingTaskGroup { group in
            while !Task.isShuttingDownGracefully, !Task.isCancelled {
                for cycle in await startDue() {
                    group.addTask { await self.finish(cycle) }
                }
                if let canaries {
                    for (site, canary) in await canaries.due(now: database.clock.now()) {
                        group.addTask { await canaries.run(site: site, canary: canary) }
                    }
                }
                do {
                    try await cancelWhenGracefulShutdown { try await Task.sleep(for: tick) }
                } catch {
                    break
                }
            }
            group.cancelAll()
        }
    }

    /// A scheduled cycle whose first job has started; `finish(_:)` runs the rest.
    package struct Cycle: Sendable {
        package let site: String
        let record: SiteRecord
        let firstJob: Int
        let kind: JobKind
    }

    /// Starts the first job of a cycle for every site that is due and idle; returns those cycles.
    @discardableResult
    package func startDue(now: Date? = nil) async -> [Cycle] {
        let now = now ?? database.clock.now()
        let sites: [SiteRecord]
        do {
            sites = try await database.sites.all()
        } catch {
            logger.error("scheduler cannot read sites", metadata: ["error": .string("\(error)")])
            return []
        }
        var started: [Cycle] = []
        for site in sites {
            guard let next = site.nextScheduledAt, next <= now, await !jobs.isRunning(site: site.name) else { continue }
            do {
                let first: JobKind = site.accessLogs.isEmpty ? .crawl : .logs
                let job = try await jobs.start(first, site: site, trigger: "schedule")
                try await database.sites.markScheduled(siteID: site.id, at: now)
                started.append(Cycle(site: site.name, record: site, firstJob: job.id, kind: first))
            } catch {
                logger.warning("scheduled run not started", metadata: ["site": .string(site.name), "error": .string("\(error)")])
            }
        }
        return started
    }

    /// Logs, then crawl, then probe, then parity when the site's `parity.scheduled`. A failed log import (an unreadable file) does not stop the
    /// crawl; a failed crawl stops the probe; a cancelled cycle (the server stopping) starts
    /// nothing more.
    package func finish(_ cycle: Cycle) async {
        let site = cycle.record
        var crawlJob = cycle.firstJob
        if cycle.kind == .logs {
            _ = await finished(cycle.firstJob)
            if Task.isCancelled { return }
            do {
                crawlJob = try await jobs.start(.crawl, site: site, trigger: "schedule").id
            } catch {
                logger.warning("scheduled crawl not started", metadata: ["site": .string(site.name), "error": .string("\(error)")])
                return
            }
        }
        guard let crawled = await finished(crawlJob), crawled.state == .succeeded, !Task.isCancelled else { return }
        let probeJob: Int
        do {
            probeJob = try await jobs.start(.probe, site: site, trigger: "schedule").id
        } catch {
            logger.warning("scheduled probe not started", metadata: ["site": .string(site.name), "error": .string("\(error)")])
            return
        }
        // Parity last, when the site asks for it: it needs the probe's view of who answers.
        guard site.parity.scheduled, await finished(probeJob) != nil, !Task.isCancelled else { return }
        do {
            _ = try await jobs.start(.parity, site: site, trigger: "schedule")
        } catch {
            logger.warning("scheduled parity not started", metadata: ["site": .string(site.name), "error": .string("\(error)")])
        }
    }

    /// The job once it has finished, or nil when this task is cancelled first: the server
    /// stops the scheduler before the job runner, so a cycle must not outwait its job.
    private func finished(_ job: Int) async -> JobSnapshot? {
        guard let updates = await jobs.updates(of: job) else { return nil }
        for await _ in updates {}
        return Task.isCancelled ? nil : await jobs.job(job)
    }
}
