import AsyncHTTPClient
import CutoverCore
import Foundation
import NIOCore
import NIOPosix

/// Sends one GET and turns whatever happens into a `ProbeObservation`: redirects are results
/// (never followed), bodies are read up to a cap and hashed, failures become typed errors.
///
/// One client per event loop ("shard"), each with its share of the connections: a Swift task
/// resumes on the loop that completed its request, so with one shared client every request of a
/// probe ended up on one thread, and that thread was the limit (scripts/bench-apache.py: median
/// 0.71 of curl's throughput with one client, 0.80 with one per loop on 2 cores).
public final class HTTPObserver: Sendable {
    let clients: [HTTPClient]
    let configuration: ProbeConfiguration

    public init(configuration: ProbeConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        let loops = Array(group.makeIterator().prefix(configuration.concurrency))
        var clientConfiguration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(
                connect: .milliseconds(Int64(configuration.timeout.milliseconds)),
                read: .milliseconds(Int64(configuration.timeout.milliseconds))
            ),
            decompression: .disabled
        )
        clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = (configuration.concurrency + loops.count - 1) / loops.count
        // A refused connection is a result to record, not something to retry until the deadline.
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        clientConfiguration.httpVersion = .http1Only
        // Without an explicit nil the client stores the global (no-op) tracer and still builds a
        // span with its attributes for every request: 5% of the probe's event loop in `perf`.
        clientConfiguration.tracing.tracer = nil
        clients = loops.map { HTTPClient(eventLoopGroup: $0, configuration: clientConfiguration) }
    }

    public static let userAgent = "cutover-probe/1"

    public func shutdown() async {
        for client in clients { try? await client.shutdown() }
    }

    /// GETs `url` through client `shard` (modulo the number of clients) and observes the answer. Never throws:
    /// no response is an observation too.
    ///
    /// Uses AsyncHTTPClient's delegate API: the body is hashed on the connection's event loop as
    /// it arrives, without an async body sequence (and its tasks) per request.
    public func observe(_ url: String, fingerprint: OwnerFingerprint, shard: Int = 0) async -> ProbeObservation {
        let client = clients[shard % clients.count]
        let clock = ContinuousClock()
        let start = clock.now
        func elapsed() -> Double { (clock.now - start).milliseconds }
        let deadline = NIODeadline.now() + .milliseconds(Int64(configuration.timeout.milliseconds))
        let body: CappedBody
        do {
            var request = try HTTPClient.Request(url: url)
            // Named so that access logs can tell probes from people (BotList has "cutover-probe").
            request.headers.add(name: "User-Agent", value: Self.userAgent)
            let delegate = CappedBodyDelegate(cap: configuration.bodyCap)
            let task = client.execute(request: request, delegate: delegate, deadline: deadline)
            // A future does not notice task cancellation: cancel the request so that a cancelled
            // probe (SIGTERM in serve) stops now, not at the request's deadline.
            body = try await withTaskCancellationHandler {
                try await task.futureResult.get()
            } onCancel: {
                task.cancel()
            }
        } catch let capped as CappedBody {
            body = capped
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
            location: headers.first(name: "Location")
        )
    }

    /// Maps client, NIO and socket errors to the recorded kinds.
    static func classify(_ error: any Error) -> (ProbeErrorKind, String) {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout, .readTimeout, .writeTimeout, .deadlineExceeded, .getConnectionFromPoolTimeout:
                return (.timeout, "no answer within the timeout")
            case .remoteConnectionClosed:
                return (.reset, "the server closed the connection before the response was complete")
            case .bodyLengthMismatch:
                return (.reset, "the body ended before its announced length")
            case .tlsHandshakeTimeout:
                return (.tls, "TLS handshake timed out")
            default:
                break
            }
        }
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
