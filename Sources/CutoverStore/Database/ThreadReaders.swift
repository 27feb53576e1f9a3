import Foundation
import GRDB
import Synchronization

/// A read-only connection of its own for each of the few long-lived threads that read URL
/// pages (NIO's blocking pool, one thread per core): GRDB's reader pool hands out a connection
/// with a semaphore and two barrier blocks on a concurrent queue per read: about 8 % of the
/// URL page's CPU on a 2-core machine (554-579 against 602-629 µs a page in alternating
/// scripts/bench-api.sh runs). A thread's own connection is never contended, so its serial
/// queue runs the read on the calling thread at once.
///
/// Each read is one statement in autocommit mode, so it sees every transaction committed
/// before it started, as a pool reader does. A `DatabaseQueue` serialises its own use, so a
/// connection reached from a thread other than its own would still be used safely.
final class ThreadReaders: Sendable {
    /// Threads beyond these (a test's many cooperative threads, say) read through the pool.
    static let maximumThreads = 16

    private let path: String
    private let connections = Mutex<[UInt: DatabaseQueue]>([:])
    /// Set once a connection could not be opened: then every read goes through the pool.
    private let failed = Atomic<Bool>(false)

    init(path: String) {
        self.path = path
    }

    /// The calling thread's connection, opened on its first read; nil when there is none to
    /// give (too many threads, or the file cannot be opened read-only).
    func connection() -> DatabaseQueue? {
        guard !failed.load(ordering: .relaxed) else { return nil }
        let thread = Self.currentThread()
        let (known, full) = connections.withLock { ($0[thread], $0.count >= Self.maximumThreads) }
        if let known { return known }
        if full { return nil }
        var configuration = AppDatabase.configuration()
        configuration.readonly = true
        configuration.label = "cutover.thread-reader"
        do {
            let opened = try DatabaseQueue(path: path, configuration: configuration)
            // Threads opening at once may pass the count check together: the limit is kept here.
            return connections.withLock { connections in
                guard connections.count < Self.maximumThreads else { return nil }
                connections[thread] = opened
                return opened
            }
        } catch {
            failed.store(true, ordering: .relaxed)
            return nil
        }
    }

    /// How many threads have a connection.
    var openConnections: Int { connections.withLock { $0.count } }

    private static func currentThread() -> UInt {
        #if canImport(Darwin)
        UInt(bitPattern: pthread_self())
        #else
        UInt(pthread_self())
        #endif
    }
}
