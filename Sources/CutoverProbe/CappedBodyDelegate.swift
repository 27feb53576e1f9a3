import AsyncHTTPClient
import Crypto
import CutoverCore
import NIOCore
import NIOHTTP1

/// A response head and the hash of its body as read. Also thrown by the delegate to stop the
/// download once the cap is reached (AsyncHTTPClient then closes the connection).
struct CappedBody: Error {
    var head: HTTPResponseHead
    var hash: String
    var read: Int
    var truncated: Bool
}

/// AsyncHTTPClient always reports the head first; this would be a client bug, recorded as an invalid response.
struct MissingHead: Error, CustomStringConvertible {
    var description: String { "invalid response: body without a head" }
}

/// Hashes at most `cap` body bytes. AsyncHTTPClient calls a delegate on the request's event loop
/// only, one callback at a time, so its state needs no lock.
final class CappedBodyDelegate: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = CappedBody

    private let cap: Int
    private var head: HTTPResponseHead?
    private var hasher = SHA256()
    private var read = 0

    init(cap: Int) { self.cap = cap }

    func didReceiveHead(task: HTTPClient.Task<CappedBody>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        self.head = head
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<CappedBody>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        let take = min(buffer.readableBytes, cap - read)
        buffer.withUnsafeReadableBytes { bytes in hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes.prefix(take))) }
        read += take
        guard take == buffer.readableBytes else {
            let stop: any Error
            do { stop = try finish(truncated: true) } catch { stop = error }
            return task.eventLoop.makeFailedFuture(stop)
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<CappedBody>) throws -> CappedBody {
        try finish(truncated: false)
    }

    private func finish(truncated: Bool) throws -> CappedBody {
        guard let head else { throw MissingHead() }
        return CappedBody(head: head, hash: Hex.encode(hasher.finalize()), read: read, truncated: truncated)
    }
}
