import CutoverCore

/// A property check of the log-line parser and the query normaliser over generated hostile
/// lines (`make fuzz`: 10 million; the test suite: 100,000). Lines are well-formed `combined`
/// and `vhost_combined` lines with random mutations: bytes inserted, replaced or cut, quotes and
/// backslashes, `%` escapes (good, bad, `%00`, `%0A`), `..` segments, thousands of query keys,
/// long values, non-UTF-8 bytes. Every line must be classified exactly once (lines = requests +
/// bad + no-target + other hosts), the counted hits must equal the requests (kept + unusable
/// paths), and what would be stored must keep its bounds: at most 32 values per request, no
/// value over 200 bytes or with a control byte, no stored query over 1 KiB.
package enum LogFuzz {
    package struct Report: Sendable, CustomStringConvertible {
        package var lines = 0
        package var requests = 0
        package var bad = 0
        package var noTarget = 0
        package var otherHosts = 0
        package var storedHits = 0
        package var unusable = 0
        package var violations: [String] = []

        package var description: String {
            "\(lines) lines: \(requests) requests (\(storedHits) hits kept, \(unusable) with unusable paths), \(bad) bad, "
                + "\(noTarget) without a target, \(otherHosts) for other hosts; \(violations.count) violations"
        }
    }

    /// A small deterministic generator (SplitMix64), so a failing seed can be replayed.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }
        mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    }

    static let pieces: [String] = [
        "/", "a", "b.php", "..", ".", "%2e%2e", "%2F", "%00", "%0A", "%zz", "%", "%4", "%C3%A9", "é", "\u{1}", " ", "\"", "\\\"", "\\",
        "\\x41", "?", "&", "=", "+", "#", "*", "-", "//", "id", "token", "email", "alice@example.org", "9f86d081884c7d659a2feaa0c55ad015",
    ]

    static func line(_ random: inout Generator, vhost: Bool) -> [UInt8] {
        var path = ""
        for _ in 0..<random.below(6) { path += pieces[random.below(pieces.count)] }
        if !path.hasPrefix("/"), random.chance(80) { path = "/" + path }
        if random.chance(50) {
            path += "?"
            let keys = random.chance(5) ? 1 + random.below(3000) : random.below(8)
            for index in 0..<keys {
                if index > 0 { path += "&" }
                path += random.chance(10) ? pieces[random.below(pieces.count)] : "k\(random.below(50))"
                if random.chance(90) {
                    path += "="
                    path += random.chance(3) ? String(repeating: "v", count: 150 + random.below(200)) : pieces[random.below(pieces.count)]
                }
            }
        }
        let method = ["GET", "POST", "-", "\\x16\\x03\\x01"][random.below(4)]
        let request = method == "-" ? "-" : "\(method) \(path) HTTP/1.1"
        let status = random.chance(3) ? "abc" : String(200 + random.below(400))
        let size = random.chance(3) ? "x1" : (random.chance(10) ? "-" : String(random.below(100_000)))
        let agent = ["Mozilla/5.0", "bingbot/2.0", "-", "cutover-probe/1", "a \\\"quoted\\\" agent"][random.below(5)]
        let host = random.chance(70) ? "shop.example:80 " : "other.example:443 "
        let text =
            (vhost ? host : "") + "192.0.2.\(random.below(255)) - - [06/Dec/2026:10:00:00 +0000] \"\(request)\" \(status) \(size) \"-\" \"\(agent)\""
        var bytes = Array(text.utf8)
        // Mutations: insert, replace or cut bytes anywhere.
        for _ in 0..<(random.chance(30) ? 1 + random.below(4) : 0) {
            let at = random.below(bytes.count + 1)
            switch random.below(3) {
            case 0: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: at)
            case 1 where at < bytes.count: bytes[at] = UInt8(truncatingIfNeeded: random.next())
            default: bytes.removeSubrange(at..<min(bytes.count, at + random.below(20)))
            }
        }
        bytes.removeAll { $0 == 10 }  // one line
        return bytes
    }

    /// Runs `count` generated lines from `seed`; `violations` lists every broken property.
    package static func run(count: Int, seed: UInt64 = 1) -> Report {
        var report = Report()
        var random = Generator(state: seed)
        let formats = [try! LogFormat("combined"), try! LogFormat("vhost_combined")]
        let hosts = [Array("shop.example".utf8)]
        let sensitive = SensitiveQuery(pageKeys: [("/a", "id")])
        var aggregators = formats.map { TrafficAggregator(fallbackTime: 0, pathIsDecoded: $0.pathIsDecoded, sensitive: sensitive) }
        var entry = LogEntry()
        var pending = 0
        func flush() {
            for index in aggregators.indices {
                let (batch, unusable) = aggregators[index].batch()
                report.unusable += unusable
                report.storedHits += batch.paths.values.reduce(0) { $0 + $1.hits }
                for key in batch.queries.keys where key.query.utf8.count > RequestTarget.maxQueryBytes {
                    report.violations.append("stored query of \(key.query.utf8.count) bytes")
                }
                for key in batch.values.keys
                where key.value.utf8.count > 3 * RequestTarget.maxValueBytes || key.value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
                    report.violations.append("stored value \(ConfigText.visible(String(key.value.prefix(40))))")
                }
                aggregators[index] = TrafficAggregator(fallbackTime: 0, pathIsDecoded: formats[index].pathIsDecoded, sensitive: sensitive)
            }
            pending = 0
        }
        for _ in 0..<count {
            let which = random.below(2)
            var bytes = line(&random, vhost: which == 1)
            report.lines += 1
            let parser = LogLineParser(format: formats[which])
            bytes.withUnsafeMutableBufferPointer { buffer in
                switch parser.parse(buffer, into: &entry) {
                case .malformed: report.bad += 1
                case .noTarget: report.noTarget += 1
                case .request:
                    let line = UnsafeBufferPointer(buffer)
                    if let host = entry.virtualHost, !LogImporter.matches(line[host], hosts) {
                        report.otherHosts += 1
                        return
                    }
                    report.requests += 1
                    aggregators[which].add(entry, line: line)
                    if let mark = line[entry.target].firstIndex(of: UInt8(ascii: "?")) {
                        let pairs = RequestTarget.queryPairs(line[(mark + 1)..<entry.target.upperBound])
                        let (values, _) = RequestTarget.phpValues(pairs)
                        if values.count > RequestTarget.maxKeysPerRequest { report.violations.append("\(values.count) values in one request") }
                    }
                }
            }
            pending += 1
            if pending == 10_000 { flush() }
        }
        flush()
        if report.lines != report.requests + report.bad + report.noTarget + report.otherHosts {
            report.violations.append("lines are not conserved: \(report)")
        }
        if report.storedHits + report.unusable != report.requests {
            report.violations.append("hits are not conserved: \(report)")
        }
        return report
    }
}
