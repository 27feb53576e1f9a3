import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A tiny in-process Swift HTTP backend standing in for the team's Swift app. It answers every
/// path with 200 and the request target it received, sets the owner marker header, and records
/// each request target (path and query exactly as they arrived).
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
        var connections: [ObjectIdentifier: any Channel] = [:]
    }

    /// Request targets received so far, in order (`/page.php?x=1`).
    public var requestTargets: [String] { state.withLockedValue { $0.received } }

    public init() {}

    /// Starts listening on a free loopback port; returns once the port is known.
    public func start() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        let state = state
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let id = ObjectIdentifier(channel)
                state.withLockedValue { $0.connections[id] = channel }
                channel.closeFuture.whenComplete { _ in _ = state.withLockedValue { $0.connections.removeValue(forKey: id) } }
                return channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(state: state))
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
        var head: HTTPRequestHead?

        init(state: NIOLockedValueBox<State>) {
            self.state = state
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let request):
                head = request
            case .body:
                break
            case .end:
                guard let request = head else { return }
                head = nil
                state.withLockedValue { $0.received.append(request.uri) }
                let body = context.channel.allocator.buffer(string: "swift backend: \(request.uri)\n")
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
                headers.add(name: RecordingBackend.markerHeader, value: "swift")
                headers.add(name: "Content-Length", value: String(body.readableBytes))
                let keepAlive = request.isKeepAlive
                if !keepAlive { headers.add(name: "Connection", value: "close") }
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: .ok, headers: headers))), promise: nil)
                if request.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
                let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
                if !keepAlive { done.whenComplete { [context] _ in context.close(promise: nil) } }
            }
        }
    }
}
