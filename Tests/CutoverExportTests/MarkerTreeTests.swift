import CutoverCore
import Foundation
import Testing

@testable import CutoverExport

/// The tree form (#28): flips as marker files tested with one stat, written page by page.
@Suite struct MarkerTreeTests {
    let settings = SiteSettings(name: "shop", docroot: "/srv/www", publicURL: "http://127.0.0.1:8081", backendURL: "http://127.0.0.1:8080/")

    func render(_ paths: [String], folder: String = "/var/lib/cutover/shop.flips") throws -> RenderedExport {
        try DirectiveRenderer.render(
            ExportInput(settings: settings, flips: paths.map(PageFlip.init), mapFilePath: folder),
            form: .tree
        )
    }

    @Test func flipsAreMarkersAndWhatCannotBeOneKeepsARule() throws {
        let long = "/" + String(repeating: "d", count: 250) + ".php"  // 254 bytes + the suffix > 255
        let rendered = try render(["/a.php", "/caf%C3%A9.php", "/about/", "/", "/x", "/x.cutover-flip/y.php", "/q.php?id=1", long])
        #expect(rendered.text.contains(#"RewriteCond "/var/lib/cutover/shop.flips%{REQUEST_URI}.cutover-flip" -f"#), "\(rendered.text)")
        #expect(!rendered.text.contains("RewriteMap"))
        let keys = Set(HashedMapFile.keys(ofTextMap: try #require(rendered.mapFile)).map { String(decoding: $0, as: UTF8.self) })
        #expect(keys == ["/a.php", "/café.php", "/about/", "/", "/x.cutover-flip/y.php"])
        // '/x' would be a file where '/x.cutover-flip/y.php' needs a folder: '/x' keeps a rule.
        #expect(rendered.text.contains(#"RewriteRule "^/x$""#), "\(rendered.text)")
        #expect(rendered.text.contains("ddd"), "the over-long name keeps a rule")
    }

    @Test(arguments: [
        "relative/flips", "/var/lib/flips/", "/var/lib/$flips", "/var/lib/%{ENV:x}", "/var/lib/a b", "/var/lib/\"q", "/var/../etc", "/",
    ])
    func aFolderApacheCouldReadAsSomethingElseIsRefused(folder: String) {
        #expect(throws: ExportError.self) { _ = try render(["/a.php"], folder: folder) }
    }

    @Test func representableKeys() {
        #expect(MarkerTree.representable(Array("/a/b.php".utf8)))
        #expect(MarkerTree.representable(Array("/a/".utf8)))
        #expect(MarkerTree.representable([0x2F, 0xFF, 0xFE]))
        for bad in ["a.php", "/a//b", "/./a", "/a/../b", "/a/..", "/x\u{0}y"] { #expect(!MarkerTree.representable(Array(bad.utf8)), "\(bad)") }
    }

    @Test func writingAddsRemovesPrunesAndRecordsTheVersion() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("tree-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        let folder = base + "/flips"
        let keys: [[UInt8]] = [Array("/a.php".utf8), Array("/deep/er/b.php".utf8), Array("/about/".utf8), Array("/".utf8), [0x2F, 0xFF, 0x2E, 0x70]]
        #expect(try MarkerTree.write(keys: keys, to: folder, version: "7") == (added: 5, removed: 0))
        #expect(FileManager.default.fileExists(atPath: folder + "/deep/er/b.php.cutover-flip"))
        #expect(FileManager.default.fileExists(atPath: folder + "/about/.cutover-flip"))
        #expect(FileManager.default.fileExists(atPath: folder + "/.cutover-flip"))
        #expect(MarkerTree.servedVersion(folder) == "7")
        // Only what changed is touched; a folder left empty goes.
        #expect(
            try MarkerTree.write(keys: [Array("/a.php".utf8), Array("/c.php".utf8), [0x2F, 0xFF, 0x2E, 0x70]], to: folder, version: "8") == (
                added: 1, removed: 3
            )
        )
        #expect(!FileManager.default.fileExists(atPath: folder + "/deep"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/about/.cutover-flip"))
        #expect(FileManager.default.fileExists(atPath: folder + "/c.php.cutover-flip"))
        #expect(MarkerTree.servedVersion(folder) == "8")
        // Files that are not markers are left alone; an unchanged plan changes nothing.
        try "keep".write(toFile: folder + "/README", atomically: true, encoding: .utf8)
        #expect(
            try MarkerTree.write(keys: [Array("/a.php".utf8), Array("/c.php".utf8), [0x2F, 0xFF, 0x2E, 0x70]], to: folder) == (added: 0, removed: 0)
        )
        #expect(FileManager.default.fileExists(atPath: folder + "/README"))
        // Keys the tree cannot hold are skipped, never written somewhere else.
        #expect(
            try MarkerTree.write(keys: [Array("/x".utf8), Array("/x.cutover-flip/y".utf8), Array("/a//b".utf8)], to: folder) == (added: 1, removed: 3)
        )
        #expect(FileManager.default.fileExists(atPath: folder + "/x.cutover-flip/y.cutover-flip"))
        let mode = try FileManager.default.attributesOfItem(atPath: folder + "/x.cutover-flip")[.posixPermissions] as? Int
        #expect(mode == 0o755)
        // A link planted in the folder is never followed out of it.
        let outside = base + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: folder + "/sub", withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: folder + "/z.php.cutover-flip", withDestinationPath: outside + "/planted")
        #expect(throws: ExportCheckError.self) { try MarkerTree.write(keys: [Array("/sub/p.php".utf8)], to: folder) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
        try FileManager.default.removeItem(atPath: folder + "/sub")
        // A link where a marker goes counts as that marker: removed (the link, not its target)
        // when the page is not flipped.
        #expect(try MarkerTree.write(keys: [], to: folder) == (added: 0, removed: 0))  // the refused write already removed it
        #expect(!FileManager.default.fileExists(atPath: folder + "/z.php.cutover-flip"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
    }
}
