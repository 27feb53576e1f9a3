import CutoverLogs
import CutoverProbe
import CutoverStore
import Dispatch
import Logging
import Synchronization

/// What a job of one kind does with a site. Each kind is a type in this folder, registered in
/// `JobWorks.standard`; the runner knows none of them (it starts, tracks, reports and finishes).
protocol JobWork: Sendable {
    static var kind: JobKind { get }
    /// Does the work, calling `report(done, total)` as it goes; throws `CancellationError` when
    /// cancelled (server shutdown).
    func run(site: SiteRecord, with context: JobContext, report: @escaping @Sendable (Int, Int?) -> Void) async throws -> JobOutcome
}

/// How a job ended, when it did not throw.
struct JobOutcome: Sendable {
    var state: JobState = .succeeded
    /// The crawl or probe run it produced.
    var runID: Int64?
    var error: String?
}

/// What every job may use.
struct JobContext: Sendable {
    var database: AppDatabase
    var logger: Logger
    var probeConfiguration: ProbeConfiguration
    /// Where the logs job may read (a site's `accessLogs` is untrusted text).
    var logRoots: LogRoots
    /// How long one logs job may read; the stretches it stored stay, the next run goes on.
    var logTimeLimit: Duration
    /// The pages a parity job compares; nil for every page.
    var selection: URLSelection? = nil
}

/// The job kinds a runner can start.
struct JobWorks: Sendable {
    private let works: [JobKind: any JobWork]

    init(_ works: [any JobWork]) {
        self.works = Dictionary(uniqueKeysWithValues: works.map { (type(of: $0).kind, $0) })
    }

    static let standard = JobWorks([CrawlJob(), ProbeJob(), LogsJob(), ParityJob()])

    subscript(kind: JobKind) -> (any JobWork)? { works[kind] }
}

/// Why a job could not do its work, in words for the job's `error`.
struct JobFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A cancellation request that blocking work on another thread can poll.
final class CancellationFlag: Sendable {
    private let value = Mutex(false)

    func set() { value.withLock { $0 = true } }

    @Sendable func isSet() -> Bool { value.withLock { $0 } }
}

/// Runs long blocking work (a crawl, a log import) on a Dispatch queue, keeping event loops free
/// for requests; `work` polls the flag that cancelling the calling task sets.
func offEventLoop<T: Sendable>(_ work: @escaping @Sendable (_ isCancelled: @escaping @Sendable () -> Bool) throws -> T) async throws -> T {
    let cancelled = CancellationFlag()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work(cancelled.isSet) }) }
        }
    } onCancel: {
        cancelled.set()
    }
}
