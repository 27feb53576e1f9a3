import CutoverStore
import Foundation
import Logging
import ServiceLifecycle

/// Runs each scheduled site's access-log import (when it names logs), then its crawl, then its
/// probe, every `crawlEverySeconds`, inside
/// `cutover serve`. Uses the job runner, so a scheduled run never overlaps another job of the
/// same site (a manual trigger meanwhile gets 409), and a failing job is recorded while the
/// schedule goes on.
public struct Scheduler: Service {
    let database: AppDatabase
    let jobs: JobRunner
    let logger: Logger
    let tick: Duration

    public init(database: AppDatabase, jobs: JobRunner, logger: Logger, tick: Duration = .seconds(5)) {
        self.database = database
        self.jobs = jobs
        self.logger = logger
        self.tick = tick
    }

    /// Ticks until graceful shutdown, then returns normally (a thrown error would make the
    /// service group report a failure).
    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            await startDue()
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: tick) }
            } catch {
                return
            }
        }
    }

    /// Starts a cycle for every site that is due and idle; returns the names of those started.
    @discardableResult
    public func startDue(now: Date? = nil) async -> [String] {
        let now = now ?? database.clock.now()
        let sites: [SiteRecord]
        do {
            sites = try await database.sites.all()
        } catch {
            logger.error("scheduler cannot read sites", metadata: ["error": .string("\(error)")])
            return []
        }
        var started: [String] = []
        for site in sites {
            guard let next = site.nextScheduledAt, next <= now, await !jobs.isRunning(site: site.name) else { continue }
            do {
                let first: JobKind = site.accessLogs.isEmpty ? .crawl : .logs
                let job = try await jobs.start(first, site: site, trigger: "schedule")
                try await database.sites.markScheduled(siteID: site.id, at: now)
                started.append(site.name)
                Task { await continueCycle(after: job.id, kind: first, site: site) }
            } catch {
                logger.warning("scheduled run not started", metadata: ["site": .string(site.name), "error": .string("\(error)")])
            }
        }
        return started
    }

    /// Logs, then crawl, then probe. A failed log import (an unreadable file) does not stop the
    /// crawl; a failed crawl stops the probe.
    private func continueCycle(after job: Int, kind: JobKind, site: SiteRecord) async {
        var crawlJob = job
        if kind == .logs {
            _ = await jobs.wait(for: job)
            do {
                crawlJob = try await jobs.start(.crawl, site: site, trigger: "schedule").id
            } catch {
                logger.warning("scheduled crawl not started", metadata: ["site": .string(site.name), "error": .string("\(error)")])
                return
            }
        }
        guard let finished = await jobs.wait(for: crawlJob), finished.state == .succeeded else { return }
        do {
            _ = try await jobs.start(.probe, site: site, trigger: "schedule")
        } catch {
            logger.warning("scheduled probe not started", metadata: ["site": .string(site.name), "error": .string("\(error)")])
        }
    }
}
