import CutoverCore
import Testing

/// Query-identified page URLs: one canonical spelling for all the spellings PHP reads alike,
/// and a query-string pattern made of ASCII letters, digits and escapes only.
@Suite struct QueryPageTests {
    @Test(arguments: [
        ("/doku.php?id=wiki:syntax", "/doku.php?id=wiki:syntax"), ("/doku.php?id=wiki%3Asyntax", "/doku.php?id=wiki:syntax"),
        ("/doku.php?id=wiki%3asyntax", "/doku.php?id=wiki:syntax"), ("/index.php?page=a+b", "/index.php?page=a%20b"),
        ("/index.php?page=a%20b", "/index.php?page=a%20b"), ("/index.php?page=a%2Bb", "/index.php?page=a%2Bb"),
        ("/index.php?pag%65=x", "/index.php?page=x"), ("/old%20dir/x.php?p=%C3%A9", "/old%20dir/x.php?p=%C3%A9"),
        ("/index.php?page=50%", "/index.php?page=50%25"), ("/index.php?page=\"<x>\"", "/index.php?page=%22%3Cx%3E%22"),
    ])
    func canonicalForms(input: String, expected: String) {
        #expect(QueryPage.canonical(input) == expected)
        #expect(QueryPage.canonical(expected) == expected, "canonical is a fixed point")
    }

    @Test(arguments: [
        "/index.php", "/index.php?page", "/index.php?page=", "/index.php?a=1&page=x", "/index.php?pa.ge=x", "/index.php?page[]=x",
        "index.php?page=x", "/index.php?page=a%0Ab", "/index.php?=x",
    ])
    func notAPageURL(input: String) {
        #expect(QueryPage.canonical(input) == nil)
    }

    @Test func patternIsInertASCII() throws {
        let hostile = Array("\" \nLoadModule x /tmp/e.so\r\n</Directory>${X}%{Y}\\".utf8).filter { $0 >= 0x20 }
        let pattern = try QueryPage.queryPattern(key: "page", value: hostile, url: "/x.php")
        #expect(pattern.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: " ") })
        #expect(!pattern.contains("${") && !pattern.contains("%{"))
        #expect(throws: ExportError.self) { try QueryPage.queryPattern(key: "page", value: Array("a\nb".utf8), url: "/x.php") }
        #expect(throws: ExportError.self) { try QueryPage.queryPattern(key: "pa ge", value: Array("a".utf8), url: "/x.php") }
        #expect(throws: ExportError.self) { try QueryPage.queryPattern(key: "page", value: [], url: "/x.php") }
    }

    @Test func pageKeysAreValidatedWhereTheyEnter() {
        let base = SiteSettings(name: "s", docroot: "/srv/www", publicURL: "http://127.0.0.1:8081", backendURL: "http://127.0.0.1:8080")
        var settings = base
        settings.pageKeys = [PageKey(script: "/doku.php", key: "id")]
        #expect(settings.problems(resolve: { $0 }).isEmpty)
        for bad in [PageKey(script: "doku.php", key: "id"), PageKey(script: "/doku.php?x=1", key: "id"), PageKey(script: "/d.php", key: "a b")] {
            settings.pageKeys = [bad]
            #expect(settings.problems(resolve: { $0 }).count == 1, "\(bad)")
        }
        settings.pageKeys = [PageKey(script: "/d.php", key: "id"), PageKey(script: "/d.php", key: "page")]
        #expect(settings.problems(resolve: { $0 }).contains("each script can have one page key"))
        #expect(PageKey(argument: "/doku.php=id") == PageKey(script: "/doku.php", key: "id"))
        #expect(PageKey(argument: "/doku.php") == nil)
    }
}
