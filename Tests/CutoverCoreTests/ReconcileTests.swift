import CutoverCore
import Testing

@Suite struct ReconcileTests {
    func found(_ path: String, owner: Owner = .php, size: Int64 = 10, hash: String = "h1") -> FoundURL {
        FoundURL(path: path, filePath: String(path.dropFirst()), owner: owner, size: size, mtime: 1, contentHash: hash, flags: [])
    }

    func known(_ id: Int64, _ path: String, owner: Owner = .php, file: Bool = true, gone: Bool = false, hash: String = "h1") -> KnownURL {
        KnownURL(
            id: id,
            path: path,
            owner: owner,
            filePath: file ? String(path.dropFirst()) : nil,
            size: 10,
            mtime: 1,
            contentHash: hash,
            flags: [],
            gone: gone
        )
    }

    @Test func newFilesAreInserted() {
        let changes = InventoryChanges.between(known: [:], found: [found("/a.php")])
        #expect(changes.inserted.map(\.path) == ["/a.php"])
        #expect(changes.updates.isEmpty && changes.removals.isEmpty)
    }

    @Test func unchangedFilesOnlyTouchLastSeen() {
        let changes = InventoryChanges.between(known: ["/a.php": known(1, "/a.php")], found: [found("/a.php")])
        #expect(changes.isEmpty)
        #expect(changes.unchangedCount == 1)
    }

    @Test func changedContentIsAnUpdateWithoutOwnerChange() {
        let changes = InventoryChanges.between(known: ["/a.php": known(1, "/a.php")], found: [found("/a.php", hash: "h2")])
        #expect(changes.updates.count == 1)
        #expect(changes.updates[0].ownerChange == nil)
    }

    @Test func removedPHPPageBecomesSwift() {
        let changes = InventoryChanges.between(known: ["/a.php": known(1, "/a.php")], found: [])
        #expect(changes.removals.count == 1)
        #expect(changes.removals[0].newOwner == .swift)
        #expect(changes.removals[0].ownerChange?.from == .php)
        #expect(changes.removals[0].ownerChange?.to == .swift)
        #expect(!changes.removals[0].markGone)
    }

    @Test func removedStaticFileIsMarkedGone() {
        let changes = InventoryChanges.between(known: ["/a.png": known(1, "/a.png", owner: .static)], found: [])
        #expect(changes.removals.count == 1)
        #expect(changes.removals[0].markGone)
        #expect(changes.removals[0].ownerChange == nil)
    }

    @Test func alreadyRemovedURLsAreLeftAlone() {
        let known = [
            "/a.php": known(1, "/a.php", owner: .swift, file: false),
            "/b.png": known(2, "/b.png", owner: .static, gone: true),
        ]
        #expect(InventoryChanges.between(known: known, found: []).isEmpty)
    }

    @Test func returningPHPFileTakesThePageBack() {
        let changes = InventoryChanges.between(known: ["/a.php": known(1, "/a.php", owner: .swift, file: false)], found: [found("/a.php")])
        #expect(changes.updates.count == 1)
        #expect(changes.updates[0].ownerChange == OwnerChange(from: .swift, to: .php, reason: "file appeared in the docroot"))
    }

    func row(of path: String, in inventory: KnownInventory) -> Int? {
        var path = path
        return path.withUTF8 { inventory.row(forPath: $0) }
    }

    @Test func hashIsReusedOnlyWhenSizeAndMtimeMatch() throws {
        let inventory = KnownInventory([known(1, "/a.php"), known(2, "/b.php", file: false), known(3, "/c.php", gone: true)])
        let a = try #require(row(of: "/a.php", in: inventory))
        #expect(inventory.canReuseHash(a, size: 10, mtime: 1))
        #expect(inventory.withContentHash(a) { $0.map { String(decoding: $0, as: UTF8.self) } } == "h1")
        #expect(!inventory.canReuseHash(a, size: 11, mtime: 1))
        #expect(!inventory.canReuseHash(a, size: 10, mtime: 2))
        #expect(!inventory.canReuseHash(try #require(row(of: "/b.php", in: inventory)), size: 10, mtime: 1))
        #expect(!inventory.canReuseHash(try #require(row(of: "/c.php", in: inventory)), size: 10, mtime: 1))
    }
}
