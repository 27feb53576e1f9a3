import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// A tiny in-process Swift HTTP backend standing in for the team's Swift app. It answers every
/// path with 200 and the request target it received, sets the owner marker header, and records
/// each request target (path and query exactly as they arrived).
public final class RecordingBackend: @unchecked Sendable {
    public static let markerHeader = "X-Cutover-Owner"

    private let lock = NSLock()
    private var received: [String] = []
    private var task: Task<Void, any Error>?
    private var serviceGroup: ServiceGroup?
    public private(set) var port: Int = 0
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Request targets received so far, in order (`/page.php?x=1`).
    public var requestTargets: [String] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    public init() {}

    /// Starts listening on a free loopback port; returns once the port is known.
    public func start() async throws {
        let router = Router()
        router.on("**", method: .get) { request, _ in self.answer(request) }
        router.on("**", method: .head) { request, _ in self.answer(request) }
        router.on("/", method: .get) { request, _ in self.answer(request) }
        let ready = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "swift-backend"),
            onServerRunning: { channel in
                ready.continuation.yield(channel.localAddress?.port ?? 0)
                ready.continuation.finish()
            },
            logger: {
                var logger = Logger(label: "recording-backend")
                logger.logLevel = .warning
                return logger
            }()
        )
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: app.logger))
        serviceGroup = group
        task = Task { try await group.run() }
        for await port in ready.stream {
            self.port = port
        }
        guard port > 0 else { throw HarnessError("recording backend did not start") }
    }

    /// Shuts down gracefully, closing kept-alive connections, so that the port then refuses.
    public func stop() async {
        await serviceGroup?.triggerGracefulShutdown()
        _ = try? await task?.value
        task = nil
    }

    private func answer(_ request: Request) -> Response {
        let target = request.head.path ?? "/"
        lock.lock()
        received.append(target)
        lock.unlock()
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        headers[HTTPField.Name(Self.markerHeader)!] = "swift"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "swift backend: \(target)\n")))
    }
}
