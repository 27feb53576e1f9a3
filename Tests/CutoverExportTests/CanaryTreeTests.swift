import CutoverCore
import Foundation
import Testing

@testable import CutoverExport

/// The canaries' weights as files (#29): a link per page to its canary's folder, which holds one
/// file per bucket on Swift. Apache's side of it runs live in CanaryApacheTests.
@Suite struct CanaryTreeTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("canary-tree-\(UUID().uuidString)").path
    var map: String { folder + "/shop.flips" }
    var pages: String { CanaryTree.pagesFolder(map) }
    var weights: String { CanaryTree.weightsFolder(map) }

    func buckets(_ name: String) throws -> [Int] {
        try FileManager.default.contentsOfDirectory(atPath: weights + "/" + name).compactMap(Int.init).sorted()
    }

    func link(_ page: String) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: pages + page + CanaryTree.suffix)
    }

    func canary(_ name: String, _ weight: Int, _ paths: [String]) -> CanaryTree.Canary {
        CanaryTree.Canary(name: name, weight: weight, keys: paths.map { Array($0.utf8) })
    }

    @Test func weightsRiseAndFallPagesMoveAndEndedCanariesGo() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }

        try CanaryTree.write([canary("cart", 5, ["/cart.php", "/shop/basket.php", "/"]), canary("blog", 0, ["/blog/"])], mapFilePath: map)
        #expect(try buckets("cart") == [0, 1, 2, 3, 4])
        #expect(try buckets("blog") == [])
        #expect(link("/cart.php") == weights + "/cart")
        #expect(link("/shop/basket.php") == weights + "/cart")
        #expect(link("/") == weights + "/cart", "the site root's link is PAGES/.cutover-canary")
        #expect(link("/blog/") == weights + "/blog")
        #expect(
            FileManager.default.contents(atPath: map + ".buckets").map { Array($0) } == CanaryRules.bucketsFile,
            "the rnd: map new visitors draw from"
        )
        // What Apache tests: the page's link is a folder, the visitor's bucket a file in it.
        var isFolder: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: pages + "/cart.php" + CanaryTree.suffix, isDirectory: &isFolder) && isFolder.boolValue)
        #expect(FileManager.default.fileExists(atPath: pages + "/cart.php" + CanaryTree.suffix + "/4"))
        #expect(!FileManager.default.fileExists(atPath: pages + "/cart.php" + CanaryTree.suffix + "/5"))

        // Raised, then lowered; a page moves from one canary to the other.
        try CanaryTree.write([canary("cart", 25, ["/cart.php", "/"]), canary("blog", 0, ["/blog/", "/shop/basket.php"])], mapFilePath: map)
        #expect(try buckets("cart") == Array(0..<25))
        #expect(link("/shop/basket.php") == weights + "/blog")
        try CanaryTree.write([canary("cart", 1, ["/cart.php", "/"]), canary("blog", 100, ["/blog/", "/shop/basket.php"])], mapFilePath: map)
        #expect(try buckets("cart") == [0])
        #expect(try buckets("blog") == Array(0..<100))

        // One ends: its links and its folder go, and folders left empty too.
        try CanaryTree.write([canary("cart", 1, ["/cart.php", "/"])], mapFilePath: map)
        #expect(link("/blog/") == nil && link("/shop/basket.php") == nil)
        #expect(!FileManager.default.fileExists(atPath: weights + "/blog"))
        #expect(!FileManager.default.fileExists(atPath: pages + "/shop"))
        #expect(!FileManager.default.fileExists(atPath: pages + "/blog"))

        // None left: nothing for Apache to find.
        try CanaryTree.write([], mapFilePath: map)
        #expect(try FileManager.default.contentsOfDirectory(atPath: pages).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: weights).isEmpty)
    }

    @Test func strayEntriesAndAnEarlierReleasesMarkersAreRemoved() throws {
        try FileManager.default.createDirectory(atPath: pages + "/old", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // The dbm release's marker files, a stray file, a planted link, and a bucket too many.
        FileManager.default.createFile(atPath: pages + "/old/a.php.cutover-flip", contents: nil)
        FileManager.default.createFile(atPath: pages + "/b.php.cutover-canary.123.tmp", contents: nil)
        try FileManager.default.createSymbolicLink(atPath: pages + "/c.php" + CanaryTree.suffix, withDestinationPath: "/etc")
        try FileManager.default.createDirectory(atPath: weights + "/c", withIntermediateDirectories: true)
        for name in ["0", "1", "2", "7", "notes"] { FileManager.default.createFile(atPath: weights + "/c/" + name, contents: nil) }

        try CanaryTree.write([canary("c", 2, ["/c.php"])], mapFilePath: map)
        #expect(try FileManager.default.contentsOfDirectory(atPath: pages) == ["c.php" + CanaryTree.suffix])
        #expect(link("/c.php") == weights + "/c", "the planted link is replaced by the canary's")
        #expect(try FileManager.default.contentsOfDirectory(atPath: weights + "/c").sorted() == ["0", "1"])
    }

    @Test func pagesThatCannotBeLinksAreRefusedBeforeAnythingIsWritten() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let long = "/" + String(repeating: "d", count: 250) + ".php"
        for keys in [["/a//b.php"], ["/../etc/passwd"], [long], ["/x", "/x.cutover-canary/y.php"]] {
            #expect(throws: ExportCheckError.self) { try CanaryTree.write([canary("c", 5, keys)], mapFilePath: map) }
        }
        #expect(throws: ExportCheckError.self) { try CanaryTree.write([canary("../c", 5, ["/a.php"])], mapFilePath: map) }
        #expect(throws: ExportError.self) { try CanaryTree.write([canary("c", 5, ["/a.php"])], mapFilePath: folder + "/$x") }
        #expect(!FileManager.default.fileExists(atPath: folder), "nothing written")
    }
}
