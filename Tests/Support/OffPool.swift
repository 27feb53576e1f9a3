import CutoverTestSupport
import Foundation

/// Runs blocking work (a subprocess, a poll loop, a synchronous crawl or import) on a Dispatch
/// thread and awaits it. Swift Concurrency has one thread per core (two on CI): a test that
/// blocks one starves every in-process backend and client of the suites running beside it, and
/// their requests then time out for reasons that have nothing to do with what they test.
public func offPool<T>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    let box = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<UncheckedBox<T>, any Error>) in
        DispatchQueue.global().async { continuation.resume(with: Result { UncheckedBox(value: try work()) }) }
    }
    return box.value
}

/// A value handed from the Dispatch thread back to the awaiting task, never shared.
public struct UncheckedBox<T>: @unchecked Sendable {
    public let value: T
}

/// Calls the store's synchronous methods (marked `noasync`: they block their thread) from an
/// async test, on the test's own thread. The app never does this (async code there goes
/// through `AppDatabase.blocking` or the server's `blockingRead`); a test that waits a few
/// milliseconds on its own database may, and says so at each call.
public func storeCall<T>(_ body: () throws -> T) rethrows -> T { try body() }
