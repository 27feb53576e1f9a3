import CutoverCore
import CutoverExport
import Testing

@Suite struct DirectiveRendererTests {
    let settings = SiteSettings(name: "shop", docroot: "/srv/www", publicURL: "http://127.0.0.1:8081", backendURL: "http://127.0.0.1:8080/")

    func render(_ paths: [String], form: ExportForm = .vhost, redirects: [PageRedirect] = []) throws -> RenderedExport {
        try DirectiveRenderer.render(
            ExportInput(settings: settings, flips: paths.map(PageFlip.init), redirects: redirects, mapFilePath: "/etc/apache2/cutover.map"),
            form: form
        )
    }

    /// The dbm form (#28.1): keys in a `dbm=gdbm:` map, a key over 1 KB stays a rule of its own,
    /// and the map's text (stored with the export) names exactly the mapped keys.
    @Test func theDbmFormHashesItsKeysAndKeepsLongOnesAsRules() throws {
        let long = "/" + String(repeating: "d/", count: 520) + "x.php"
        let rendered = try render(["/a.php", "/caf%C3%A9.php", long], form: .dbm)
        #expect(
            rendered.text.contains(#"RewriteMap cutover_"#) && rendered.text.contains(#""dbm=gdbm:/etc/apache2/cutover.map""#),
            "\(rendered.text)"
        )
        let keys = HashedMapFile.keys(ofTextMap: try #require(rendered.mapFile))
        #expect(keys == [Array("/a.php".utf8), Array("/café.php".utf8)])
        #expect(rendered.text.contains("d/d/d/x\\.php"), "the long path keeps a rule")
        // The txt form keeps the long key in its map (txt has no key limit).
        let text = try render(["/a.php", long], form: .rewritemap)
        #expect(HashedMapFile.keys(ofTextMap: try #require(text.mapFile)).count == 2)
    }

    /// Names an attacker could put in a docroot, as canonical URL paths.
    static let hostile: [String] = [
        "/q%22uote.php", "/gt%3E.php", "/%3C/Files%3E.php", "/%3C/Directory%3E.php", "/pct%2520.php", "/dollar$1.php",
        "/sp%20ace.php", "/%5Bbr%5D.php", "/star*.php", "/back%5Cslash.php", "/caf%C3%A9.php", "/%FF%FE.php",
        "/semi;colon.php", "/%25%7B.php", "/a'b.php", "/%7Bbrace%7D.php", "/hash%23.php", "/q%3F.php",
    ]

    @Test(arguments: hostile)
    func hostileNamesNeverEscapeTheirRule(path: String) throws {
        for form in ExportForm.allCases {
            let text = try render([path], form: form).text
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            for line in lines {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
                // Every directive line is one Cutover writes, never one a name introduced.
                let known = [
                    "Header ", "DirectoryCheckHandler ", "RewriteEngine ", "RewriteOptions InheritDown", "RewriteCond ", "RewriteRule ",
                    "RewriteMap ", "ProxyPassReverse ", "<Directory ", "</Directory>",
                ]
                #expect(known.contains { trimmed.hasPrefix($0) }, "\(form): unexpected line: \(trimmed)")
                for prefix in ["RewriteRule \"^", "RewriteCond %{REQUEST_URI} \"^"] where trimmed.hasPrefix(prefix) {
                    // The pattern is plain ASCII without quotes, spaces, '<', '>' or '%'.
                    let pattern = trimmed.dropFirst(prefix.count - 1).prefix { $0 != "\"" }
                    #expect(pattern.allSatisfy { $0.isASCII && !" <>%'`$".contains($0) || $0 == "$" && pattern.last == "$" }, "\(pattern)")
                }
            }
            #expect(lines.filter { $0.contains("<Directory") }.count == (form == .htaccess ? 0 : 1))
            #expect(lines.filter { $0.contains("</Directory>") }.count == (form == .htaccess ? 0 : 1))
        }
    }

    @Test(arguments: ["/new%0Aline.php", "/%3C/Directory%3E%0A.php", "/nul%00.php", "/tab%09.php", "/del%7F.php", "/%0D%0AHeader%20set%20X%201.php"])
    func controlCharactersAreRefusedNamingTheFile(path: String) {
        for form in ExportForm.allCases {
            #expect {
                try render([path], form: form)
            } throws: { error in
                guard case ExportError.unsafeName(let named, _) = error else { return false }
                return named == path
            }
        }
    }

    @Test func patternsEscapeRegexAndQuoteCharacters() throws {
        #expect(try ApacheEscaping.serverPattern(forPath: "/a+b(1).php") == #"^/a\x2Bb\x281\x29\.php$"#)
        #expect(try ApacheEscaping.serverPattern(forPath: "/old%20page.php") == #"^/old\x20page\.php$"#)
        #expect(try ApacheEscaping.serverPattern(forPath: "/") == "^/$")
        #expect(try ApacheEscaping.serverPattern(forPath: "/about/") == "^/about/$")
        #expect(try ApacheEscaping.serverPattern(forPath: "/q%22.php") == #"^/q\x22\.php$"#)
    }

    @Test func redirectTargetsEscapePercentAndDollar() throws {
        #expect(try ApacheEscaping.substitutionPath("/new%20home") == #"/new\%20home"#)
        #expect(try ApacheEscaping.substitutionPath("/cost$5") == #"/cost\$5"#)
        let text = try render([], redirects: [PageRedirect(from: "/old.php", to: "/new%20home")]).text
        #expect(text.contains(#"RewriteRule "^/old\.php$" "/new\%20home" [R=301,L,NE]"#))
        let htaccess = try render([], form: .htaccess, redirects: [PageRedirect(from: "/old.php", to: "/new%20home")]).text
        #expect(htaccess.contains(#"RewriteCond %{REQUEST_URI} "^/old\.php$""# + "\n" + #"RewriteRule ^ "/new\%20home" [R=301,L,NE]"#))
    }

    /// The export suggests %R only where the site's LogFormat cannot say who answered.
    @Test func suggestsTheHandlerInTheLogFormat() throws {
        let plain = try DirectiveRenderer.render(ExportInput(settings: settings, flips: []), form: .vhost)
        #expect(plain.text.contains("LogFormat with %R"))
        var attributed = settings
        attributed.accessLogFormat = #"%h %l %u %t "%r" %>s %O %R"#
        #expect(try !DirectiveRenderer.render(ExportInput(settings: attributed, flips: []), form: .vhost).text.contains("LogFormat with %R"))
    }

    @Test func outputIsDeterministicWhateverTheInputOrder() throws {
        let paths = ["/b.php", "/a.php", "/c%20d.php", "/about/"]
        let first = try render(paths)
        #expect(try render(paths.reversed()) == first)
        #expect(try render(paths.shuffled()) == first)
        let map = try render(paths, form: .rewritemap)
        #expect(try render(paths.reversed(), form: .rewritemap) == map)
    }

    @Test func manyRulesRecommendTheMapForm() throws {
        let many = (0...DirectiveRenderer.recommendedMaxRules).map { "/p\($0).php" }
        #expect(try render(many).text.contains("the tree form (a marker file per page, one stat per request) is faster"))
        #expect(!(try render(["/a.php"]).text.contains("is faster")))
        #expect(!(try render(many, form: .rewritemap).text.contains("is faster")))
        #expect(
            !(try DirectiveRenderer.render(
                ExportInput(settings: settings, flips: many.map(PageFlip.init), mapFilePath: "/var/lib/cutover/flips"),
                form: .tree
            ).text.contains("is faster"))
        )
    }

    @Test func rewriteMapKeepsSpacedPathsAsRules() throws {
        let export = try render(["/a.php", "/c%20d.php"], form: .rewritemap)
        let map = String(decoding: export.mapFile ?? [], as: UTF8.self)
        #expect(map.hasSuffix("/a.php swift\n"))
        #expect(!map.contains("c d"))
        #expect(export.text.contains(#"RewriteRule "^/c\x20d\.php$""#))
        #expect(export.text.contains(#"RewriteMap cutover_shop "txt:/etc/apache2/cutover.map""#))
    }

    @Test func unsafeSettingsAreRefused() {
        var bad = settings
        bad.backendURL = "http://127.0.0.1:8080/%2e"
        #expect(throws: ExportError.self) { try DirectiveRenderer.render(ExportInput(settings: bad, flips: []), form: .vhost) }
        bad = settings
        bad.docroot = "/srv/\"www"
        #expect(throws: ExportError.self) { try DirectiveRenderer.render(ExportInput(settings: bad, flips: []), form: .vhost) }
        #expect(throws: ExportError.mapFileRequired) { try DirectiveRenderer.render(ExportInput(settings: settings, flips: []), form: .rewritemap) }
    }

    /// Every form lets a request choose its side: the first rule sends `swift;SECRET` to Swift,
    /// every other rule yields to `php;SECRET` (its guard sits before the path capture, whose
    /// group the substitution reads), the digests are SHA-1 as `sha1sum` writes them, and the
    /// secret itself is never written.
    @Test(arguments: ExportForm.allCases)
    func everyRuleYieldsToTheSideHeader(form: ExportForm) throws {
        let secret = "0123456789abcdef0123456789abcdef"
        var input = ExportInput(
            settings: settings,
            flips: ["/a.php", "/old page.php", "/doku.php?id=start"].map { PageFlip(path: $0.replacingOccurrences(of: " ", with: "%20")) },
            redirects: [PageRedirect(from: "/moved.php", to: "/new")],
            mapFilePath: "/etc/apache2/cutover.map",
            sideSecret: secret
        )
        let text = try DirectiveRenderer.render(input, form: form).text
        #expect(!text.contains(secret))
        // hashlib.sha1(b"swift;0123…").hexdigest() and the same for php;
        let swiftDigest = "c6b041b17d4db1094b5f39b2ea677447cced05a4"
        let phpDigest = "e2ae1cc679bdf80fc34ec31c8f9568c37b57b497"
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let rules = lines.indices.filter { lines[$0].hasPrefix("RewriteRule ") }
        #expect(rules.count >= 5, "side, redirect, flips, fallback")
        let first = try #require(rules.first)
        #expect(lines[first - 2] == "RewriteCond expr \"sha1(req_novary('X-Cutover-Side')) == '\(swiftDigest)'\"")
        let guardLine = "RewriteCond expr \"-z req_novary('X-Cutover-Side') || sha1(req_novary('X-Cutover-Side')) != '\(phpDigest)'\""
        for index in rules.dropFirst() {
            // The rule's own conditions, back to the line before them.
            var start = index
            while start > 0, lines[start - 1].hasPrefix("RewriteCond ") { start -= 1 }
            let conditions = Array(lines[start..<index])
            #expect(conditions.filter { $0 == guardLine }.count == 1, "\(form): \(lines[index])")
            if let capture = conditions.firstIndex(of: #"RewriteCond %{THE_REQUEST} "^\S+\s+(/[^?\s]*)""#) {
                #expect(capture == conditions.count - 1 && conditions[capture - 1] == guardLine, "\(form): the capture stays last")
            }
        }
        // Without a secret, no side rules; a secret that is not what the store keeps is refused.
        input.sideSecret = nil
        #expect(try !DirectiveRenderer.render(input, form: form).text.contains("X-Cutover-Side"))
        input.sideSecret = "0123456789ABCDEF0123456789ABCDEF"
        #expect(throws: ExportError.self) { try DirectiveRenderer.render(input, form: form) }
        input.sideSecret = "x' || true || '0123456789abcdef0"
        #expect(throws: ExportError.self) { try DirectiveRenderer.render(input, form: form) }
    }
}
