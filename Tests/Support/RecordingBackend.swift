import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A tiny in-process Swift HTTP backend standing in for the team's Swift app. It answers every
/// path with 200 and the request target it received (or, for a path in `pages`, that page: a
/// Swift twin of a PHP page), sets the owner marker header, and records each request target
/// (path and query exactly as they arrived) and method.
///
/// Plain SwiftNIO on its own event loop thread, no async handler: a backend whose answers need a
/// Swift Concurrency thread stalls while other suites block those few threads (a subprocess, a
/// synchronous crawl), and Apache's proxied request then times out for no reason the test is about.
public final class RecordingBackend: @unchecked Sendable {
    public static let markerHeader = "X-Cutover-Owner"

    private let state = NIOLockedValueBox(State())
    private var group: MultiThreadedEventLoopGroup?
    private var channel: (any Channel)?
    public private(set) var port: Int = 0
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    struct State {
        var received: [String] = []
        var methods: [String] = []
        /// Each request's `Cookie` header ("" without one), in order.
        var cookies: [String] = []
        var connections: [ObjectIdentifier: any Channel] = [:]
        /// Requests answered so far per path (for `Page.failEvery`).
        var answered: [String: Int] = [:]
        /// Each request in full: target, headers, body.
        var full: [RecordedRequest] = []
    }

    /// A request as received.
    public struct RecordedRequest: Sendable {
        public var target: String
        public var headers: [(String, String)]
        public var body: [UInt8]

        public func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    /// A page the backend serves at a path (without its query).
    public struct Page: Sendable {
        public var status: Int
        public var contentType: String
        public var headers: [(String, String)]
        public var body: String
        /// Every this many requests to the page, answer 500 instead (a twin with a bug on one
        /// code path); nil: never.
        public var failEvery: Int?

        public init(
            status: Int = 200,
            contentType: String = "text/html; charset=utf-8",
            headers: [(String, String)] = [],
            body: String,
            failEvery: Int? = nil
        ) {
            self.failEvery = failEvery
            self.status = status
            self.contentType = contentType
            self.headers = headers
            self.body = body
        }
    }

    private let pages: [String: Page]
    /// Seconds the backend waits before it answers these paths (a slow backend).
    private let delays: [String: Double]

    /// Request targets received so far, in order (`/page.php?x=1`).
    public var requestTargets: [String] { state.withLockedValue { $0.received } }
    /// Requests received so far in full (target, headers, body), in order.
    public var requests: [RecordedRequest] { state.withLockedValue { $0.full } }
    /// Request methods received so far, in order.
    public var requestMethods: [String] { state.withLockedValue { $0.methods } }
    /// Each request's target with its `Cookie` header ("" without one), in order.
    public var requestCookies: [(target: String, cookie: String)] { state.withLockedValue { Array(zip($0.received, $0.cookies)) } }

    public init(pages: [String: Page] = [:], delays: [String: Double] = [:]) {
        self.pages = pages
        self.delays = delays
    }

    /// Starts listening on a free loopback port; returns once the port is known.
    public func start() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        let (state, pages, delays) = (state, pages, delays)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let id = ObjectIdentifier(channel)
                state.withLockedValue { $0.connections[id] = channel }
                channel.closeFuture.whenComplete { _ in _ = state.withLockedValue { $0.connections.removeValue(forKey: id) } }
                return channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(state: state, pages: pages, delays: delays))
                }
            }
        let channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        self.channel = channel
        port = channel.localAddress?.port ?? 0
        guard port > 0 else { throw HarnessError("recording backend did not start") }
    }

    /// Stops listening and closes kept-alive connections, so that the port then refuses.
    public func stop() async {
        try? await channel?.close().get()
        channel = nil
        for connection in state.withLockedValue({ Array($0.connections.values) }) { try? await connection.close().get() }
        try? await group?.shutdownGracefully()
        group = nil
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let state: NIOLockedValueBox<State>
        let pages: [String: Page]
        let delays: [String: Double]
        var head: HTTPRequestHead?
        var body: [UInt8] = []

        init(state: NIOLockedValueBox<State>, pages: [String: Page], delays: [String: Double]) {
            self.state = state
            self.pages = pages
            self.delays = delays
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let request):
                head = request
                body = []
            case .body(let buffer):
                body += buffer.readableBytesView
            case .end:
                guard let request = head else { return }
                head = nil
                state.withLockedValue {
                    $0.received.append(request.uri)
                    $0.methods.append(request.method.rawValue)
                    $0.cookies.append(request.headers["Cookie"].joined(separator: "; "))
                    $0.full.append(RecordedRequest(target: request.uri, headers: request.headers.map { ($0.name, $0.value) }, body: self.body))
                }
                let path = String(request.uri.prefix { $0 != "?" })
                var page = pages[path] ?? Page(contentType: "text/plain; charset=utf-8", body: "swift backend: \(request.uri)\n")
                let count = state.withLockedValue { state -> Int in
                    state.answered[path, default: 0] += 1
                    return state.answered[path]!
                }
                if let every = page.failEvery, count % every == 0 { page.status = 500 }
                let body = context.channel.allocator.buffer(string: page.body)
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: page.contentType)
                for (name, value) in page.headers { headers.add(name: name, value: value) }
                headers.add(name: RecordingBackend.markerHeader, value: "swift")
                headers.add(name: "Content-Length", value: String(body.readableBytes))
                let keepAlive = request.isKeepAlive
                if !keepAlive { headers.add(name: "Connection", value: "close") }
                let head = HTTPResponseHead(version: request.version, status: HTTPResponseStatus(statusCode: page.status), headers: headers)
                let answer = { [self] in
                    context.write(wrapOutboundOut(.head(head)), promise: nil)
                    if request.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
                    let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
                    if !keepAlive { done.whenComplete { [context] _ in context.close(promise: nil) } }
                }
                if let delay = delays[path] {
                    // On the channel's loop already: the answer runs there later, no Sendable hop needed.
                    context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(delay * 1000))) { answer() }
                } else {
                    answer()
                }
            }
        }
    }
}
