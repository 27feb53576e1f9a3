import CutoverParity
import Foundation
import Testing

/// The comparison as a Swift app's own tests would call it: answers in, fields and a verdict out.
@Suite struct ParityTests {
    func html(_ body: String, status: Int = 200, type: String = "text/html; charset=utf-8", headers: [(String, String)] = []) -> ParityResponse {
        ParityResponse(status: status, headers: [("Content-Type", type)] + headers, body: body)
    }

    func page(title: String = "Home", items: [String] = (1...20).map { "item \($0)" }, form: String = "", extra: String = "") -> String {
        """
        <!DOCTYPE html><html><head><title>\(title)</title><link rel="canonical" href="/home"></head>
        <body><nav><a href="/a">A</a><a href="/b">B</a></nav>
        <ul>\(items.map { "<li>\($0)</li>" }.joined())</ul>
        <form id="login" action="/login">\(form)</form>\(extra)</body></html>
        """
    }

    static let loginForm = #"<input name="csrf" type="hidden" value="T"><input name="user"><input name="email">"#

    @Test func anIdenticalPageIsTheSame() {
        let result = Parity.compare(php: html(page()), swift: html(page()), phpAgain: html(page()))
        #expect(result.verdict == .same && result.differences.isEmpty && result.noise.isEmpty)
        #expect(result.fields > 20)
    }

    @Test func removingTheFirstOfTwentyItemsIsOneDifference() {
        let result = Parity.compare(php: html(page()), swift: html(page(items: (2...20).map { "item \($0)" })))
        #expect(result.verdict == .different)
        #expect(result.differences.map(\.field) == ["html/body/ul/li[1]"], "\(result.differences)")
        #expect(result.differences.first?.php == "<li>item 1" && result.differences.first?.swift == nil)
    }

    @Test func aChangedTitleAndAMissingInputAreExactlyThoseFields() {
        let title = Parity.compare(php: html(page(form: Self.loginForm)), swift: html(page(title: "Welcome", form: Self.loginForm)))
        #expect(title.differences == [.init(field: "html/head/title/text()", php: "Home", swift: "Welcome")], "\(title.differences)")
        let withoutEmail = Self.loginForm.replacingOccurrences(of: #"<input name="email">"#, with: "")
        let input = Parity.compare(php: html(page(form: Self.loginForm)), swift: html(page(form: withoutEmail)))
        #expect(input.differences.map(\.field) == ["html/body/form[@id=login]/input[@name=email]"], "\(input.differences)")
        let href = Parity.compare(php: html(page()), swift: html(page().replacingOccurrences(of: #"href="/b""#, with: #"href="/c""#)))
        #expect(href.differences == [.init(field: "html/body/nav/a[2]@href", php: "/b", swift: "/c")], "\(href.differences)")
    }

    @Test func markupThatReadsTheSameIsTheSame() {
        let php = #"<html><body><p class="a b" id="x">Fish &amp; chips</p><!-- php comment --><div>one   two</div></body></html>"#
        let swift = "<html>\n<body>\n  <p id='x' class=\"a b\">Fish &#38; chips</p>\n  <div>\n one two\n</div>\n</body></html>"
        let result = Parity.compare(php: html(php), swift: html(swift))
        #expect(result.verdict == .same, "\(result.differences)")
    }

    @Test func anISO88591PageAndItsUTF8TwinDifferOnlyInTheCharset() {
        let text = "<html><body><p>Café crème, déjà vu</p></body></html>"
        let latin1 = ParityResponse(
            status: 200,
            headers: [.init("Content-Type", "text/html; charset=ISO-8859-1")],
            body: text.unicodeScalars.map { UInt8($0.value) }
        )
        let result = Parity.compare(php: latin1, swift: html(text))
        #expect(result.differences == [.init(field: "content-type charset", php: "iso-8859-1", swift: "utf-8")], "\(result.differences)")
    }

    @Test func malformedMarkupIsReadAsABrowserWould() {
        let broken = "<html><body><div><p>one<p>two<li>three</div></span><table><tr><td>cell</body>"
        #expect(Parity.compare(php: html(broken), swift: html(broken)).verdict == .same)
        let changed = Parity.compare(php: html(broken), swift: html(broken.replacingOccurrences(of: "two", with: "2")))
        #expect(changed.differences.count == 1 && changed.differences.first?.php == "two", "\(changed.differences)")
        // Bytes that are no markup at all, and an empty body, are bodies too.
        let garbage = ParityResponse(status: 200, headers: [.init("Content-Type", "text/html")], body: [0xFF, 0x00, 0x3C, 0x3C, 0xFE])
        _ = Parity.compare(php: garbage, swift: html(""))
    }

    @Test func aBigBodyIsComparedUpToTheCap() {
        var rules = ParityRules()
        rules.maxBodyBytes = 64 << 10
        let big = "<html><body>" + String(repeating: "<p>paragraph</p>", count: 700_000) + "</body></html>"
        #expect(big.utf8.count > 10_000_000, "only the first 64 KB are parsed")
        let result = Parity.compare(php: html(big), swift: html(big), rules: rules)
        #expect(result.verdict == .same, "two bodies cut at the cap compare by their starts: \(result.differences.prefix(3))")
        let cut = Parity.compare(php: html(big), swift: html("<html><body><p>paragraph</p></body></html>"), rules: rules)
        #expect(cut.differences.contains { $0.field == "body truncated" && $0.php == "true" && $0.swift == "false" })
    }

    @Test func statusRedirectAndMediaTypeAlwaysCount() {
        let ok = html(page())
        let missing = Parity.compare(php: ok, swift: html(page(), status: 404))
        #expect(missing.verdict == .different && missing.differences.map(\.field) == ["status"])
        var rules = ParityRules()
        rules.siteOrigin = "https://example.org"
        let redirect = Parity.compare(
            php: html("", status: 301, headers: [("Location", "https://example.org/new")]),
            swift: html("", status: 301, headers: [("Location", "/new")]),
            rules: rules
        )
        #expect(redirect.verdict == .same, "an absolute Location on the site is its path: \(redirect.differences)")
        let moved = Parity.compare(php: ok, swift: html("", status: 301, headers: [("Location", "/home")]), rules: rules)
        #expect(moved.verdict == .different && moved.differences.map(\.field).starts(with: ["status", "location"]))
        // A JSON answer for an HTML page: one difference, and the bodies are never parsed.
        let json = ParityResponse(status: 200, headers: [("Content-Type", "application/json")], body: #"{"a":1}"#)
        let type = Parity.compare(php: ok, swift: json)
        #expect(type.differences.map(\.field) == ["content-type", "content-type charset"], "\(type.differences)")
    }

    @Test func headersComparedAreTheConfiguredOnesAndNeverTheDate() {
        let php = html(page(), headers: [("Cache-Control", "max-age=60"), ("Date", "Mon"), ("Set-Cookie", "sid=1; path=/"), ("Server", "Apache")])
        let swift = html(
            page(),
            headers: [("Cache-Control", "no-store"), ("Date", "Tue"), ("Set-Cookie", "sid=2"), ("X-Cutover-Handler", "proxy-server")]
        )
        let result = Parity.compare(php: php, swift: swift)
        #expect(result.differences == [.init(field: "header:cache-control", php: "max-age=60", swift: "no-store")], "\(result.differences)")
        let cookies = Parity.compare(php: php, swift: html(page(), headers: [("Cache-Control", "max-age=60"), ("Set-Cookie", "session=1")]))
        #expect(cookies.differences == [.init(field: "set-cookie names", php: "sid", swift: "session")])
    }

    /// Diffy's rule: a field that differs between the two PHP answers is noise for the URL.
    @Test func aTokenAndTheTimeThatChangeOnEveryAnswerAreNoise() {
        func answer(token: String, time: String, title: String = "Home") -> ParityResponse {
            html(page(title: title, form: #"<input name="csrf" type="hidden" value="\#(token)">"#, extra: "<footer>generated at \(time)</footer>"))
        }
        let same = Parity.compare(
            php: answer(token: "a1", time: "10:00:00.123456"),
            swift: answer(token: "c3", time: "10:00:00.200001"),
            phpAgain: answer(token: "b2", time: "10:00:00.300000")
        )
        #expect(same.verdict == .same, "\(same.differences)")
        #expect(same.noise == ["html/body/footer/text()", "html/body/form[@id=login]/input[@name=csrf]@value"])
        let changed = Parity.compare(
            php: answer(token: "a1", time: "1"),
            swift: answer(token: "c3", time: "2", title: "Welcome"),
            phpAgain: answer(token: "b2", time: "3")
        )
        #expect(changed.verdict == .different && changed.differences.map(\.field) == ["html/head/title/text()"])
        // Without the second PHP answer the same page differs in both noisy fields.
        #expect(Parity.compare(php: answer(token: "a1", time: "1"), swift: answer(token: "c3", time: "2")).differences.count == 2)
    }

    @Test func aPageThatChangesEverywhereIsTooNoisyToJudge() {
        let a = html(page(items: (1...20).map { "a\($0)" }))
        let b = html(page(items: (1...20).map { "b\($0)" }))
        let result = Parity.compare(php: a, swift: html(page(items: (1...20).map { "c\($0)" })), phpAgain: b)
        #expect(result.verdict == .noisy && result.reason?.contains("differ between the two PHP answers") == true, "\(result)")
    }

    @Test func ignoreRulesAndMasksHideDifferencesAndSayHowMany() {
        var rules = ParityRules()
        rules.ignore = ["html/body/nav"]
        rules.masks = [#"[0-9a-f]{8}-[0-9a-f]{4}"#]
        let php = html(page(extra: "<p>request 1234abcd-9f9f done</p>"))
        let swift = html(page(extra: "<p>request 99999999-0000 done</p>").replacingOccurrences(of: ">A<", with: ">Alpha<"))
        let result = Parity.compare(php: php, swift: swift, rules: rules)
        #expect(result.verdict == .same, "\(result.differences)")
        #expect(result.hidden == ["html/body/nav": 1, #"[0-9a-f]{8}-[0-9a-f]{4}"#: 1])
    }

    @Test func jsonComparesByKeyPathWithArraysInOrder() {
        func json(_ text: String) -> ParityResponse { ParityResponse(status: 200, headers: [("Content-Type", "application/json")], body: text) }
        #expect(Parity.compare(php: json(#"{"a":{"b":[1,2]},"c":true}"#), swift: json(#"{"c":true, "a":{"b":[1,2]}}"#)).verdict == .same)
        let changed = Parity.compare(php: json(#"{"a":{"b":[1,2]},"c":"x"}"#), swift: json(#"{"a":{"b":[2,1]},"c":"x","d":null}"#))
        #expect(
            changed.differences == [
                .init(field: "$.a.b[0]", php: "1", swift: "2"), .init(field: "$.a.b[1]", php: "2", swift: "1"),
                .init(field: "$.d", php: nil, swift: "null"),
            ],
            "\(changed.differences)"
        )
        #expect(Parity.compare(php: json(#"{"a":1}"#), swift: json("not json")).differences.map(\.field) == ["body"])
    }

    @Test func xmlAndTextCompareByElementAndLine() {
        func feed(_ titles: [String]) -> ParityResponse {
            let items = titles.map { "<item><title>\($0)</title></item>" }.joined()
            return ParityResponse(
                status: 200,
                headers: [("Content-Type", "application/rss+xml")],
                body: "<?xml version=\"1.0\"?><rss><channel>\(items)</channel></rss>"
            )
        }
        let xml = Parity.compare(php: feed(["one", "two", "three"]), swift: feed(["one", "2", "three"]))
        #expect(xml.differences == [.init(field: "rss/channel/item[2]/title/text()", php: "two", swift: "2")], "\(xml.differences)")
        // An external entity is never loaded: a hostile feed cannot read a file into a field.
        let hostile = ParityResponse(
            status: 200,
            headers: [("Content-Type", "text/xml")],
            body: #"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#
        )
        let read = Parity.compare(php: hostile, swift: ParityResponse(status: 200, headers: [("Content-Type", "text/xml")], body: "<r></r>"))
        #expect(!read.differences.contains { ($0.php ?? "").contains("root:") }, "\(read.differences)")
        func text(_ body: String) -> ParityResponse { ParityResponse(status: 200, headers: [("Content-Type", "text/plain")], body: body) }
        let lines = Parity.compare(php: text("a\nb\nc\n"), swift: text("a\nx\nb\nc  \n"))
        #expect(lines.differences == [.init(field: "line +2", php: nil, swift: "x")], "\(lines.differences)")
    }

    @Test func hostileValuesStayPlainText() {
        let evil = #"<html><body><p id="x&quot;&gt;&lt;script&gt;">&lt;script&gt;alert(1)&lt;/script&gt;</p></body></html>"#
        let result = Parity.compare(php: html(evil), swift: html(evil.replacingOccurrences(of: "alert(1)", with: "alert(2)")))
        #expect(result.differences.count == 1)
        #expect(result.differences.first?.field == #"html/body/p[@id=x"><script>]/text()"#)
        #expect(result.differences.first?.php == "<script>alert(1)</script>", "values are text; whoever renders them escapes them")
    }
}

/// Site-wide noise (#27.4): a field that changed by itself on enough of a run's pages is noise on
/// every page, so a page whose two PHP answers happened to agree on it is not held different.
@Suite struct SiteNoiseTests {
    static func result(_ verdict: ParityVerdict, differences: [String] = [], noise: [String] = []) -> ParityResult {
        ParityResult(
            verdict: verdict,
            differences: differences.map { ParityDifference(field: $0, php: "1", swift: "2") },
            noise: noise,
            hidden: [:],
            fields: 10,
            reason: nil
        )
    }

    @Test func aFieldNoisyOnEnoughPagesIsNoiseEverywhere() {
        let footer = "html/body/footer/text()"
        var results = (0..<5).map { _ in Self.result(.same, noise: [footer]) }
        results += (0..<15).map { _ in Self.result(.same) }
        results.append(Self.result(.error))
        // 5 of 20 compared pages (25 %, at least 5): site-wide; errors are not compared pages.
        #expect(Parity.siteNoise(results) == [footer])
        // 4 of 20 is under both thresholds; 5 of 30 is under 20 %.
        #expect(Parity.siteNoise(Array(results.dropFirst())).isEmpty)
        #expect(Parity.siteNoise(results + (0..<10).map { _ in Self.result(.same) }).isEmpty)
        var rules = ParityRules()
        rules.siteNoiseMinimum = 2
        rules.siteNoiseShare = 0.1
        #expect(Parity.siteNoise(Array(results.dropFirst(3)), rules: rules) == [footer])

        // Applied: the footer moves to the noise; the page is the same unless something else differs.
        let page = Self.result(.different, differences: [footer])
        #expect(page.applyingSiteNoise([footer]).verdict == .same)
        #expect(page.applyingSiteNoise([footer]).noise == [footer])
        let other = Self.result(.different, differences: [footer, "html/head/title/text()"]).applyingSiteNoise([footer])
        #expect(other.verdict == .different && other.differences.map(\.field) == ["html/head/title/text()"])
        // Status, Location and Content-Type are never noise.
        #expect(Self.result(.different, differences: ["status"]).applyingSiteNoise(["status"]).verdict == .different)
        #expect(Self.result(.error).applyingSiteNoise([footer]).verdict == .error)
    }
}

/// Fixtures (#27.7): a PHP page kept as a file the Swift app's own tests load, compared with the
/// same rules and noise as parity through Apache, with nothing secret kept.
@Suite struct ParityFixtureTests {
    static func php(token: String, title: String = "Shop") -> ParityResponse {
        ParityResponse(
            status: 200,
            headers: [
                ("Content-Type", "text/html; charset=utf-8"), ("Set-Cookie", "PHPSESSID=secret-session-\(token); path=/"),
                ("Cache-Control", "private"),
            ],
            body: """
                <html><head><title>\(title)</title></head><body><form id="login"><input type="hidden" name="csrf" value="\(token)">\
                <input name="user"></form><p>Fish &amp; chips</p></body></html>
                """
        )
    }

    @Test func aFixtureRoundTripsAndComparesAsParityDoes() throws {
        let first = Self.php(token: "a1")
        let noise = Parity.compare(php: first, swift: Self.php(token: "b2")).differences.map(\.field)
        #expect(noise == ["html/body/form[@id=login]/input[@name=csrf]@value"])
        var rules = ParityRules()
        rules.ignore = ["header:vary"]
        let fixture = ParityFixture(path: "/shop.php?id=1", php: first, noise: noise, rules: rules)
        let json = try fixture.json()
        let text = String(decoding: json, as: UTF8.self)
        // No session id in a file meant for a repository; the cookie's name stays.
        #expect(!text.contains("secret-session") && text.contains("PHPSESSID=(value not kept)"), "\(text)")
        #expect(text.contains(#""path" : "/shop.php?id=1""#))
        let loaded = try ParityFixture(json: json)
        #expect(loaded == fixture && loaded.parityRules.ignore == ["header:vary"])
        // Its normalised fields, for a person to read.
        #expect(loaded.fields.contains(ParityField(field: "html/head/title/text()", value: "Shop")))
        #expect(loaded.fields.contains(ParityField(field: "html/body/p/text()", value: "Fish & chips")))
        #expect(loaded.fields.contains(ParityField(field: "set-cookie names", value: "PHPSESSID")))
        // The Swift app's own answer: its token is noise; a changed title is exactly that field.
        let twin = ParityResponse(
            status: 200,
            headers: [("Content-Type", "text/html; charset=utf-8"), ("Set-Cookie", "PHPSESSID=x"), ("Cache-Control", "private")],
            body: String(decoding: Self.php(token: "swift").body, as: UTF8.self)
        )
        #expect(loaded.compare(twin).verdict == .same, "\(loaded.compare(twin).differences)")
        var changed = twin
        changed.body = Self.php(token: "swift", title: "Shop!").body
        #expect(loaded.compare(changed).differences == [.init(field: "html/head/title/text()", php: "Shop", swift: "Shop!")])
        #expect(loaded.compare(ParityResponse(status: 404, headers: [], body: [])).verdict == .different)
    }

    @Test func aFileOfAnotherFormatIsRefused() throws {
        #expect(throws: FixtureError.self) { try ParityFixture(json: Data(#"{"format":"something-else/9"}"#.utf8)) }
        #expect(throws: (any Error).self) { try ParityFixture(json: Data("not json".utf8)) }
        var fixture = ParityFixture(path: "/", php: Self.php(token: "t"), noise: [], rules: ParityRules())
        fixture.format = "cutover-parity-fixture/2"
        let other = try fixture.json()
        #expect(throws: FixtureError.self) { try ParityFixture(json: other) }
    }
}

@Suite struct HeaderNameTests {
    /// Header names match without regard to ASCII case, and only letters fold: `[` is not `{`.
    @Test func headerNamesMatchWithoutCase() {
        let response = ParityResponse(status: 200, headers: [.init("CONTENT-type", "text/html"), .init("X-[a]", "1"), .init("Vary", "a")], body: [])
        #expect(response.values("content-type") == ["text/html"] && response.values("Content-Type") == ["text/html"])
        #expect(response.values("x-{A}").isEmpty && response.values("X-[A]") == ["1"])
        #expect(response.values("var").isEmpty && response.values("varyy").isEmpty && response.values("VARY") == ["a"])
    }
}
