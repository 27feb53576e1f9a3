import CutoverCore
import CutoverStore
import Foundation
import Logging

/// Progress of a probe run, for displays.
public struct ProbeProgress: Sendable, Hashable {
    public var done: Int
    public var total: Int
}

/// The outcome of a probe run.
public struct ProbeReport: Sendable {
    public var run: ProbeRunRecord
    public var fallback: FallbackHealth
    public var outcomes: [ProbeOutcome]

    public var drifted: [ProbeOutcome] { outcomes.filter(\.drift) }
    /// True when the run found something a cron job should shout about.
    public var needsAttention: Bool { !fallback.healthy || run.driftCount > 0 }
}

/// Asks the live site who answers each inventory URL (through Apache's public URL), checks the
/// fallback, optionally asks the Swift backend directly, and stores the run.
public struct Prober: Sendable {
    public let database: AppDatabase
    public let configuration: ProbeConfiguration
    public let logger: Logger

    public init(database: AppDatabase, configuration: ProbeConfiguration = ProbeConfiguration(), logger: Logger) {
        self.database = database
        self.configuration = configuration
        self.logger = logger
    }

    /// Probes every URL of `site`. Requests only ever go to the site's public and backend URLs:
    /// paths come from the inventory (canonical, starting with '/') and redirects are not followed.
    public func probe(site: SiteRecord, progress: @escaping @Sendable (ProbeProgress) -> Void = { _ in }) async throws -> ProbeReport {
        guard let siteID = site.id else { preconditionFailure("site was not saved") }
        let problems = configuration.problems()
        guard problems.isEmpty else { throw ProbeError.invalidConfiguration(problems) }
        let run = try database.beginProbeRun(siteID: siteID, concurrency: configuration.concurrency)
        var logger = logger
        logger[metadataKey: "site"] = .string(site.name)
        logger[metadataKey: "probe"] = .stringConvertible(run.id ?? 0)
        let observer = HTTPObserver(configuration: configuration)
        do {
            let targets = try database.probeTargets(siteID: siteID)
            let fingerprint = OwnerFingerprint(ownerHeader: site.ownerHeader)
            let publicBase = HTTPBaseURL.normalized(site.publicURL)
            let backendBase = HTTPBaseURL.normalized(site.backendURL)
            let fallbackPath = "/__cutover-fallback-check-\(UUID().uuidString.lowercased())"
            let fallback = FallbackHealth(
                path: fallbackPath, observation: await observer.observe(publicBase + fallbackPath, fingerprint: fingerprint))
            if !fallback.healthy { logger.warning("fallback broken", metadata: ["detail": .string(fallback.detail)]) }
            let clock = ContinuousClock()
            let started = clock.now
            let outcomes = try await probeAll(
                targets, observer: observer, fingerprint: fingerprint, publicBase: publicBase, backendBase: backendBase, progress: progress)
            let requested = clock.now
            let finished = try database.finishProbeRun(run, outcomes: outcomes, fallback: fallback, retention: site.probeRetention)
            logger.debug("probe timings", metadata: ["requests": "\(requested - started)", "store": "\(clock.now - requested)"])
            await observer.shutdown()
            logger.info(
                "probe finished",
                metadata: [
                    "urls": .stringConvertible(finished.urlCount), "drift": .stringConvertible(finished.driftCount),
                    "errors": .stringConvertible(finished.errorCount), "fallback": .string(fallback.healthy ? "ok" : "broken"),
                ])
            return ProbeReport(run: finished, fallback: fallback, outcomes: outcomes)
        } catch {
            await observer.shutdown()
            let message = error is CancellationError ? "cancelled" : String(describing: error)
            try? database.failProbeRun(run, error: message)
            throw error
        }
    }

    /// Runs the requests with at most `concurrency` in flight: that many workers pull targets
    /// from a shared cursor (cheaper than a child task per URL); results keep the targets' order.
    func probeAll(
        _ targets: [ProbeTarget], observer: HTTPObserver, fingerprint: OwnerFingerprint, publicBase: String, backendBase: String,
        progress: @escaping @Sendable (ProbeProgress) -> Void
    ) async throws -> [ProbeOutcome] {
        let checkBackend = configuration.checkBackend
        let board = ResultBoard(count: targets.count)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<min(configuration.concurrency, max(targets.count, 1)) {
                group.addTask {
                    while let index = board.claim() {
                        try Task.checkCancellation()
                        let target = targets[index]
                        let observation = await observer.observe(publicBase + target.path, fingerprint: fingerprint)
                        var outcome = ProbeOutcome(target: target, observation: observation)
                        if checkBackend, target.owner == .php {
                            let direct = await observer.observe(backendBase + target.path, fingerprint: fingerprint)
                            outcome.backendStatus = direct.status
                            outcome.backendError = direct.errorKind.map { "\($0.rawValue): \(direct.errorMessage ?? "")" }
                        }
                        progress(ProbeProgress(done: board.store(outcome, at: index), total: targets.count))
                    }
                }
            }
            try await group.waitForAll()
        }
        return board.results()
    }
}

/// Hands out target indexes to workers and collects their outcomes.
final class ResultBoard: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private var done = 0
    private var outcomes: [ProbeOutcome?]

    init(count: Int) { outcomes = Array(repeating: nil, count: count) }

    func claim() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < outcomes.count else { return nil }
        next += 1
        return next - 1
    }

    /// Stores an outcome; returns how many are done.
    func store(_ outcome: ProbeOutcome, at index: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        outcomes[index] = outcome
        done += 1
        return done
    }

    func results() -> [ProbeOutcome] {
        lock.lock()
        defer { lock.unlock() }
        return outcomes.map { $0! }
    }
}

public enum ProbeError: Error, CustomStringConvertible, Equatable {
    case invalidConfiguration([String])

    public var description: String {
        switch self {
        case .invalidConfiguration(let problems): problems.joined(separator: "; ")
        }
    }
}
