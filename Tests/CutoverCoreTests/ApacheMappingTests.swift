import CutoverCore
import Testing

@Suite struct ApacheMappingTests {
    let mapping = ApacheMapping(settings: SiteSettings(name: "t", docroot: "/srv", publicURL: "http://a", backendURL: "http://b"))

    @Test(arguments: [
        ("page.php", Owner.php),
        ("index.php", .php),
        ("page.PHP", .static),  // Debian's handler match is case-sensitive
        ("page.php.bak", .static),
        (".php", .static),  // needs a character before the extension
        ("style.css", .static),
        ("page.phtml", .static),
    ])
    func ownerFollowsHandlerExtensions(name: String, owner: Owner) {
        #expect(mapping.owner(ofFileNamed: Array(name.utf8)) == owner)
    }

    @Test func ownerHonoursConfiguredExtensions() {
        let custom = ApacheMapping(
            settings: SiteSettings(name: "t", docroot: "/srv", publicURL: "http://a", backendURL: "http://b", phpExtensions: [".php", ".phtml"])
        )
        #expect(custom.owner(ofFileNamed: Array("a.phtml".utf8)) == .php)
    }

    @Test func indexFollowsDirectoryIndexOrder() {
        #expect(mapping.indexRank(ofFileNamed: Array("index.php".utf8)) == 0)
        #expect(mapping.indexRank(ofFileNamed: Array("index.html".utf8)) == 1)
        #expect(mapping.indexRank(ofFileNamed: Array("home.php".utf8)) == nil)
        let htmlFirst = ApacheMapping(
            settings: SiteSettings(
                name: "t",
                docroot: "/srv",
                publicURL: "http://a",
                backendURL: "http://b",
                directoryIndex: ["index.html", "index.php"]
            )
        )
        #expect(htmlFirst.indexRank(ofFileNamed: Array("index.html".utf8)) == 0)
        #expect(htmlFirst.indexRank(ofFileNamed: Array("index.php".utf8)) == 1)
    }

    static let flagCases: [([String], URLFlags)] = [
        ([".env"], [.hidden, .sensitive]),
        ([".git", "config"], [.hidden, .sensitive]),
        ([".well-known", "security.txt"], [.hidden]),
        (["backup.sql"], [.sensitive]),
        (["db", "dump.tar.gz"], [.sensitive]),
        (["page.php"], []),
        (["img", "a.png"], []),
        // Case-folded over ASCII bytes, exact names and prefixes too.
        (["BACKUP.SQL"], [.sensitive]),
        (["Composer.JSON"], [.sensitive]),
        ([".HTpasswd"], [.hidden, .sensitive]),
        (["été.Bak"], [.sensitive]),
        (["composer.json.txt"], []),
        (["sql"], []),
        (["~"], [.sensitive]),
    ]

    @Test(arguments: flagCases)
    func flagsHiddenAndSensitive(segments: [String], flags: URLFlags) {
        #expect(ApacheMapping.flags(forSegments: segments.map { Array($0.utf8) }) == flags)
    }
}
