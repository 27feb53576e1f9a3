import CutoverCore
import CutoverExport
import CutoverLogs
import CutoverTestSupport
import Foundation
import GRDB
import Testing

@testable import CutoverStore

/// Settings are text inside an Apache config file. A module whose constructor writes a marker
/// file stands for any code an injected `LoadModule` would run: whatever a hostile setting holds,
/// the marker must never appear, and Apache's own config test must pass or the export be refused.
@Suite(.enabled(if: Integration.enabled, "needs apache2 and libapache2-mod-php (always runs when CI=true)"))
struct ConfigInjectionTests {
    /// Builds `evil.so`, which writes `marker` when loaded.
    static func markerModule(in folder: TemporaryDirectory) throws -> (module: String, marker: String) {
        let marker = folder.appending("marker")
        let source = folder.appending("evil.c")
        try """
        #include <stdio.h>
        __attribute__((constructor)) static void cutover_evil(void) { FILE *f = fopen("\(marker)", "w"); if (f) fclose(f); }
        """.write(toFile: source, atomically: true, encoding: .utf8)
        let module = folder.appending("evil.so")
        let result = try Subprocess.run("/usr/bin/cc", ["-shared", "-fPIC", "-o", module, source])
        #expect(result.status == 0, "cc: \(result.stderr)")
        return (module, marker)
    }

    static func hostileValues(module: String) -> [String] {
        [
            "\"\nLoadModule evil_module \(module)\n#", "\r\nLoadModule evil_module \(module)\r\n",
            "x\">\n</Directory>\nLoadModule evil_module \(module)\n<Directory \"/tmp",
            "\\\" \nLoadModule evil_module \(module)", "${EVIL}", "%{ENV:X}", "a b\n#c",
        ]
    }

    /// Rows written by an older version that accepted anything: the export and its `--check`
    /// refuse them with a clear message, and never run Apache on injected text.
    @Test(arguments: ExportForm.allCases)
    func storedHostileDocrootNeverReachesApache(form: ExportForm) async throws {
        let folder = try TemporaryDirectory(prefix: "inject")
        defer { folder.remove() }
        let (module, marker) = try Self.markerModule(in: folder)
        try folder.write("htdocs/index.php", "<?php echo 1;")
        let db = folder.appending("cutover.sqlite")
        await #expect(
            try Subprocess.run(Subprocess.cutoverBinary, ["crawl", "--db", db, "--site", "s", "--docroot", folder.appending("htdocs")]).status == 0
        )
        let fields = ["docroot", "backend_url", "owner_header", "directory_index", "php_extensions"]
        for value in Self.hostileValues(module: module) {
            for field in fields {
                let database = try DatabaseQueue(path: db)
                let stored = field.hasSuffix("index") || field.hasSuffix("extensions") ? try JSONEncoder().encode([value]).string : value
                let original = try await database.write { db -> String in
                    let old = try String.fetchOne(db, sql: "SELECT \(field) FROM sites WHERE name = 's'")!
                    try db.execute(sql: "UPDATE sites SET \(field) = ? WHERE name = 's'", arguments: [field == "docroot" ? "/srv/x" + value : stored])
                    return old
                }
                try database.close()
                let result = try await Subprocess.run(
                    Subprocess.cutoverBinary,
                    ["export", "--db", db, "--site", "s", "--form", form.rawValue, "--map-file", folder.appending("flips.map"), "--check"]
                )
                #expect(result.status != 0, "\(field) = \(value.debugDescription) was exported")
                #expect(result.stderr.contains("cannot be exported"), "\(field): \(result.stderr)")
                #expect(result.stderr.split(separator: "\n").count == 1, "one clear line: \(result.stderr.debugDescription)")
                #expect(!FileManager.default.fileExists(atPath: marker), "\(field) = \(value.debugDescription) loaded a module")
                let restore = try DatabaseQueue(path: db)
                try await restore.write { db in try db.execute(sql: "UPDATE sites SET \(field) = ? WHERE name = 's'", arguments: [original]) }
                try restore.close()
            }
        }
        // The site as it was exports and passes Apache's test: the refusals above were about the values.
        let clean = try await Subprocess.run(
            Subprocess.cutoverBinary,
            ["export", "--db", db, "--site", "s", "--form", form.rawValue, "--map-file", folder.appending("flips.map"), "--check"]
        )
        #expect(clean.status == 0, "\(clean.stdout) \(clean.stderr)")
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    /// Where settings enter, the CLI refuses every hostile value of every field with one clear line.
    @Test func cliRefusesHostileSettings() async throws {
        let folder = try TemporaryDirectory(prefix: "inject-cli")
        defer { folder.remove() }
        let (module, marker) = try Self.markerModule(in: folder)
        let db = folder.appending("cutover.sqlite")
        try folder.write("htdocs/index.php", "x")
        let docroot = folder.appending("htdocs")
        for value in Self.hostileValues(module: module) {
            let cases: [(String, [String])] = [
                ("docroot", ["site", "add", "s", "--docroot", docroot + value]),
                ("backend", ["site", "add", "s", "--docroot", docroot, "--backend-url", "http://127.0.0.1:8080/" + value]),
                ("index", ["site", "add", "s", "--docroot", docroot, "--directory-index", "index.php,a" + value + ".php"]),
                ("extensions", ["site", "add", "s", "--docroot", docroot, "--php-extensions", ".php,.p" + value]),
                ("owner header", ["site", "add", "s", "--docroot", docroot, "--owner-header", "X-Owner" + value]),
                ("name", ["site", "add", "s" + value, "--docroot", docroot]),
                ("page key script", ["site", "add", "s", "--docroot", docroot, "--page-key", "/x.php" + value + "=id"]),
                ("page key", ["site", "add", "s", "--docroot", docroot, "--page-key", "/x.php=id" + value]),
                ("front controller", ["site", "add", "s", "--docroot", docroot, "--front-controller", "/index.php" + value]),
            ]
            for (field, arguments) in cases {
                let result = try await Subprocess.run(Subprocess.cutoverBinary, arguments + ["--db", db])
                #expect(result.status != 0, "\(field) accepted \(value.debugDescription)")
                #expect(!result.stderr.isEmpty && !result.stderr.contains("SQL"), "\(field): \(result.stderr)")
            }
        }
        let sites = try await Subprocess.run(Subprocess.cutoverBinary, ["site", "list", "--db", db, "--json"])
        #expect((try JSONSerialization.jsonObject(with: Data(sites.stdout.utf8)) as? [Any])?.isEmpty == true, "\(sites.stdout)")
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    /// Values that are allowed render inert: spaces and '#' in a quoted docroot, Apache accepts
    /// the export, and the config has exactly the sections Cutover wrote.
    @Test(arguments: ExportForm.allCases)
    func allowedOddDocrootsRenderInert(form: ExportForm) async throws {
        let folder = try TemporaryDirectory(prefix: "inert")
        defer { folder.remove() }
        let docroot = folder.appending("my site #1 (old)")
        try folder.write("my site #1 (old)/index.php", "x")
        let settings = SiteSettings(name: "odd", docroot: docroot, publicURL: "http://127.0.0.1:1", backendURL: "http://127.0.0.1:8080")
        #expect(settings.problems().isEmpty)
        var map = folder.appending("maps dir/flips.map")
        if form == .tree {
            // The tree form's folder goes inside a RewriteCond test string: a space there is refused.
            #expect(throws: ExportError.self) {
                try DirectiveRenderer.render(ExportInput(settings: settings, flips: [PageFlip(path: "/index.php")], mapFilePath: map), form: form)
            }
            map = folder.appending("maps-dir/flips")
        }
        let rendered = try DirectiveRenderer.render(
            ExportInput(settings: settings, flips: [PageFlip(path: "/index.php")], mapFilePath: map),
            form: form
        )
        let result = try ApacheConfigCheck().check(rendered, settings: settings, mapFilePath: map)
        #expect(result.accepted, "\(result.message)\n\(rendered.text)")
        #expect(rendered.text.components(separatedBy: "<Directory").count - 1 == (form == .htaccess ? 0 : 1))
    }

    /// The canary cookie's domain comes from the site URL's host, which `URLComponents` decodes
    /// (`%0a` is a line break): a hostile host is refused where settings enter, and a row stored
    /// before that check renders the server's name instead, inert, accepted by Apache.
    @Test(arguments: [ExportForm.rewritemap, .dbm, .tree])
    func hostileSiteURLHostNeverReachesTheCanaryCookie(form: ExportForm) async throws {
        let folder = try TemporaryDirectory(prefix: "inject-host")
        defer { folder.remove() }
        let (module, marker) = try Self.markerModule(in: folder)
        try folder.write("htdocs/a.php", "x")
        let encoded = Self.hostileValues(module: module).map {
            $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0
        }
        for value in encoded {
            let url = "http://a\(value)b/"
            guard URLComponents(string: url)?.host != nil else { continue }
            #expect(HTTPBaseURL.problem(with: url) != nil, "\(url) accepted")
            var settings = SiteSettings(
                name: "s",
                docroot: folder.appending("htdocs"),
                publicURL: "http://127.0.0.1:1",
                backendURL: "http://127.0.0.1:8080"
            )
            settings.publicURL = url
            var input = ExportInput(
                settings: settings,
                flips: [],
                mapFilePath: folder.appending("flips"),
                sideSecret: String(repeating: "a", count: 32)
            )
            input.canaries = [CanaryRoute(name: "c", weight: 10, pages: ["/a.php"])]
            let rendered = try DirectiveRenderer.render(input, form: form)
            #expect(rendered.text.contains(":%{SERVER_NAME}:"), "\(rendered.text)")
            #expect(!rendered.text.contains("LoadModule"), "\(rendered.text)")
            let result = try ApacheConfigCheck().check(rendered, settings: settings, mapFilePath: folder.appending("flips"))
            #expect(result.accepted, "\(result.message)")
            #expect(!FileManager.default.fileExists(atPath: marker))
        }
        #expect(HTTPBaseURL.problem(with: "http://shop.example.com:8080/") == nil)
        #expect(HTTPBaseURL.problem(with: "http://[::1]:8080/") == nil)
    }

    /// Two sites whose names differ only in punctuation get their own RewriteMap: both exports in
    /// one Apache config pass its test, each rule reads its own site's map.
    @Test func twoSitesMapsInOneConfig() async throws {
        let folder = try TemporaryDirectory(prefix: "maps")
        defer { folder.remove() }
        var text = ""
        var names: [String] = []
        for (index, name) in ["shop.v2", "shop_v2", "shop-v2"].enumerated() {
            try folder.write("site\(index)/index.php", "x")
            try folder.write("site\(index)/flips.map", "/index.php swift\n")
            let settings = SiteSettings(
                name: name,
                docroot: folder.appending("site\(index)"),
                publicURL: "http://127.0.0.1:1",
                backendURL: "http://127.0.0.1:8080"
            )
            let rendered = try DirectiveRenderer.render(
                ExportInput(settings: settings, flips: [PageFlip(path: "/index.php")], mapFilePath: folder.appending("site\(index)/flips.map")),
                form: .rewritemap
            )
            let map = DirectiveRenderer.mapName(settings)
            #expect(rendered.text.contains("RewriteMap \(map) \"txt:\(folder.appending("site\(index)/flips.map"))\""))
            #expect(rendered.text.contains("${\(map):%{REQUEST_URI}|php}"))
            names.append(map)
            text += rendered.text
        }
        #expect(Set(names).count == 3, "\(names)")
        let conf = folder.appending("both.conf")
        let modules = ["mpm_prefork", "authz_core", "dir", "mime", "rewrite", "proxy", "proxy_http", "headers", "setenvif"]
            .map { "LoadModule \($0)_module \(ApacheServer.modules)/mod_\($0).so" }.joined(separator: "\n")
        try """
        ServerRoot "/etc/apache2"
        ServerName 127.0.0.1
        Listen 127.0.0.1:9
        PidFile "\(folder.appending("pid"))"
        ErrorLog "\(folder.appending("error.log"))"
        User www-data
        Group www-data
        \(modules)
        \(text)
        """.write(toFile: conf, atomically: true, encoding: .utf8)
        let result = try await Subprocess.run(ApacheServer.binary, ["-t", "-f", conf])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    }

    /// Query values from the log become pages of a declared page key: hostile values render as
    /// escapes in the query-string condition, Apache accepts every form, and each page (and no
    /// other value) reaches Swift.
    @Test func hostileQueryValuesFlippedAsPagesRenderInert() async throws {
        let folder = try TemporaryDirectory(prefix: "query-inject")
        defer { folder.remove() }
        let (module, marker) = try ConfigInjectionTests.markerModule(in: folder)
        let live = try await LiveSite(files: ["index.php": "<?php echo 'php page';"], directoryConfig: "AllowOverride All")
        defer { Task { await live.shutdown() } }
        try await live.crawl()
        let site = try await live.configure { $0.pageKeys = [PageKey(script: "/index.php", key: "page")] }
        let values = [
            "%22%0ALoadModule%20evil_module%20\(module)", "%22%20LoadModule%20evil_module%20\(module)", "${EVIL}", "%25{ENV:X}",
            "a\\\\b", "%3C/Directory%3E", "x%22y", "(.*)|[a]+?", "%C3%A9t%C3%A9",
        ]
        let log = values.map { #"192.0.2.1 - - [02/Dec/2026:10:00:00 +0000] "GET /index.php?page=\#($0) HTTP/1.1" 200 10 "-" "Mozilla/5.0""# }
        try folder.write("access.log", log.joined(separator: "\n") + "\n")
        _ = try storeCall {
            try LogImporter(database: live.database, site: site, format: try LogFormat("combined"), logger: live.quiet)
                .importFile(folder.appending("access.log"))
        }
        let pages = try await live.database.writer.read { db in
            try String.fetchAll(db, sql: "SELECT path FROM urls WHERE flags & ? != 0 ORDER BY path", arguments: [URLFlags.queryPage.rawValue])
        }
        // The value with a line break never becomes a page; the other eight do.
        #expect(pages.count == values.count - 1 && !pages.contains { $0.contains("%0A") }, "\(pages)")
        try await live.database.plan.flip(siteID: site.id, .paths(pages), to: .swift, reason: "ported")
        for form in ExportForm.allCases {
            let check = try await Subprocess.run(
                Subprocess.cutoverBinary,
                [
                    "export", "--db", live.docroot.appending("cutover.sqlite"), "--site", "live", "--form", form.rawValue, "--map-file",
                    live.docroot.appending("flips.\(form.rawValue)"), "--check",
                ]
            )
            #expect(check.status == 0, "\(form): \(check.stdout)\(check.stderr)")
            let rendered = try await live.install(form)
            // Values appear only in comment lines (each on one line); every directive holds escapes.
            let directives = rendered.text.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }
            #expect(!directives.contains { $0.contains("LoadModule") || $0.contains("${EVIL}") || $0.contains("</Directory>x") }, "\(form)")
            for page in pages { #expect(try await live.reachesSwift(page).swift, "\(form) \(page) should reach Swift") }
            #expect(try await !live.reachesSwift("/index.php?page=other").swift)
            #expect(!FileManager.default.fileExists(atPath: marker), "\(form) loaded a module")
        }
    }
}

extension Data {
    fileprivate var string: String { String(decoding: self, as: UTF8.self) }
}

/// URLs taken from an access log are text a stranger typed: they enter the inventory, can be
/// flipped with a redirect, and then reach the exported config. Each form must pass Apache's own
/// test, load no module, and answer each hostile URL with exactly its redirect.
@Suite(.enabled(if: Integration.enabled, "needs apache2 and libapache2-mod-php (always runs when CI=true)"))
struct LogURLInjectionTests {
    /// Request targets as Apache writes them inside `"%r"` (`\"` and `\\` are its escapes).
    static func hostileTargets(module: String) -> [String] {
        [
            "/a$b.html", "/${EVIL}", "/%{ENV:X}x", #"/q\"x"#, "/<script>alert(1)</script>", #"/back\\slash"#,
            "/p%22%20LoadModule%20evil_module%20\(module)", "/semi;colon'quote", "/[x]|(y)*+%3F.html", "/%24%7BEVIL%7D-2",
            "/x%22%0ALoadModule%20evil_module%20\(module)", "/y%0D%0A%3C/Directory%3E",
        ]
    }

    @Test func hostileLogURLsFlippedWithRedirectsRenderInert() async throws {
        let folder = try TemporaryDirectory(prefix: "log-inject")
        defer { folder.remove() }
        let (module, marker) = try ConfigInjectionTests.markerModule(in: folder)
        let live = try await LiveSite(files: ["index.php": "<?php echo 'php home';"], directoryConfig: "AllowOverride All")
        defer { Task { await live.shutdown() } }
        try await live.crawl()
        let db = live.docroot.appending("cutover.sqlite")
        let stamp = "02/Dec/2026:10:00:00 +0000"
        let log = Self.hostileTargets(module: module).map { #"192.0.2.1 - - [\#(stamp)] "GET \#($0) HTTP/1.1" 200 10 "-" "Mozilla/5.0""# }
        try folder.write("access.log", log.joined(separator: "\n") + "\n")
        let imported = try await Subprocess.run(
            Subprocess.cutoverBinary,
            ["logs", "import", "--db", db, "--site", "live", folder.appending("access.log")]
        )
        #expect(imported.status == 0, "\(imported.stdout)\(imported.stderr)")

        let fromLog = try await live.database.writer.read { db in
            try String.fetchAll(db, sql: "SELECT path FROM urls WHERE flags & ? != 0 ORDER BY path", arguments: [URLFlags.fromLog.rawValue])
        }
        // Nine of the twelve are kept: the two with line breaks never become URLs, and '%{E' is
        // no escape (Apache answers such a request 400), so that line is skipped as malformed.
        #expect(fromLog.count == 9, "\(fromLog)")
        #expect(imported.stdout.contains("1 requests with a malformed path skipped"), "\(imported.stdout)")
        #expect(!fromLog.contains { $0.contains("%0A") || $0.contains("%0D") })
        var expected: [String: String] = [:]
        for (index, path) in fromLog.enumerated() {
            let target = "/new/\(index)/${EVIL}%25{ENV:X}\"<>'$1\\ x"
            let flipped = try await Subprocess.run(
                Subprocess.cutoverBinary,
                ["flip", "--db", db, "--site", "live", path, "--to", "swift", "--redirect-to", target, "--reason", "moved"]
            )
            #expect(flipped.status == 0, "\(path): \(flipped.stderr)")
            expected[path] = try #require(PathEncoding.canonical(target))
        }

        for form in ExportForm.allCases {
            let mapPath = live.docroot.appending("flips.\(form.rawValue)")  // the tree form's is a folder
            let check = try await Subprocess.run(
                Subprocess.cutoverBinary,
                ["export", "--db", db, "--site", "live", "--form", form.rawValue, "--map-file", mapPath, "--check"]
            )
            #expect(check.status == 0, "\(form): \(check.stdout)\(check.stderr)")
            #expect(!FileManager.default.fileExists(atPath: marker), "\(form) loaded a module")

            // The same export, live: every hostile URL answers 301 to its own redirect.
            try await live.install(form)
            for (path, location) in expected.sorted(by: { $0.key < $1.key }) {
                let answer = try await RawHTTP.send(port: live.apache.port, method: "GET", path: path)
                #expect(answer.status == 301, "\(form) \(path): \(answer.status)")
                #expect(answer.headers["location"]?.hasSuffix(location) == true, "\(form) \(path): \(answer.headers["location"] ?? "none")")
            }
            let home = try await RawHTTP.send(port: live.apache.port, method: "GET", path: "/")
            #expect(home.status == 200 && home.body.contains("php home"), "\(form): \(home.status)")
            #expect(!FileManager.default.fileExists(atPath: marker), "\(form) loaded a module")
        }
    }
}
