import CutoverCore
import Testing

@Suite struct SiteSettingsTests {
    func site(name: String = "shop", docroot: String = "/srv/www", publicURL: String = "http://127.0.0.1", backend: String = "http://127.0.0.1:8080")
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

    @Test func rejectsRelativeDocroot() {
        #expect(site(docroot: "www").problems().contains { $0.contains("absolute") })
    }

    @Test(arguments: ["/", "//"]) func rejectsTheFileSystemRootAsDocroot(docroot: String) {
        #expect(site(docroot: docroot).problems() == ["docroot '/' is the whole file system: give the site's DocumentRoot"])
        #expect(site(docroot: "/srv").problems().isEmpty)
    }

    @Test func rejectsBadIndexAndExtensions() {
        var settings = site()
        settings.directoryIndex = ["a/b.php"]
        settings.phpExtensions = ["php"]
        #expect(settings.problems().count == 2)
    }
}
