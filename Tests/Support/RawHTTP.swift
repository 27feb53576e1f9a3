import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.1 request written byte for byte on a fresh loopback connection: the path goes out
/// exactly as given (`//api`, `%2F`, `/./api`), and so do the headers, `Host` included. Clients
/// such as AsyncHTTPClient normalise what these tests need to send as an attacker would.
public struct RawHTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: String

    public var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    public var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
}

public enum RawHTTP {
    public static func send(
        port: Int,
        method: String,
        path: String,
        host: String? = nil,
        headers: [String: String] = [:],
        body: String? = nil
    ) throws -> RawHTTPResponse {
        var request = "\(method) \(path) HTTP/1.1\r\nHost: \(host ?? "127.0.0.1:\(port)")\r\nConnection: close\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { request += "\(name): \(value)\r\n" }
        if let body { request += "Content-Length: \(body.utf8.count)\r\n" }
        request += "\r\n" + (body ?? "")
        let data = try exchange(port: port, Array(request.utf8))
        let text = String(decoding: data, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { throw RawHTTPError.malformed(text) }
        let lines = text[..<end.lowerBound].components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw RawHTTPError.malformed(lines[0]) }
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return RawHTTPResponse(status: status, headers: fields, body: String(text[end.upperBound...]))
    }

    /// `send` on a Dispatch thread: the blocking socket read must not hold one of Swift
    /// Concurrency's few threads while an in-process backend needs them to answer.
    public static func send(
        port: Int,
        method: String,
        path: String,
        host: String? = nil,
        headers: [String: String] = [:],
        body: String? = nil
    ) async throws -> RawHTTPResponse {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try send(port: port, method: method, path: path, host: host, headers: headers, body: body) })
            }
        }
    }

    /// A TCP connection to 127.0.0.1:`port` with a 10 s read timeout; the caller closes it.
    public static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawHTTPError.socket(errno) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let error = errno
            close(fd)
            throw RawHTTPError.socket(error)
        }
        return fd
    }

    public static func exchange(port: Int, _ bytes: [UInt8]) throws -> Data {
        let fd = try connect(port: port)
        defer { close(fd) }
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { throw RawHTTPError.socket(errno) }
            sent += count
        }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            data.append(contentsOf: buffer[0..<count])
        }
        return data
    }
}

public enum RawHTTPError: Error {
    case socket(Int32)
    case malformed(String)
}
