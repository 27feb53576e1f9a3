import CutoverCore
import CutoverLogs
import Foundation
import Testing

/// What a test reads back from one parsed line.
struct Parsed: Equatable {
    var outcome: String
    var target = ""
    var time: Int? = nil
    var status = 0
    var bytes = 0
    var host: String? = nil
    var agent: String? = nil
    var handler: String? = nil
    var microseconds: Int? = nil
}

func parse(_ line: String, format: String) throws -> Parsed {
    let parser = LogLineParser(format: try LogFormat(format))
    var bytes = Array(line.utf8)
    var entry = LogEntry()
    let outcome = bytes.withUnsafeMutableBufferPointer { parser.parse($0, into: &entry) }
    func text(_ range: Range<Int>?) -> String? { range.map { String(decoding: bytes[$0], as: UTF8.self) } }
    switch outcome {
    case .malformed: return Parsed(outcome: "malformed")
    case .noTarget: return Parsed(outcome: "noTarget")
    case .request:
        return Parsed(
            outcome: "request",
            target: text(entry.target)!,
            time: entry.time,
            status: entry.status,
            bytes: entry.bytes,
            host: text(entry.virtualHost),
            agent: text(entry.userAgent),
            handler: text(entry.handler),
            microseconds: entry.durationMicroseconds
        )
    }
}

@Suite struct LogFormatTests {
    static let combinedLine =
        #"203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?a=1 HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#

    @Test func combinedPresetReadsEveryField() throws {
        let parsed = try parse(Self.combinedLine, format: "combined")
        #expect(parsed.outcome == "request")
        #expect(parsed.target == "/apache_pb.gif?a=1")
        // 13:55:36 at -0700 is 20:55:36 UTC.
        #expect(parsed.time == 971_211_336)
        #expect(parsed.status == 200 && parsed.bytes == 2326)
        #expect(parsed.agent == "Mozilla/4.08 [en] (Win98; I ;Nav)")
    }

    @Test func formatAsWrittenInTheConfigEqualsThePreset() throws {
        let quoted = #""%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"""#
        #expect(try LogFormat(quoted).pieces == LogFormat("combined").pieces)
        #expect(try parse(Self.combinedLine, format: quoted) == parse(Self.combinedLine, format: "combined"))
    }

    @Test func vhostCombinedHasTheHost() throws {
        let line = #"shop.example:80 198.51.100.4 - - [03/Dec/2026:08:00:00 +0000] "GET / HTTP/1.1" 304 0 "-" "curl/8.0""#
        let parsed = try parse(line, format: "vhost_combined")
        #expect(parsed.host == "shop.example" && parsed.target == "/" && parsed.status == 304 && parsed.time == 1_796_284_800)
    }

    @Test func apacheEscapesInTheRequestAreDecoded() throws {
        // Apache writes a quote in the request line as \" and other odd bytes as \xHH.
        let line = #"1.2.3.4 - - [03/Dec/2026:08:00:00 +0000] "GET /a\"b/\xc3\xa9?q=\\x HTTP/1.1" 404 12 "-" "x\"y""#
        let parsed = try parse(line, format: "combined")
        #expect(parsed.target == "/a\"b/é?q=\\x")
        #expect(parsed.agent == #"x\"y"#)
        #expect(parsed.status == 404)
    }

    @Test func absoluteFormTargetsAreReducedToThePath() throws {
        let proxied = #"1.2.3.4 - - [03/Dec/2026:08:00:00 +0000] "GET http://Example.COM:8080/p/q.php?x=1 HTTP/1.1" 200 1 "-" "-""#
        #expect(try parse(proxied, format: "combined").target == "/p/q.php?x=1")
        let bare = #"1.2.3.4 - - [03/Dec/2026:08:00:00 +0000] "GET https://example.com HTTP/1.1" 200 1 "-" "-""#
        #expect(try parse(bare, format: "combined").outcome == "noTarget")
    }

    @Test func linesWithoutARequestPathAreNotRequests() throws {
        for request in ["-", #"\x16\x03\x01\x02"#, "OPTIONS * HTTP/1.1"] {
            let line = #"1.2.3.4 - - [03/Dec/2026:08:00:00 +0000] "\#(request)" 400 0 "-" "-""#
            #expect(try parse(line, format: "combined").outcome == "noTarget", "\(request)")
        }
    }

    @Test func linesThatDoNotMatchAreMalformed() throws {
        for line in [
            "", "garbage", #"1.2.3.4 - - [03/Dec/2026:08:00:00 +0000] "GET / HTTP/1.1" 200"#,
            #"1.2.3.4 - - [99/Dec/2026:08:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-""#,
            String(decoding: [0xff, 0x00, 0x01, 0x22], as: UTF8.self),
        ] {
            #expect(try parse(line, format: "combined").outcome == "malformed", "\(line)")
        }
    }

    @Test func customFormatWithHandlerDurationAndStrftimeTime() throws {
        let format = #"%a [%{%Y-%m-%d %H:%M:%S %z}t] "%m %U%q %H" %>s %B %D %R %{X-Cutover-Owner}o"#
        let line = #"::1 [2026-12-03 09:10:11 +0100] "GET /about/index.php?x=1 HTTP/1.1" 200 512 1234 proxy-server swift"#
        let parsed = try parse(line, format: format)
        #expect(parsed.target == "/about/index.php?x=1")
        #expect(parsed.time == 1_796_289_011 - 3600)
        #expect(parsed.handler == "proxy-server" && parsed.bytes == 512 && parsed.microseconds == 1234)
        let epoch = try parse(#"1796285411 "GET /x HTTP/1.1" 200 -"#, format: #"%{sec}t "%r" %>s %b"#)
        #expect(epoch.time == 1_796_285_411 && epoch.bytes == 0)
    }

    /// #26.3: how long a request took, whatever unit the format writes, in microseconds; no
    /// duration in the format is nil, a duration that is not a number is a malformed line.
    @Test(arguments: [
        (#""%r" %D"#, "1234", 1234),
        (#""%r" %T"#, "2", 2_000_000),
        (#""%r" %{s}T"#, "3", 3_000_000),
        (#""%r" %{ms}T"#, "45", 45_000),
        (#""%r" %{us}T"#, "678", 678),
    ])
    func durationsInMicroseconds(format: String, written: String, microseconds: Int) throws {
        #expect(try parse(#""GET /a.php HTTP/1.1" \#(written)"#, format: format).microseconds == microseconds)
    }

    @Test func durationAbsentOrMalformed() throws {
        #expect(try parse(Self.combinedLine, format: "combined").microseconds == nil)
        #expect(try parse(#""GET /a.php HTTP/1.1" -"#, format: #""%r" %D"#).outcome == "malformed")
        #expect(try parse(#""GET /a.php HTTP/1.1" 99999999999999999"#, format: #""%r" %T"#).outcome == "malformed")  // overflows
        #expect(throws: LogFormatError.unsupported("%{ns}T")) { try LogFormat("%r %{ns}T") }
    }

    @Test func everyListedDirectiveCompiles() throws {
        let format = #"%h %a %l %u %t %{%d/%b/%Y}t "%r" %m %U %q %H %>s %s %b %B %D %T %v %V %p %R %{Referer}i %{Location}o %{HOME}e %I %O %%"#
        #expect(throws: Never.self) { try LogFormat(format) }
    }

    @Test func unsupportedDirectivesAreNamed() throws {
        #expect(throws: LogFormatError.unsupported("%J")) { try LogFormat("%h %J %r") }
        #expect(throws: LogFormatError.unsupported("%{%s}t (the time conversion %s)")) { try LogFormat("%{%s}t %r") }
        #expect(throws: LogFormatError.self) { try LogFormat("%h%u %r") }
        #expect(throws: LogFormatError.noRequest("%h %t")) { try LogFormat("%h %t") }
        #expect(throws: LogFormatError.self) { try LogFormat("%{Referer %r") }
        #expect("\(LogFormatError.unsupported("%J"))".contains("%J"))
    }
}

@Suite struct RequestTargetTests {
    @Test func pathsAreCanonical() {
        #expect(RequestTarget.canonicalPath(Array("/a//b/./c/../d%2ephp".utf8)) == "/a/b/d.php")
        #expect(RequestTarget.canonicalPath(Array("/dir/".utf8)) == "/dir/")
        #expect(RequestTarget.canonicalPath(Array("/".utf8)) == "/")
        #expect(RequestTarget.canonicalPath(Array("/%C3%A9 x".utf8)) == "/%C3%A9%20x")
        #expect(RequestTarget.canonicalPath(Array("/a/..".utf8)) == "/")
        #expect(RequestTarget.canonicalPath(Array("/../etc".utf8)) == nil)
        #expect(RequestTarget.canonicalPath(Array("/bad%zz".utf8)) == nil)
        // %U is written decoded: a literal % and space are encoded, never decoded again.
        #expect(RequestTarget.canonicalPath(Array("/a b%zz.php".utf8), alreadyDecoded: true) == "/a%20b%25zz.php")
    }

    /// A path stored as sent (the fast path) is exactly what decoding and resolving it gives, over
    /// every short path of an alphabet with the bytes that matter (slashes, dots, escapes, a space).
    @Test func pathsTakenAsSentAreTheResolvedOnes() {
        let alphabet = Array("a/.%2e ~".utf8)
        var taken = 0
        var checked = 0
        func visit(_ path: [UInt8]) {
            if path.count > 1 {
                checked += 1
                let decoded = PathEncoding.decode(String(decoding: path, as: UTF8.self))
                let resolved = decoded.flatMap { PathEncoding.resolved(decoded: $0) }
                if PathEncoding.isCanonical(path) {
                    taken += 1
                    #expect(resolved == String(decoding: path, as: UTF8.self), "\(String(decoding: path, as: UTF8.self))")
                    #expect(PathEncoding.resolved(decoded: path) == String(decoding: path, as: UTF8.self))
                }
                #expect(RequestTarget.canonicalPath(path) == resolved)
            }
            guard path.count < 6 else { return }
            for byte in alphabet { visit(path + [byte]) }
        }
        visit([UInt8(ascii: "/")])
        #expect(checked == 37_448)
        #expect(taken > 1_000)
        #expect(PathEncoding.isCanonical(Array("/".utf8)))
        #expect(PathEncoding.isCanonical(Array("/news/a-b_c~d.php".utf8)))
        #expect(PathEncoding.isCanonical(Array("/.../".utf8)))
        for path in ["//", "/a//b", "/./", "/a/..", "/a/../b", "/%41", "/a b", "a/b", "", "/a/\u{7F}"] {
            #expect(!PathEncoding.isCanonical(Array(path.utf8)), "\(path)")
        }
    }

    @Test func queriesDropNoiseAndSortKeys() {
        let pairs = RequestTarget.queryPairs(Array("utm_source=x&id=start&do=edit&PHPSESSID=1&fbclid=2&a&id=two".utf8))
        #expect(RequestTarget.normalisedQuery(pairs) == "a&do=edit&id=start&id=two")
    }

    @Test func valuesAreReadAsPHPReadsThem() {
        let pairs = RequestTarget.queryPairs(Array("id=wiki%3Astart&q=a+b%20c&id=wiki:last&sid=9".utf8))
        let (values, otherKeys) = RequestTarget.phpValues(pairs)
        #expect(Dictionary(uniqueKeysWithValues: values.map { ($0.key, $0.value) }) == ["q": "a b c", "id": "wiki:last"])
        #expect(otherKeys == 0)
    }
}

/// LogFuzz's properties over 100,000 generated hostile lines (`make fuzz` runs 10 million).
@Suite struct LogFuzzTests {
    @Test func generatedHostileLinesKeepEveryProperty() {
        let report = LogFuzz.run(count: 100_000, seed: 23)
        #expect(report.violations.isEmpty, "\(report.violations.prefix(5))")
        // The generator reaches every outcome, or the properties would be checked on nothing.
        #expect(report.requests > 10_000 && report.bad > 1_000 && report.noTarget > 100 && report.otherHosts > 1_000, "\(report)")
        #expect(report.unusable > 0, "\(report)")
    }
}
