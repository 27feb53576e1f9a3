import CutoverCore
import CutoverLogs
import CutoverProbe
import CutoverStore
import Foundation
import Logging
import Synchronization

package enum JobKind: String, Sendable, CaseIterable {
    case crawl, probe
    /// Import the site's configured access logs.
    case logs
    /// Compare how Swift and PHP answer each page, through Apache.
    case parity
}

package enum JobState: String, Sendable {
    case running, succeeded, failed, cancelled
}

/// A job as the API shows it.
package struct JobSnapshot: Sendable, Hashable {
    package var id: Int
    package var site: String
    package var kind: JobKind
    package var state: JobState
    package var trigger: String
    package var startedAt: Date
    package var finishedAt: Date?
    package var done: Int
    package var total: Int?
    /// The crawl or probe run it produced.
    package var runID: Int64?
    package var error: String?
}

package enum JobError: Error, CustomStringConvertible, Equatable {
    case alreadyRunning(site: String, jobID: Int)
    case shuttingDown

    package var description: String {
        switch self {
        case .alreadyRunning(let site, let id): "a job of site '\(site)' is already running (job \(id))"
        case .shuttingDown: "the server is shutting down"
        }
    }
}

/// Runs jobs in the background, never two of the same site at once: starts them, tracks their
/// progress, tells watchers and finishes them. What each kind does is a `JobWork` (Jobs/).
package actor JobRunner {
    let database: AppDatabase
    let logger: Logger
    let probeConfiguration: ProbeConfiguration
    let metrics: ServerMetrics?
    /// Where the logs job may read (a site's `accessLogs` is untrusted text).
    let logRoots: LogRoots
    /// How long one logs job may read; the stretches it stored stay, the next run goes on.
    let logTimeLimit: Duration
    private var jobs: [Int: JobSnapshot] = [:]
    private var tasks: [Int: Task<Void, Never>] = [:]
    private var runningBySite: [String: Int] = [:]
    /// Event streams (SSE) watching each running job: pushed on every change, finished with it.
    private var watchers: [Int: [UUID: AsyncStream<JobSnapshot>.Continuation]] = [:]
    private var nextID = 1
    private var closed = false
    /// Called after every job ends (the server clears its read cache).
    private let onFinish: @Sendable () -> Void
    private let retained = 200
    /// What each kind of job does.
    private let works = JobWorks.standard

    package init(
        database: AppDatabase,
        logger: Logger,
        probeConfiguration: ProbeConfiguration = ProbeConfiguration(),
        metrics: ServerMetrics? = nil,
        logRoots: LogRoots = LogRoots(LogRoots.defaultRoots),
        logTimeLimit: Duration = .seconds(600),
        onFinish: @escaping @Sendable () -> Void = {}
    ) {
        self.metrics = metrics
        self.logRoots = logRoots
        self.logTimeLimit = logTimeLimit
        self.database = database
        self.logger = logger
        self.probeConfiguration = probeConfiguration
        self.onFinish = onFinish
    }

    /// Starts a job, or refuses when the site already has one running.
    /// `selection` narrows the pages a parity job compares (every page without it).
    package func start(_ kind: JobKind, site: SiteRecord, trigger: String = "api", selection: URLSelection? = nil) throws -> JobSnapshot {
        if closed { throw JobError.shuttingDown }
        if let running = runningBySite[site.name] { throw JobError.alreadyRunning(site: site.name, jobID: running) }
        let id = nextID
        nextID += 1
        let job = JobSnapshot(id: id, site: site.name, kind: kind, state: .running, trigger: trigger, startedAt: database.clock.now(), done: 0)
        jobs[id] = job
        runningBySite[site.name] = id
        tasks[id] = Task { await self.execute(id: id, kind: kind, site: site, selection: selection) }
        pruneFinished()
        return job
    }

    /// Waits for a job to finish and returns its final state.
    package func wait(for id: Int) async -> JobSnapshot? {
        if let task = tasks[id] { await task.value }
        return jobs[id]
    }

    package func job(_ id: Int) -> JobSnapshot? { jobs[id] }

    /// The job's snapshots as they change, starting with the current one; the stream finishes
    /// when the job does (its last element is then the final state, unless a newer one replaced
    /// it in the buffer: read `job(_:)` after the stream ends). Nil for an unknown job.
    package func updates(of id: Int) -> AsyncStream<JobSnapshot>? {
        guard let job = jobs[id] else { return nil }
        let (stream, continuation) = AsyncStream.makeStream(of: JobSnapshot.self, bufferingPolicy: .bufferingNewest(4))
        continuation.yield(job)
        guard job.state == .running else {
            continuation.finish()
            return stream
        }
        let key = UUID()
        watchers[id, default: [:]][key] = continuation
        continuation.onTermination = { _ in Task { await self.unwatch(id, key) } }
        return stream
    }

    private func unwatch(_ id: Int, _ key: UUID) {
        watchers[id]?[key] = nil
        if watchers[id]?.isEmpty == true { watchers[id] = nil }
    }

    /// Pushes the job's current state to its watchers; finishes them when it has ended.
    private func notify(_ id: Int) {
        guard let job = jobs[id], let watching = watchers[id] else { return }
        for continuation in watching.values { continuation.yield(job) }
        if job.state != .running {
            watchers[id] = nil
            for continuation in watching.values { continuation.finish() }
        }
    }

    package func list() -> [JobSnapshot] { jobs.values.sorted { $0.id > $1.id } }

    package func isRunning(site: String) -> Bool { runningBySite[site] != nil }

    /// Cancels running jobs and waits for them, so the database is left consistent on shutdown.
    package func shutdown() async {
        closed = true
        let running = Array(tasks.values)
        for task in running { task.cancel() }
        for task in running { await task.value }
    }

    /// Runs the job while one child task applies its progress updates in order (the newest
    /// one wins when updates come faster than they are applied).
    private func execute(id: Int, kind: JobKind, site: SiteRecord, selection: URLSelection?) async {
        let (updates, sink) = AsyncStream.makeStream(of: (done: Int, total: Int?).self, bufferingPolicy: .bufferingNewest(1))
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await update in updates { await self.progress(id, update.done, update.total) }
            }
            await run(id: id, kind: kind, site: site, selection: selection) { done, total in sink.yield((done, total)) }
            sink.finish()
        }
    }

    private func run(
        id: Int,
        kind: JobKind,
        site: SiteRecord,
        selection: URLSelection?,
        report: @escaping @Sendable (Int, Int?) -> Void
    ) async {
        do {
            guard let work = works[kind] else { throw JobFailure("no job of kind '\(kind.rawValue)' is registered") }
            let context = JobContext(
                database: database,
                logger: logger,
                probeConfiguration: probeConfiguration,
                logRoots: logRoots,
                logTimeLimit: logTimeLimit,
                selection: selection
            )
            let outcome = try await work.run(site: site, with: context, report: report)
            finish(id, state: outcome.state, runID: outcome.runID, error: outcome.error)
        } catch is CancellationError {
            finish(id, state: .cancelled, runID: nil, error: "cancelled")
        } catch {
            logger.error("job failed", metadata: ["job": .stringConvertible(id), "error": .string("\(error)")])
            finish(id, state: .failed, runID: nil, error: String(describing: error))
        }
    }

    private func progress(_ id: Int, _ done: Int, _ total: Int?) {
        guard jobs[id]?.state == .running else { return }
        jobs[id]?.done = done
        jobs[id]?.total = total
        notify(id)
    }

    private func finish(_ id: Int, state: JobState, runID: Int64?, error: String?) {
        guard var job = jobs[id] else { return }
        job.state = state
        // The last progress update may still be on its way when the job ends: a job that
        // succeeded did all of it ("done 0 of 1" on a finished logs job).
        if state == .succeeded, let total = job.total { job.done = total }
        job.finishedAt = database.clock.now()
        job.runID = runID
        job.error = error
        jobs[id] = job
        runningBySite[job.site] = nil
        tasks[id] = nil
        notify(id)
        onFinish()
        metrics?.jobFinished(kind: job.kind, state: state, duration: .seconds(job.finishedAt!.timeIntervalSince(job.startedAt)))
    }

    private func pruneFinished() {
        let finished = jobs.values.filter { $0.state != .running }.sorted { $0.id < $1.id }
        for job in finished.dropLast(retained) { jobs[job.id] = nil }
    }
}

extension JobError: ReportedError {
    package var kind: ErrorKind { .conflict }
}
