import Foundation
import Synchronization
import Testing

@testable import CutoverServer

/// The read cache answers from memory, gives an expired answer while one refresh runs, and
/// forgets everything (running refreshes too) on a clear.
@Suite struct ReadCacheTests {
    /// A computation that reads `version` when it starts and returns it once `release()` lets
    /// it through (while `held`).
    final class Source: Sendable {
        let version = Mutex(1)
        let calls = Mutex(0)
        let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let held = Mutex(false)

        func compute() async -> Int {
            calls.withLock { $0 += 1 }
            let read = version.withLock { $0 }
            if held.withLock({ $0 }) { await withCheckedContinuation { continuation in gate.withLock { $0 = continuation } } }
            return read
        }

        /// Lets the held computation through; false when none arrived within 10 s (a test that
        /// waited for ever here hung the whole suite under load).
        @discardableResult
        func release() async -> Bool {
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                if let waiting = gate.withLock({ value -> CheckedContinuation<Void, Never>? in
                    defer { value = nil }
                    return value
                }) {
                    waiting.resume()
                    return true
                }
                try? await Task.sleep(for: .milliseconds(1))
            }
            return false
        }
    }

    @Test func anExpiredAnswerIsGivenWhileOneRefreshRuns() async throws {
        let clock = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        let cache = ReadCache(lifetime: 1) { clock.withLock { $0 } }
        let source = Source()
        let key = ReadCache.Key.stats(site: "s")
        #expect(try await cache.value(key) { await source.compute() } == 1)
        #expect(try await cache.value(key) { await source.compute() } == 1)
        #expect(source.calls.withLock { $0 } == 1)

        clock.withLock { $0 += 1.1 }
        source.version.withLock { $0 = 2 }
        source.held.withLock { $0 = true }
        let before = source.calls.withLock { $0 }
        // Expired: the old answer at once, for every request, while one refresh waits at the gate
        // (asked until the refresh has started).
        for _ in 0..<2000 where source.calls.withLock({ $0 }) == before {
            #expect(try await cache.value(key) { await source.compute() } == 1)
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(try await cache.value(key) { await source.compute() } == 1)
        #expect(await source.release(), "a refresh started")
        // One refresh for every request meanwhile.
        #expect(source.calls.withLock { $0 } == before + 1)
        source.held.withLock { $0 = false }
        var answer = 1
        for _ in 0..<200 where answer == 1 {
            answer = try await cache.value(key) { await source.compute() }
            if answer == 1 { try await Task.sleep(for: .milliseconds(5)) }
        }
        #expect(answer == 2)
    }

    @Test func aClearForgetsAnswersAndRunningRefreshes() async throws {
        let cache = ReadCache(lifetime: 60)
        let source = Source()
        let key = ReadCache.Key.stats(site: "s")
        source.held.withLock { $0 = true }
        let first = Task { try await cache.value(key) { await source.compute() } }
        while source.gate.withLock({ $0 == nil }) { try await Task.sleep(for: .milliseconds(1)) }
        // A write happens while the first computation has read version 1's world.
        cache.clear()
        source.version.withLock { $0 = 2 }
        source.held.withLock { $0 = false }
        #expect(try await cache.value(key) { await source.compute() } == 2)
        await source.release()
        #expect(try await first.value == 1)
        // The computation from before the clear stored nothing over the newer answer.
        #expect(try await cache.value(key) { await source.compute() } == 2)
    }
}
