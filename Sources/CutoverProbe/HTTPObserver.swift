import CutoverCore
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// Sends GETs and turns whatever happens into a `ProbeObservation`: redirects are results (never
/// followed), bodies are read up to a cap and hashed, failures become typed errors.
///
/// Each probe worker has its own session (kept-alive connections on one event loop, the loops
/// shared out between workers): a worker's requests and its answers stay on one thread, and no
/// connection pool is shared (scripts/bench-apache.py: with one AsyncHTTPClient for the whole probe
/// every answer resumed on one thread, 0.71 of curl's throughput; one client per loop, 0.70-0.80).
///
/// The loops are the process's shared ones (in `serve`, the HTTP server's too): a worker's work
/// between two answers is small. A group of the probe's own cost 1.8 times the CPU per probe
/// (2.17 s against 1.19 s for 10,000 URLs, scripts/bench-apache.py, 7 rounds each).
package final class HTTPObserver: Sendable {
    let configuration: ProbeConfiguration
    private let loops: [any EventLoop]
    private let tls = Mutex<Result<NIOSSLContext, any Error>?>(nil)

    package init(configuration: ProbeConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        loops = Array(group.makeIterator())
    }

    package static let userAgent = "cutover-probe/1"

    /// Connections for one worker; close them with `ProbeSession.close()`. Call it before the
    /// session's work starts, off its event loop: with `tls`, the first call loads the system's
    /// trust roots, which must not hold up a loop.
    func session(_ shard: Int, tls: Bool) -> ProbeSession {
        ProbeSession(configuration: configuration, eventLoop: loops[shard % loops.count], tls: tls ? tlsContext() : nil)
    }

    /// One TLS context for the run, made for the first https origin (certificates are verified).
    private func tlsContext() -> Result<NIOSSLContext, any Error> {
        tls.withLock { context in
            if let context { return context }
            let made = Result { try NIOSSLContext(configuration: .makeClientConfiguration()) }
            context = made
            return made
        }
    }

    /// GETs `target` from `origin` on `session` and observes the answer. Never throws: no
    /// response is an observation too.
    func observe(_ target: String, at origin: ProbeOrigin?, fingerprint: OwnerFingerprint, session: isolated ProbeSession) async -> ProbeObservation {
        let clock = ContinuousClock()
        let start = clock.now
        func elapsed() -> Double { (clock.now - start).milliseconds }
        let body: CappedBody
        do {
            guard let origin else { throw ProbeConnectionError.invalidBaseURL }
            body = try await session.get(target, from: origin)
        } catch {
            let (kind, message) = Self.classify(error)
            return .failure(kind, message, latency: elapsed())
        }
        let headers = body.head.headers
        let status = Int(body.head.status.code)
        let owner = fingerprint.observe(status: status) { name in headers.first(name: name) }
        let announced = headers.first(name: "Content-Length").flatMap { Int64($0) }
        return ProbeObservation(
            status: status,
            observedOwner: owner?.owner,
            ownerSource: owner?.source,
            latencyMilliseconds: elapsed(),
            contentType: headers.first(name: "Content-Type"),
            contentLength: body.truncated ? (announced ?? Int64(body.read)) : Int64(body.read),
            bodyHash: body.hash,
            bodyTruncated: body.truncated,
            location: headers.first(name: "Location"),
            exportID: headers.first(name: ExportStamp.header).flatMap { Int64($0) }
        )
    }

    /// Maps client, NIO and socket errors to the recorded kinds.
    static func classify(_ error: any Error) -> (ProbeErrorKind, String) {
        if let error = error as? ProbeConnectionError {
            switch error {
            case .timedOut: return (.timeout, error.description)
            case .closedEarly: return (.reset, error.description)
            case .invalidTarget, .invalidBaseURL, .unresolved: return (.other, error.description)
            case .tls: return (.tls, error.description)
            }
        }
        if case .connectTimeout = error as? ChannelError { return (.timeout, "no connection within the timeout") }
        if let error = error as? IOError { return classify(errno: error.errnoCode, error) }
        // Apache closed a kept-alive connection (KeepAliveTimeout, MaxKeepAliveRequests, a
        // graceful reload) as the request went out on it.
        if let error = error as? ChannelError, [.ioOnClosedChannel, .eof, .outputClosed, .alreadyClosed].contains(error) {
            return (.reset, "the server closed the kept-alive connection (\(error))")
        }
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first?.error { return classify(first) }
            if let dns = error.dnsAAAAError ?? error.dnsAError { return (.other, "name resolution failed: \(dns)") }
        }
        let description = String(describing: error)
        let type = String(reflecting: Swift.type(of: error))
        if type.contains("SSL") || type.contains("TLS") { return (.tls, description) }
        if type.contains("HTTPParser") || type.contains("HTTPDecoder") || description.contains("invalid") {
            return (.invalidResponse, description)
        }
        if description.lowercased().contains("refused") { return (.refused, "connection refused") }
        if description.lowercased().contains("reset") { return (.reset, "connection reset") }
        return (.other, description)
    }

    static func classify(errno code: Int32, _ error: IOError) -> (ProbeErrorKind, String) {
        switch code {
        case ECONNREFUSED: (.refused, "connection refused")
        case ECONNRESET, EPIPE: (.reset, "connection reset")
        case ETIMEDOUT: (.timeout, "connection timed out")
        default: (.other, String(describing: error))
        }
    }
}

extension Duration {
    var milliseconds: Double {
        let parts = components
        return Double(parts.seconds) * 1000 + Double(parts.attoseconds) / 1e15
    }
}
