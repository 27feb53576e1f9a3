import CutoverCore
import CutoverTestSupport
import Foundation
import Testing

@testable import CutoverCrawl

/// #26.5: private places below a link that left the docroot are one finding, at the link, with
/// its URL prefix; never a finding per entry beneath it. (The walker is given its own private
/// places: a link to a machine's /var, the real case, would walk all of /var.)
@Suite struct ExposureWalkTests {
    @Test func privatePlacesBelowAFollowedLinkAreOneFindingAtTheLink() throws {
        let folder = try TemporaryDirectory(prefix: "exposure-below")
        defer { folder.remove() }
        try folder.write("www/index.php")
        try folder.write("outside/ok.txt")
        try folder.write("outside/secret/key.pem")
        try folder.write("outside/keys/id_rsa")
        try folder.write("outside/mail/box")
        try FileManager.default.createSymbolicLink(atPath: folder.appending("www/out"), withDestinationPath: folder.appending("outside"))
        let outside = URL(fileURLWithPath: folder.appending("outside")).resolvingSymlinksInPath().path
        let settings = SiteSettings(name: "t", docroot: folder.appending("www"), publicURL: "http://127.0.0.1", backendURL: "http://127.0.0.1:8080")
        var walker = DocrootWalker(
            mapping: ApacheMapping(settings: settings),
            privatePlaces: ["secret", "keys", "mail"].map { Array("\(outside)/\($0)".utf8) },
            isCancelled: { false },
            onProgress: { _ in }
        )
        try walker.walk()
        let exposures = walker.issues.filter { $0.kind == "exposure" }
        #expect(exposures.map(\.filePath) == ["out"], "\(walker.issues)")
        let message = try #require(exposures.first?.message)
        #expect(message.hasPrefix("symbolic link out of the docroot; below it, \(outside)/"), "\(message)")
        #expect(message.contains("Apache serves /out/ and what is below it unless a rule denies it"), "\(message)")
        #expect(message.hasSuffix("(and 2 more private places below it)"), "\(message)")
        #expect(!message.contains("key.pem") && !message.contains("id_rsa"))
        // The rest of the followed folder is walked as Apache serves it; the private places are not.
        #expect(walker.issues.contains { $0.kind == "symlink-outside-docroot" && $0.filePath == "out" })
        #expect(Exposure(filePath: "out", detail: message).denyLine == #"RedirectMatch 404 "^/out(/|$)""#)
    }

    /// The deny line writes a name from the docroot as a regex of `[A-Za-z0-9_/.-]` and `\xHH`
    /// only: quotes, spaces and markup cannot end the argument or add a directive.
    @Test(arguments: [
        ("etc-link", #"RedirectMatch 404 "^/etc-link(/|$)""#),
        ("a b", #"RedirectMatch 404 "^/a\x20b(/|$)""#),
        ("q\"x", #"RedirectMatch 404 "^/q\x22x(/|$)""#),
        ("dir/<b>", #"RedirectMatch 404 "^/dir/\x3Cb\x3E(/|$)""#),
        ("é.d", #"RedirectMatch 404 "^/\xC3\xA9\.d(/|$)""#),
    ])
    func denyLineIsInert(filePath: String, line: String) {
        let exposure = Exposure(filePath: filePath, detail: "")
        #expect(exposure.denyLine == line)
    }

    /// A control character cannot be written into a config safely: no line, the warning stays.
    @Test func noDenyLineForAControlCharacter() {
        #expect(Exposure(filePath: "a\nb", detail: "").denyLine == nil)
        #expect(Exposure(filePath: "a\nb", detail: "").url == "/a%0Ab")
    }
}
