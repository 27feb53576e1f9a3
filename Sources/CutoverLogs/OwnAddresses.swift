import Foundation

/// The addresses a site's own requests come from: loopback (`127.0.0.0/8`, `::1`, `localhost`)
/// and the addresses of the site's public host. A request from one of them is a cron, a
/// health check or the app calling itself, not a person, unless its agent is a browser's
/// (`Mozilla/...`): behind a reverse proxy on the same machine every visitor comes from
/// loopback, and those are people.
package struct OwnAddresses: Sendable {
    var addresses: Set<[UInt8]>

    package init(addresses: [String] = []) {
        self.addresses = Set((addresses + ["::1", "localhost"]).map { Array($0.lowercased().utf8) })
    }

    /// Loopback and the addresses `host` resolves to (an IP literal is itself).
    package static func of(host: String?) -> OwnAddresses {
        guard let host, !host.isEmpty else { return OwnAddresses() }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        var found = [bare]
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        if getaddrinfo(bare, nil, &hints, &list) == 0 {
            var next = list
            while let info = next {
                var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
                if getnameinfo(info.pointee.ai_addr, info.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                    found.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
                }
                next = info.pointee.ai_next
            }
            freeaddrinfo(list)
        }
        return OwnAddresses(addresses: found)
    }

    @inline(__always)
    func contains(_ client: UnsafeBufferPointer<UInt8>) -> Bool {
        if client.count >= 4, client[0] == UInt8(ascii: "1"), client[1] == UInt8(ascii: "2"), client[2] == UInt8(ascii: "7"),
            client[3] == UInt8(ascii: ".")
        {
            return true
        }
        return addresses.contains(Array(client))
    }

    static let mozilla = Array("Mozilla/".utf8)

    static func isBrowser(_ agent: UnsafeBufferPointer<UInt8>?) -> Bool {
        guard let agent, agent.count >= mozilla.count else { return false }
        var start = 0
        while start + mozilla.count <= agent.count {
            if agent[start] == mozilla[0], agent[start..<(start + mozilla.count)].elementsEqual(mozilla) { return true }
            start += 1
        }
        return false
    }
}
