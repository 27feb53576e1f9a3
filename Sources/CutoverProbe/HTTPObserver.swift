import AsyncHTTPClient
import CutoverCore
import Crypto
import Foundation
import NIOCore
import NIOPosix

/// Sends one GET and turns whatever happens into a `ProbeObservation`: redirects are results
/// (never followed), bodies are read up to a cap and hashed, failures become typed errors.
public final class HTTPObserver: Sendable {
    let client: HTTPClient
    let configuration: ProbeConfiguration

    public init(configuration: ProbeConfiguration) {
        self.configuration = configuration
        var clientConfiguration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .milliseconds(Int64(configuration.timeout.milliseconds)), read: .milliseconds(Int64(configuration.timeout.milliseconds))),
            decompression: .disabled)
        clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = configuration.concurrency
        // A refused connection is a result to record, not something to retry until the deadline.
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        clientConfiguration.httpVersion = .http1Only
        client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: clientConfiguration)
    }

    public func shutdown() async {
        try? await client.shutdown()
    }

    /// GETs `url` and observes the answer. Never throws: no response is an observation too.
    public func observe(_ url: String, fingerprint: OwnerFingerprint) async -> ProbeObservation {
        let clock = ContinuousClock()
        let start = clock.now
        func elapsed() -> Double { (clock.now - start).milliseconds }
        let request = HTTPClientRequest(url: url)
        let deadline = NIODeadline.now() + .milliseconds(Int64(configuration.timeout.milliseconds))
        do {
            let response = try await client.execute(request, deadline: deadline)
            let headers = response.headers
            var hasher = SHA256()
            var read = 0
            var truncated = false
            for try await chunk in response.body {
                let take = min(chunk.readableBytes, configuration.bodyCap - read)
                chunk.withUnsafeReadableBytes { bytes in hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes.prefix(take))) }
                read += take
                if take < chunk.readableBytes {
                    truncated = true
                    break
                }
            }
            let status = Int(response.status.code)
            let owner = fingerprint.observe(status: status) { name in headers.first(name: name) }
            let announced = headers.first(name: "Content-Length").flatMap { Int64($0) }
            return ProbeObservation(
                status: status, observedOwner: owner?.owner, ownerSource: owner?.source, latencyMilliseconds: elapsed(),
                contentType: headers.first(name: "Content-Type"), contentLength: truncated ? (announced ?? Int64(read)) : Int64(read),
                bodyHash: Hex.encode(hasher.finalize()), bodyTruncated: truncated, location: headers.first(name: "Location"))
        } catch {
            let (kind, message) = Self.classify(error)
            return .failure(kind, message, latency: elapsed())
        }
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
