import CutoverCore
import CutoverStore
import Foundation
import Logging
import Synchronization

/// Progress of a probe run, for displays.
package struct ProbeProgress: Sendable, Hashable {
    package var done: Int
    package var total: Int
}

/// The outcome of a probe run.
package struct ProbeReport: Sendable {
    package var run: ProbeRunRecord
    package var fallback: FallbackHealth
    package var outcomes: [ProbeOutcome]
    /// Requests that timed out twice (each was retried once).
    package var timeouts = 0
    /// How each of the site's nodes answered (empty when the site lists none).
    package var nodes: [NodeSummary] = []

    /// Why requests time out, when some did: almost always too few idle Apache workers for the
    /// probe's concurrency (right after a reload, mpm_prefork starts few and adds them slowly).
    package var timeoutHint: String? {
        guard run.timeoutsRetried > 0 else { return nil }
        return "\(run.timeoutsRetried) requests timed out and were retried once (\(timeouts) timed out again): the likely cause is too "
            + "few idle Apache workers for \(run.concurrency) requests at once (after a reload, mpm_prefork starts few and adds "
            + "them slowly): raise MinSpareServers and MaxRequestWorkers above it, or probe with a lower --concurrency"
    }

    package var drifted: [ProbeOutcome] { outcomes.filter(\.drift) }
    /// True when the run found something a cron job should shout about.
    package var needsAttention: Bool { !fallback.healthy || run.driftCount > 0 || run.nodeDriftCount > 0 }
}

/// Asks the live site who answers each inventory URL (through Apache's public URL), checks the
/// fallback, optionally asks the Swift backend directly, and stores the run.
package struct Prober: Sendable {
    package let database: AppDatabase
    package let configuration: ProbeConfiguration
    package let logger: Logger

    package init(database: AppDatabase, configuration: ProbeConfiguration = ProbeConfiguration(), logger: Logger) {
        self.database = database
        self.configuration = configuration
        self.logger = logger
    }

    /// Probes every URL of `site`. Requests only ever go to the site's public and backend URLs:
    /// paths come from the inventory (canonical, starting with '/') and redirects are not followed.
    package func probe(site: SiteRecord, progress: @escaping @Sendable (ProbeProgress) -> Void = { _ in }) async throws -> ProbeReport {
        let siteID = site.id
        let clock = ContinuousClock()
        let began = clock.now
        // As stored now: a crawl may have detected a front controller since `site` was read.
        let site = (try? await database.sites.named(site.name)) ?? site
        let problems = configuration.problems()
        guard problems.isEmpty else { throw ProbeError.invalidConfiguration(problems) }
        let run = try await database.probes.beginRun(siteID: siteID, concurrency: configuration.concurrency)
        var logger = logger
        logger[metadataKey: "site"] = .string(site.name)
        logger[metadataKey: "probe"] = .stringConvertible(run.id ?? 0)
        let observer = HTTPObserver(configuration: configuration)
        do {
            // Requesting a URL runs its script: leave out the site's deny-list (cron, installers)
            // and includes whose file did not change since a probe found them.
            var targets: [ProbeTarget] = []
            var skippedIncludes = 0
            var skippedDenied = 0
            for target in try await database.probes.targets(siteID: siteID) {
                if ProbeSkip.match(target.path, globs: site.probeSkip) != nil {
                    skippedDenied += 1
                } else if target.unchangedInclude {
                    skippedIncludes += 1
                } else {
                    targets.append(target)
                }
            }
            let fingerprint = OwnerFingerprint(ownerHeader: site.ownerHeader)
            let publicOrigin = await ProbeOrigin(baseURL: site.publicURL)?.resolved()
            let backendOrigin = configuration.checkBackend ? await ProbeOrigin(baseURL: site.backendURL)?.resolved() : nil
            var nodeOrigins: [NodeOrigin] = []
            for node in site.nodes {
                let origin = publicOrigin.flatMap { ProbeOrigin(node: node, site: $0) }
                nodeOrigins.append(NodeOrigin(node: node, origin: await origin?.resolved()))
            }
            let fallbackPath = "/__cutover-fallback-check-\(UUID().uuidString.lowercased())"
            let tls = publicOrigin?.tls == true || backendOrigin?.tls == true
            let session = observer.session(0, tls: tls)
            var missing = await observer.observe(fallbackPath, at: publicOrigin, fingerprint: fingerprint, session: session)
            if missing.errorKind == .timeout {
                // Once, like every URL: a busy Apache is not a broken fallback.
                missing = await observer.observe(fallbackPath, at: publicOrigin, fingerprint: fingerprint, session: session)
            }
            await session.close()
            let fallback =
                site.routingFrontController.map {
                    FallbackHealth(
                        path: fallbackPath,
                        observation: missing,
                        frontController: $0,
                        detectedOn: site.frontControllerUnconfirmed ? site.name : nil
                    )
                }
                ?? FallbackHealth(path: fallbackPath, observation: missing)
            if !fallback.healthy { logger.warning("fallback broken", metadata: ["detail": .string(fallback.detail)]) }
            let started = clock.now
            let outcomes = try await probeAll(
                targets,
                run: run,
                retention: site.probeRetention,
                observer: observer,
                fingerprint: fingerprint,
                publicOrigin: publicOrigin,
                backendOrigin: backendOrigin,
                nodeOrigins: nodeOrigins,
                progress: progress
            )
            let requested = clock.now
            let retried = outcomes.filter(\.retried).count
            let timeouts = outcomes.filter { $0.retried && $0.observation.errorKind == .timeout }.count
            let finished = try await database.probes.finishRun(run, fallback: fallback, skipped: (skippedIncludes, skippedDenied, retried))
            logger.debug(
                "probe timings",
                metadata: [
                    "prepare": "\(started - began)", "requests": "\(requested - started)", "store": "\(clock.now - requested)",
                ]
            )
            logger.info(
                "probe finished",
                metadata: [
                    "urls": .stringConvertible(finished.urlCount), "drift": .stringConvertible(finished.driftCount),
                    "errors": .stringConvertible(finished.errorCount), "fallback": .string(fallback.healthy ? "ok" : "broken"),
                ]
            )
            var report = ProbeReport(run: finished, fallback: fallback, outcomes: outcomes, timeouts: timeouts)
            if !site.nodes.isEmpty {
                report.nodes = try await database.probes.nodeSummaries(runID: finished.id!, order: site.nodes)
                for line in report.nodes.flatMap(\.problems).prefix(10) { logger.warning("node drift", metadata: ["detail": .string(line)]) }
            }
            if let hint = report.timeoutHint { logger.warning("timeouts", metadata: ["detail": .string(hint)]) }
            return report
        } catch {
            let message = error is CancellationError ? "cancelled" : String(describing: error)
            // In a task of its own: GRDB's async write refuses to start in a cancelled task, and a
            // cancelled run (SIGTERM in serve) must still be recorded as failed.
            let database = database
            await Task { try? await database.probes.failRun(run, error: message) }.value
            throw error
        }
    }

    /// Outcomes saved per write transaction while the run goes on.
    static let saveBatch = 500

    /// Runs the requests with at most `concurrency` in flight: that many workers pull targets
    /// from a shared cursor (cheaper than a child task per URL); results keep the targets' order.
    /// Meanwhile one task prunes old history and saves outcomes in batches, so the end of a run only
    /// publishes them (storing 10,000 outcomes after the last request took 0.2 s with a core idle).
    func probeAll(
        _ targets: [ProbeTarget],
        run: ProbeRunRecord,
        retention: Int,
        observer: HTTPObserver,
        fingerprint: OwnerFingerprint,
        publicOrigin: ProbeOrigin?,
        backendOrigin: ProbeOrigin?,
        nodeOrigins: [NodeOrigin] = [],
        progress: @escaping @Sendable (ProbeProgress) -> Void
    ) async throws -> [ProbeOutcome] {
        let workers = min(configuration.concurrency, max(targets.count, 1))
        // The backend's origin is nil unless the run checks it (see `probe`).
        let tls = publicOrigin?.tls == true || backendOrigin?.tls == true || nodeOrigins.contains { $0.origin?.tls == true }
        let board = ResultBoard(count: targets.count, workers: workers)
        let (finished, sink) = AsyncStream.makeStream(of: ProbeOutcome.self)
        let database = database
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await database.probes.pruneHistory(for: run, retention: retention)
                let runID = run.id!
                var batch: [ProbeOutcome] = []
                batch.reserveCapacity(Self.saveBatch)
                for await outcome in finished {
                    batch.append(outcome)
                    if batch.count == Self.saveBatch {
                        try await database.probes.saveResults(runID: runID, batch)
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                try Task.checkCancellation()
                if !batch.isEmpty { try await database.probes.saveResults(runID: runID, batch) }
            }
            for worker in 0..<workers {
                group.addTask {
                    defer { if board.workerFinished() { sink.finish() } }
                    try await Self.work(
                        session: observer.session(worker, tls: tls),
                        targets: targets,
                        board: board,
                        sink: sink,
                        observer: observer,
                        origins: (publicOrigin, backendOrigin, nodeOrigins),
                        fingerprint: fingerprint,
                        progress: progress
                    )
                }
            }
            // The first error (a failed save, cancellation) ends the run: leaving the group cancels the rest.
            while try await group.next() != nil {}
        }
        return board.results()
    }
}

extension Prober {
    /// One worker: claims targets until none is left, asks each once more after a timeout or a
    /// closed kept-alive connection, and the backend too for PHP pages when `origins.backend` is
    /// set. Isolated to `session`, it runs on its connections' event loop.
    static func work(
        session: isolated ProbeSession,
        targets: [ProbeTarget],
        board: ResultBoard,
        sink: AsyncStream<ProbeOutcome>.Continuation,
        observer: HTTPObserver,
        origins: (public: ProbeOrigin?, backend: ProbeOrigin?, nodes: [NodeOrigin]),
        fingerprint: OwnerFingerprint,
        progress: @Sendable (ProbeProgress) -> Void
    ) async throws {
        /// Asks once more after a timeout (right after a reload, Apache may have had no idle
        /// worker) or a reset (as HTTP clients retry an idempotent request whose kept-alive
        /// connection the server closed, RFC 9110 9.2.2; not counted as a timeout).
        func ask(_ path: String, at origin: ProbeOrigin?) async -> (ProbeObservation, retried: Bool) {
            let observation = await observer.observe(path, at: origin, fingerprint: fingerprint, session: session)
            guard observation.errorKind == .timeout || observation.errorKind == .reset else { return (observation, false) }
            return (await observer.observe(path, at: origin, fingerprint: fingerprint, session: session), observation.errorKind == .timeout)
        }
        do {
            while let index = board.claim() {
                try Task.checkCancellation()
                let target = targets[index]
                let (observation, retried) = await ask(target.path, at: origins.public)
                var outcome = ProbeOutcome(target: target, observation: observation)
                outcome.retried = retried
                for node in origins.nodes {
                    let (seen, _) = await ask(target.path, at: node.origin)
                    outcome.nodes.append(NodeOutcome(node: node.node, observation: seen, drift: target.isDrifted(seen)))
                }
                if let backend = origins.backend, target.owner == .php {
                    let direct = await observer.observe(target.path, at: backend, fingerprint: fingerprint, session: session)
                    outcome.backendStatus = direct.status
                    outcome.backendError = direct.errorKind.map { "\($0.rawValue): \(direct.errorMessage ?? "")" }
                }
                sink.yield(outcome)
                progress(ProbeProgress(done: board.store(outcome, at: index), total: targets.count))
            }
        } catch {
            await session.close()
            throw error
        }
        await session.close()
    }
}

/// One of the site's nodes and where its connections go (nil: its URL does not parse).
struct NodeOrigin: Sendable {
    var node: String
    var origin: ProbeOrigin?
}

/// Hands out target indexes to workers, collects their outcomes and knows when the last worker is done.
final class ResultBoard: Sendable {
    private struct State {
        var next = 0
        var done = 0
        var working: Int
        var outcomes: [ProbeOutcome?]
    }

    private let state: Mutex<State>

    init(count: Int, workers: Int) {
        state = Mutex(State(working: workers, outcomes: Array(repeating: nil, count: count)))
    }

    /// True for the last worker to finish.
    func workerFinished() -> Bool {
        state.withLock { state in
            state.working -= 1
            return state.working == 0
        }
    }

    func claim() -> Int? {
        state.withLock { state in
            guard state.next < state.outcomes.count else { return nil }
            state.next += 1
            return state.next - 1
        }
    }

    /// Stores an outcome; returns how many are done.
    func store(_ outcome: ProbeOutcome, at index: Int) -> Int {
        state.withLock { state in
            state.outcomes[index] = outcome
            state.done += 1
            return state.done
        }
    }

    func results() -> [ProbeOutcome] {
        state.withLock { state in state.outcomes.map { $0! } }
    }
}

package enum ProbeError: Error, CustomStringConvertible, Equatable {
    case invalidConfiguration([String])

    package var description: String {
        switch self {
        case .invalidConfiguration(let problems): problems.joined(separator: "; ")
        }
    }
}

extension ProbeError: ReportedError {
    package var kind: ErrorKind { .invalid }
}
