import Crypto
import CutoverCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS

/// Where a probe's requests go: a site's public or backend base URL, parsed once per run.
struct ProbeOrigin: Hashable, Sendable {
    var tls: Bool
    /// The host to connect to, without the brackets of an IPv6 literal.
    var host: String
    var port: Int
    /// The base URL's path without a trailing slash ("" or "/shop"), put before every target.
    var basePath: String
    /// `Host:` as the URL spells it (the port only when it is not the scheme's default).
    var hostHeader: String
    /// The name TLS asks for (SNI) and verifies: the host, unless it is an IP literal.
    var serverName: String?
    /// Where connections go: resolved once per run (`resolved()`), not once per connection.
    var address: SocketAddress?
    var resolutionError: String?

    /// Nil unless `baseURL` is an absolute http(s) URL with a host (site settings are validated
    /// where they enter; this is the last line).
    init?(baseURL: String) {
        guard let components = URLComponents(string: baseURL), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", var host = components.host, !host.isEmpty
        else { return nil }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        tls = scheme == "https"
        self.host = host.lowercased()
        let defaultPort = tls ? 443 : 80
        port = components.port ?? defaultPort
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        basePath = path
        let shownHost = self.host.contains(":") ? "[\(self.host)]" : self.host
        hostHeader = port == defaultPort ? shownHost : "\(shownHost):\(port)"
        serverName = self.host.contains(":") || self.host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : self.host
    }

    /// One node of the site: connections go to `node`'s address, requests carry the site's
    /// `Host`, base path and TLS name, as `curl --resolve` would send them.
    init?(node: String, site: ProbeOrigin) {
        guard var origin = ProbeOrigin(baseURL: node) else { return nil }
        origin.hostHeader = site.hostHeader
        origin.basePath = site.basePath
        origin.serverName = site.serverName
        self = origin
    }
}

extension ProbeOrigin {
    /// The origin with its address: an IP literal as it is, a name looked up once with
    /// getaddrinfo (its first answer, in the system's preferred order) on a thread of its own.
    /// NIO's resolver runs on a Dispatch queue per event loop, once per connection: with every
    /// live test suite in one process, connects to loopback waited 11 s there for a Dispatch thread.
    func resolved() async -> ProbeOrigin {
        var origin = self
        if let literal = try? SocketAddress(ipAddress: host, port: port) {
            origin.address = literal
            return origin
        }
        let (host, port) = (host, port)
        let result: Result<SocketAddress, any Error> = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: Result { try SocketAddress.makeAddressResolvingHost(host, port: port) }) }.start()
        }
        switch result {
        case .success(let address): origin.address = address
        case .failure(let error): origin.resolutionError = "name resolution failed for \(host): \(error)"
        }
        return origin
    }
}

/// A response head and the hash of its body as read (at most the cap); the bytes too when the
/// exchange asked to keep them (parity compares bodies, a probe only hashes them).
struct CappedBody: Sendable {
    var head: HTTPResponseHead
    var hash: String
    var read: Int
    var truncated: Bool
    var body: [UInt8] = []
}

/// Why an exchange on a probe connection ended without a response.
enum ProbeConnectionError: Error, CustomStringConvertible {
    /// The server closed the connection before the response was complete; `afterHead` when the
    /// head had arrived (a body shorter than announced).
    case closedEarly(afterHead: Bool)
    case timedOut
    /// The target has bytes that cannot go on a request line (the inventory stores canonical,
    /// percent-encoded paths: this is the last line against a header injection).
    case invalidTarget
    case invalidBaseURL
    case unresolved(String)
    /// No TLS session: the handshake failed, or the server closed the connection during it.
    case tls(String)

    var description: String {
        switch self {
        case .closedEarly(let afterHead):
            afterHead ? "the body ended before its announced length" : "the server closed the connection before the response was complete"
        case .timedOut: "no answer within the timeout"
        case .invalidTarget: "the path cannot be sent on a request line"
        case .invalidBaseURL: "the base URL is not an http(s) URL"
        case .unresolved(let reason): reason
        case .tls(let reason): "TLS handshake failed: \(reason)"
        }
    }
}

/// One GET on a probe connection, handed to its pipeline.
struct ProbeExchange: Sendable {
    var head: HTTPRequestHead
    var promise: EventLoopPromise<CappedBody>
    var keepsBody = false
}

/// Runs one exchange at a time on a kept-alive HTTP/1.1 connection: sends the request, hashes at
/// most `cap` body bytes as they arrive, and completes the exchange's promise with the head and the
/// hash, or fails it (timeout, early close, a parser error). Past the cap, or when the server does
/// not keep the connection alive, it closes the connection; the session opens a new one.
///
/// A probe is one request after another on each of a few dozen connections: this is all it needs
/// of an HTTP client, and per request it costs a fraction of a pooled general-purpose client
/// (no pool state machine, no per-request scheduled tasks but the timeout, no redirect or tracing
/// machinery), which left Apache the CPU it needs on a small machine (scripts/bench-apache.py).
final class ProbeExchangeHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = ProbeExchange
    typealias OutboundOut = HTTPClientRequestPart

    private struct Pending {
        var promise: EventLoopPromise<CappedBody>
        var head: HTTPResponseHead?
        var hasher = SHA256()
        var read = 0
        /// The bytes read, when the exchange keeps them.
        var body: [UInt8]?
        var timeout: Scheduled<Void>?
    }

    private let cap: Int
    private let timeout: TimeAmount
    private var pending: Pending?

    init(cap: Int, timeout: TimeAmount) {
        self.cap = cap
        self.timeout = timeout
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        promise?.succeed()
        guard pending == nil else {
            // A session sends one request at a time; a second would be a bug in the caller.
            exchange.promise.fail(ChannelError.inappropriateOperationForState)
            return
        }
        let loopContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        pending = Pending(
            promise: exchange.promise,
            body: exchange.keepsBody ? [] : nil,
            timeout: context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
                fail(loopContext.value, ProbeConnectionError.timedOut)
            }
        )
        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenFailure { [self] error in fail(loopContext.value, error) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard pending != nil else { return }  // the rest of a body past the cap, before the close
        switch unwrapInboundIn(data) {
        case .head(let head):
            // 1xx heads (103 Early Hints) precede the real one.
            if head.status.code >= 200 || head.status == .switchingProtocols { pending?.head = head }
        case .body(let buffer):
            guard pending?.head != nil else { return }
            let take = min(buffer.readableBytes, cap - pending!.read)
            buffer.withUnsafeReadableBytes { bytes in
                pending!.hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes.prefix(take)))
                if pending!.body != nil { pending!.body!.append(contentsOf: bytes.prefix(take)) }
            }
            pending!.read += take
            if take < buffer.readableBytes {
                finish(truncated: true)
                context.close(promise: nil)
            }
        case .end:
            guard let head = pending?.head else { return }
            finish(truncated: false)
            if !head.isKeepAlive { context.close(promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(context, ProbeConnectionError.closedEarly(afterHead: pending?.head != nil))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let parser = error as? HTTPParserError, parser == .invalidEOFState {
            // The decoder's word for a connection that ended inside a response.
            fail(context, ProbeConnectionError.closedEarly(afterHead: pending?.head != nil))
        } else {
            fail(context, error)
        }
    }

    private func finish(truncated: Bool) {
        guard let done = pending, let head = done.head else { return }
        pending = nil
        done.timeout?.cancel()
        done.promise.succeed(
            CappedBody(head: head, hash: Hex.encode(done.hasher.finalize()), read: done.read, truncated: truncated, body: done.body ?? [])
        )
    }

    /// Fails the exchange in flight, if any, and closes the connection: after an error its state is unknown.
    private func fail(_ context: ChannelHandlerContext, _ error: any Error) {
        guard let done = pending else { return }
        pending = nil
        done.timeout?.cancel()
        done.promise.fail(error)
        context.close(promise: nil)
    }
}

/// A worker's connections: one kept-alive connection per origin, one request at a time (a probe
/// worker waits for each answer before it asks the next).
///
/// The actor runs on its connections' event loop, and so does a worker isolated to it: writing a
/// request and resuming on its answer happen on one thread. As a task on the shared pool, each
/// request woke the loop's thread and each answer woke a pool thread; those switches were 17 % of
/// the probe's CPU in `perf` (scripts/bench-apache.py).
actor ProbeSession {
    private let configuration: ProbeConfiguration
    nonisolated let eventLoop: any EventLoop
    private let tls: Result<NIOSSLContext, any Error>?
    private var channels: [ProbeOrigin: any Channel] = [:]

    init(configuration: ProbeConfiguration, eventLoop: any EventLoop, tls: Result<NIOSSLContext, any Error>?) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.tls = tls
    }

    nonisolated var unownedExecutor: UnownedSerialExecutor { eventLoop.executor.asUnownedSerialExecutor() }

    /// GETs `target` (a path with its query) from `origin`; `extraHeaders` (values of printable
    /// ASCII only) go with it, and `keepsBody` keeps the body's bytes up to the cap.
    func get(
        _ target: String,
        from origin: ProbeOrigin,
        userAgent: String = HTTPObserver.userAgent,
        extraHeaders: [(String, String)] = [],
        keepsBody: Bool = false
    ) async throws -> CappedBody {
        let uri = origin.basePath + target
        guard uri.hasPrefix("/"), uri.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw ProbeConnectionError.invalidTarget }
        var headers = HTTPHeaders()
        headers.reserveCapacity(3 + extraHeaders.count)
        headers.add(name: "Host", value: origin.hostHeader)
        // Named so that access logs can tell probes from people (BotList has "cutover-probe").
        headers.add(name: "User-Agent", value: userAgent)
        headers.add(name: "Accept", value: "*/*")
        for (name, value) in extraHeaders {
            guard value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { throw ProbeConnectionError.invalidTarget }
            headers.add(name: name, value: value)
        }
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: headers)
        let channel = try await connection(to: origin)
        let promise = eventLoop.makePromise(of: CappedBody.self)
        channel.writeAndFlush(ProbeExchange(head: head, promise: promise, keepsBody: keepsBody)).whenFailure { promise.fail($0) }
        // A future does not notice task cancellation: closing the connection fails the exchange, so
        // that a cancelled probe (SIGTERM in serve) stops now, not at the request's timeout.
        return try await withTaskCancellationHandler {
            try await value(of: promise.futureResult)
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    func close() async {
        for channel in channels.values { try? await value(of: channel.close()) }
        channels.removeAll()
    }

    /// Waits for `future` here, on the session's loop. `EventLoopFuture.get()` is a nonisolated
    /// async function: each call left the loop for the shared pool and came back, two thread
    /// switches per request, and with the pool busy (every live test suite in one process) an answer
    /// that had arrived waited up to 7 s for a pool thread.
    private func value<T: Sendable>(of future: EventLoopFuture<T>) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            future.whenComplete { continuation.resume(with: $0) }
        }
    }

    private func connection(to origin: ProbeOrigin) async throws -> any Channel {
        if let channel = channels[origin], channel.isActive { return channel }
        channels[origin] = nil
        guard let address = origin.address else { throw ProbeConnectionError.unresolved(origin.resolutionError ?? "not resolved") }
        let cap = configuration.bodyCap
        let timeout = TimeAmount.milliseconds(Int64(configuration.timeout.milliseconds))
        var context: NIOSSLContext?
        if origin.tls {
            switch tls {
            case .success(let made): context = made
            case .failure(let error): throw ProbeConnectionError.tls("no TLS configuration: \(error)")
            case nil: throw ProbeConnectionError.tls("no TLS configuration for this session")
            }
        }
        let serverName = origin.serverName
        let handshake = eventLoop.makePromise(of: Void.self)
        let connecting = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { [context] channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let context {
                        try pipeline.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverName))
                        try pipeline.addHandler(TLSHandshakeWaiter(handshake))
                    } else {
                        handshake.succeed()
                    }
                    try pipeline.addHTTPClientHandlers()
                    try pipeline.addHandler(ProbeExchangeHandler(cap: cap, timeout: timeout))
                }
            }
            .connect(to: address)
        let channel = try await value(of: connecting)
        // A server that accepts and never answers the handshake must not hold the worker.
        let deadline = eventLoop.scheduleTask(in: timeout) { handshake.fail(HandshakeTimeout()) }
        defer { deadline.cancel() }
        do {
            // Here, not with the first request: a handshake that fails is a TLS error, whatever
            // the server did (garbage, a reset, silence) to make it fail.
            try await value(of: handshake.futureResult)
        } catch {
            channel.close(promise: nil)
            throw ProbeConnectionError.tls(String(describing: error))
        }
        channels[origin] = channel
        return channel
    }
}

/// Completes a promise when the TLS handshake is done, or fails it when the connection ends
/// or fails first; then leaves the pipeline.
final class TLSHandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    private let promise: EventLoopPromise<Void>

    init(_ promise: EventLoopPromise<Void>) { self.promise = promise }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            promise.succeed()
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ProbeConnectionError.closedEarly(afterHead: false))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        promise.fail(ChannelError.ioOnClosedChannel)  // no effect once it succeeded
    }
}

/// No TLS handshake within the probe's timeout.
struct HandshakeTimeout: Error, CustomStringConvertible {
    var description: String { "no handshake within the timeout" }
}
