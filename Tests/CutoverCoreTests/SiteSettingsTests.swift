import CutoverCore
import CutoverExport
import Foundation
import Testing

@Suite struct SiteSettingsTests {
    func site(
        name: String = "shop",
        docroot: String = "/srv/www",
        publicURL: String = "http://127.0.0.1",
        backend: String = "http://127.0.0.1:8080"
    )
        -> SiteSettings
    {
        SiteSettings(name: name, docroot: docroot, publicURL: publicURL, backendURL: backend)
    }

    @Test func validSiteHasNoProblems() {
        #expect(site().problems().isEmpty)
    }

    @Test(arguments: [
        ("", "site name"), ("a b", "site name"), ("x/y", "site name"), (String(repeating: "a", count: 65), "site name"),
    ])
    func rejectsBadNames(name: String, fragment: String) {
        #expect(site(name: name).problems().contains { $0.contains(fragment) })
    }

    @Test(arguments: ["ftp://host", "not a url", "http://", "http://host/?q=1", "/relative"])
    func rejectsBadURLs(url: String) {
        #expect(!site(publicURL: url).problems().isEmpty)
        #expect(!site(backend: url).problems().isEmpty)
    }

    @Test func nodesAreBaseURLsWithoutPathListedOnce() {
        var settings = site()
        settings.nodes = ["http://10.0.0.2", "https://node-3.example:8443/", "http://[::1]:8081"]
        #expect(settings.problems().isEmpty)
        #expect(SiteNodes.label("http://10.0.0.2") == "10.0.0.2:80")
        #expect(SiteNodes.label("https://node-3.example:8443/") == "node-3.example:8443")
        #expect(SiteNodes.label("http://[::1]:8081") == "[::1]:8081")
        #expect(SiteNodes.normalized("HTTP://Node.Example:81/") == "http://node.example:81")
        for (nodes, fragment) in [
            (["http://10.0.0.2/shop"], "without a path"),
            (["ftp://10.0.0.2"], "http://"),
            (["http://user:pw@10.0.0.2"], "credentials"),
            (["http://10.0.0.2?x=1"], "query"),
            (["http://10.0.0.2", "HTTP://10.0.0.2/"], "listed once"),
            (Array(repeating: "http://10.0.0.2", count: 33), "at most 32 nodes"),
        ] {
            settings.nodes = nodes
            #expect(settings.problems().contains { $0.contains(fragment) }, "\(nodes.prefix(2)): \(settings.problems())")
        }
    }

    @Test func fleetSettingsNeverHoldAPassword() {
        var settings = site()
        settings.fleet = FleetSettings(
            databaseURL: "postgres://cutover@db.internal:5432/cutover?sslmode=verify-full",
            passwordFile: "/etc/cutover/pw"
        )
        #expect(settings.problems().isEmpty)
        for (url, file, fragment) in [
            ("postgres://cutover:hunter2@db/cutover", nil, "must not hold a password"),
            ("postgres://cutover@db/cutover?password=hunter2", nil, "must not hold a password"),
            ("mysql://cutover@db/cutover", nil, "must start with postgres://"),
            ("postgres://cutover@db/cutover\n", nil, "control characters"),
            ("postgres://cutover@db/cutover", "pw.txt", "absolute path"),
            ("postgres://cutover@db/cutover", "/etc/\"pw", "absolute path"),
        ] as [(String, String?, String)] {
            settings.fleet = FleetSettings(databaseURL: url, passwordFile: file)
            #expect(settings.problems().contains { $0.contains(fragment) }, "\(url) \(file ?? "-"): \(settings.problems())")
        }
    }

    @Test func rejectsRelativeDocroot() {
        #expect(site(docroot: "www").problems().contains { $0.contains("absolute") })
    }

    @Test(arguments: ["/", "//", "/.", "/srv/..", "/srv/../.", "/a/b/../../"]) func rejectsTheFileSystemRootAsDocroot(docroot: String) {
        #expect(site(docroot: docroot).problems() == ["docroot '\(docroot)' is the whole file system: give the site's DocumentRoot"])
        #expect(site(docroot: "/srv").problems().isEmpty)
    }

    @Test(arguments: ["/proc", "/proc/", "/proc/self", "/sys/kernel", "/dev", "/dev/shm", "/srv/../proc/1"])
    func rejectsKernelFileSystems(docroot: String) {
        #expect(site(docroot: docroot).problems().contains { $0.contains("kernel file system") })
    }

    /// Judged by where the path really leads: a symlink to /proc is refused, a symlinked
    /// DocumentRoot into /srv is kept as given.
    @Test func docrootIsCheckedOnItsRealPath() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("docroot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("real"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("proc-link").path, withDestinationPath: "/proc/self")
        try FileManager.default.createSymbolicLink(
            atPath: folder.appendingPathComponent("site").path,
            withDestinationPath: folder.appendingPathComponent("real").path
        )
        #expect(site(docroot: folder.appendingPathComponent("proc-link").path).problems().contains { $0.contains("kernel file system") })
        #expect(site(docroot: folder.appendingPathComponent("site").path).problems().isEmpty)
        #expect(DocrootPolicy.problem("/srv/www", resolve: { _ in "/" }) != nil)
    }

    /// Every field that is written into Apache config text refuses what could end a quoted
    /// argument, a directive or a section, or expand a variable.
    @Test(arguments: ["\"", "\n", "\r", "</Directory>", "\\", "${X}", "%{X}", "`", "\u{1B}", "#", " "])
    func configFieldsRefuseHostileText(hostile: String) {
        let cases: [(String, (inout SiteSettings) -> Void)] = [
            ("docroot", { $0.docroot = "/srv/x" + hostile + "y" }),
            ("backend URL", { $0.backendURL = "http://127.0.0.1:8080/a" + hostile }),
            ("DirectoryIndex", { $0.directoryIndex = ["index" + hostile + ".php"] }),
            ("PHP extensions", { $0.phpExtensions = [".ph" + hostile] }),
            ("owner header", { $0.ownerHeader = "X-Owner" + hostile }),
            ("site name", { $0.name = "shop" + hostile }),
        ]
        // In a quoted docroot '#' and spaces are plain characters (ConfigInjectionTests shows Apache accepts them).
        for (field, change) in cases where !(field == "docroot" && (hostile == "#" || hostile == " ")) {
            var settings = site()
            change(&settings)
            #expect(!settings.configProblems().isEmpty, "\(field) accepted \(hostile.debugDescription)")
            #expect(throws: ExportError.self, "\(field)") { try DirectiveRenderer.render(ExportInput(settings: settings, flips: []), form: .vhost) }
        }
    }

    @Test(arguments: [".", ".."]) func dotNamesAreRefused(name: String) {
        #expect(!SiteName.isValid(name))
        #expect(SiteName.isValid("shop.v2"))
    }

    /// Map names are server-wide: names that differ must never share one.
    @Test func rewriteMapNamesAreUniquePerSite() {
        let names = ["shop.v2", "shop_v2", "shop-v2", "shopv2", "shop__v2", "shop_2Ev2", "Shop.v2"]
        let maps = names.map { name -> String in
            var settings = site()
            settings.name = name
            return DirectiveRenderer.mapName(settings)
        }
        #expect(Set(maps).count == names.count, "\(maps)")
        #expect(maps.allSatisfy { $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") } })
    }

    @Test func rejectsBadIndexAndExtensions() {
        var settings = site()
        settings.directoryIndex = ["a/b.php"]
        settings.phpExtensions = ["php"]
        #expect(settings.problems().count == 2)
    }

    @Test func accessLogsMustBeAbsoluteAndTheirFormatMustCompile() {
        var settings = site()
        settings.accessLogs = ["/var/log/apache2/access.log*", "/srv/logs/other_vhosts_access.log"]
        settings.accessLogFormat = #"%h %l %u %t "%r" %>s %b %D %R"#
        #expect(settings.problems(resolve: { $0 }) == [])
        settings.accessLogs = ["logs/access.log", "/var/log/a\nb"]
        settings.accessLogFormat = "%h %J %r"
        let problems = settings.problems(resolve: { $0 })
        #expect(problems.count == 3)
        #expect(problems.last?.contains("%J") == true)
    }
}
