import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A raw TCP server on loopback that misbehaves on purpose, one behaviour per path:
/// `/slow*` answers after 10 s, `/reset*` closes in the middle of the body, `/big*` sends 1 MiB,
/// `/loop*` redirects to itself, `/garbage*` answers with something that is not HTTP, `/short*`
/// ends the body early with a clean close, `/hints*` sends 103 Early Hints before its 200, `/eof*`
/// has no length (the body ends with the connection). Anything else gets a small 200.
public final class MisbehavingServer: @unchecked Sendable {
    public let port: Int
    private let listener: Int32
    private var stopped = false
    /// Signalled each time a `/slow*` request has arrived (and is being held).
    private let slowArrivals = DispatchSemaphore(value: 0)
    private let requests = Mutex(0)
    /// Requests that reached the server so far.
    public var requestCount: Int { requests.withLock { $0 } }
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Waits until a `/slow*` request is pending here: the event a test needs before it cancels
    /// a probe mid-request, instead of a guess at how long the probe takes to get there.
    public func slowRequestArrived(within seconds: Int) async -> Bool {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { [slowArrivals] in
                continuation.resume(returning: slowArrivals.wait(timeout: .now() + .seconds(seconds)) == .success)
            }
        }
    }

    public init() throws {
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = listener
        let ok = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard ok, listen(listener, 64) == 0 else { throw HarnessError("misbehaving server: bind/listen failed") }
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    public func stop() {
        stopped = true
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while !stopped {
            let client = accept(listener, nil, nil)
            if client < 0 { return }
            Thread { [self] in serve(client) }.start()
        }
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        var buffer = [UInt8](repeating: 0, count: 8192)
        let count = read(client, &buffer, buffer.count)
        guard count > 0 else { return }
        requests.withLock { $0 += 1 }
        let request = String(decoding: buffer[0..<count], as: UTF8.self)
        let path = request.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
        func send(_ text: String) { _ = text.withCString { write(client, $0, strlen($0)) } }
        if path.hasPrefix("/slow") {
            slowArrivals.signal()
            sleep(10)
            send("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nslow")
        } else if path.hasPrefix("/reset") {
            send("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\npartial body")
            var linger = linger(l_onoff: 1, l_linger: 0)  // RST instead of FIN
            setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
        } else if path.hasPrefix("/big") {
            let body = String(repeating: "x", count: 1 << 20)
            send("HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
            send(body)
        } else if path.hasPrefix("/loop") {
            send("HTTP/1.1 302 Found\r\nLocation: \(path)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        } else if path.hasPrefix("/short") {
            send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")
        } else if path.hasPrefix("/hints") {
            send("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
            send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhints")
        } else if path.hasPrefix("/eof") {
            send("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")
        } else if path.hasPrefix("/garbage") {
            send("THIS IS NOT HTTP AT ALL\r\n\r\n")
        } else {
            send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        }
    }
}
