/// A URL as the crawler found it on disk.
public struct FoundURL: Sendable, Hashable {
    /// Canonical, percent-encoded URL path (`/old%20page.php`, `/dir/`).
    public var path: String
    /// The answering file, relative to the docroot, for display (invalid UTF-8 shown as U+FFFD).
    public var filePath: String
    public var owner: Owner
    public var size: Int64
    /// Modification time, seconds since 1970.
    public var mtime: Double
    /// Hex SHA-256 of the content; nil when the file could not be read.
    public var contentHash: String?
    public var flags: URLFlags

    public init(path: String, filePath: String, owner: Owner, size: Int64, mtime: Double, contentHash: String?, flags: URLFlags) {
        self.path = path
        self.filePath = filePath
        self.owner = owner
        self.size = size
        self.mtime = mtime
        self.contentHash = contentHash
        self.flags = flags
    }
}

/// A URL as the inventory knows it before a crawl.
public struct KnownURL: Sendable, Hashable {
    public var id: Int64
    public var path: String
    public var owner: Owner
    public var filePath: String?
    public var size: Int64?
    public var mtime: Double?
    public var contentHash: String?
    public var flags: URLFlags
    public var gone: Bool

    public init(
        id: Int64,
        path: String,
        owner: Owner,
        filePath: String?,
        size: Int64?,
        mtime: Double?,
        contentHash: String?,
        flags: URLFlags,
        gone: Bool
    ) {
        self.id = id
        self.path = path
        self.owner = owner
        self.filePath = filePath
        self.size = size
        self.mtime = mtime
        self.contentHash = contentHash
        self.flags = flags
        self.gone = gone
    }
}

/// An owner change with the reason recorded in the ownership events.
public struct OwnerChange: Sendable, Hashable {
    public var from: Owner
    public var to: Owner
    public var reason: String

    public init(from: Owner, to: Owner, reason: String) {
        self.from = from
        self.to = to
        self.reason = reason
    }
}

/// The URLs a crawl found, as the reconciler reads them. The crawler's compact walk result
/// conforms (one arena for a million names, no String per file); so does `[FoundURL]`.
public protocol FoundURLs: Sendable {
    var count: Int { get }
    /// Calls `body` with the canonical URL path's bytes of entry `index`.
    func withPath<R>(at index: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R
    func owner(at index: Int) -> Owner
    func size(at index: Int) -> Int64
    func mtime(at index: Int) -> Double
    func flags(at index: Int) -> URLFlags
    /// True when the entry's display file path is exactly `stored` (nil: the row has no file).
    func filePathEquals(at index: Int, _ stored: UnsafeBufferPointer<UInt8>?) -> Bool
    /// True when the entry's content hash is exactly `stored` (both nil counts as equal).
    func contentHashEquals(at index: Int, _ stored: UnsafeBufferPointer<UInt8>?) -> Bool
    /// The entry as a value, for writing it.
    func url(at index: Int) -> FoundURL
}

extension Array: FoundURLs where Element == FoundURL {
    public func withPath<R>(at index: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        var path = self[index].path
        return path.withUTF8(body)
    }
    public func owner(at index: Int) -> Owner { self[index].owner }
    public func size(at index: Int) -> Int64 { self[index].size }
    public func mtime(at index: Int) -> Double { self[index].mtime }
    public func flags(at index: Int) -> URLFlags { self[index].flags }
    public func filePathEquals(at index: Int, _ stored: UnsafeBufferPointer<UInt8>?) -> Bool {
        ByteStrings.equal(self[index].filePath, stored)
    }
    public func contentHashEquals(at index: Int, _ stored: UnsafeBufferPointer<UInt8>?) -> Bool {
        ByteStrings.equal(self[index].contentHash, stored)
    }
    public func url(at index: Int) -> FoundURL { self[index] }
}

/// What a crawl changes in the inventory. Computed without touching the database so the
/// store can apply it in one transaction. Inserts and updates point into `found`, which builds
/// each value only when it is written.
public struct InventoryChanges<Found: FoundURLs>: Sendable {
    public struct Update: Sendable {
        public var id: Int64
        /// Index in `found`.
        public var index: Int
        public var ownerChange: OwnerChange?
    }
    public struct Removal: Sendable {
        public var id: Int64
        /// php pages become swift (the fallback now answers); static files are marked gone.
        public var newOwner: Owner
        public var markGone: Bool
        public var ownerChange: OwnerChange?
    }

    public var found: Found
    /// Indexes in `found` of URLs the inventory does not have yet.
    public var inserts: [Int] = []
    public var updates: [Update] = []
    public var removals: [Removal] = []
    /// Rows whose file is present and unchanged.
    public var unchangedCount = 0

    public init(found: Found) {
        self.found = found
    }

    public var isEmpty: Bool { inserts.isEmpty && updates.isEmpty && removals.isEmpty }

    /// The inserted URLs as values.
    public var inserted: [FoundURL] { inserts.map(found.url(at:)) }

    /// Compares what is on disk with what the inventory knows.
    /// `missing` is who answers a URL whose file is gone: the fallback (Swift), or on a
    /// front-controller site the front controller (PHP).
    public static func between(known: KnownInventory, found: Found, missing: Owner = .swift) -> Self {
        var changes = Self(found: found)
        var seen = [Bool](repeating: false, count: known.count)
        var hint = 0
        for index in 0..<found.count {
            guard let row = found.withPath(at: index, { known.row(forPath: $0, hint: hint) }) else {
                changes.inserts.append(index)
                continue
            }
            hint = row + 1
            seen[row] = true
            let owner = found.owner(at: index)
            let same =
                known.owner(row) == owner && !known.isGone(row)
                && known.canReuseHash(row, size: found.size(at: index), mtime: found.mtime(at: index))
                && known.flags(row).subtracting(.derived) == found.flags(at: index).subtracting(.derived)
                && known.withFilePath(row) { found.filePathEquals(at: index, $0) }
                && known.withContentHash(row) { found.contentHashEquals(at: index, $0) }
            if same {
                changes.unchangedCount += 1
                continue
            }
            var ownerChange: OwnerChange?
            if known.owner(row) != owner {
                let reason = known.hasFile(row) ? "the answering file changed" : "file appeared in the docroot"
                ownerChange = OwnerChange(from: known.owner(row), to: owner, reason: reason)
            }
            changes.updates.append(.init(id: known.id(row), index: index, ownerChange: ownerChange))
        }
        // Query-identified pages follow their script (the store syncs them after the crawl).
        for row in 0..<known.count where !seen[row] && known.hasFile(row) && !known.isGone(row) && !known.flags(row).contains(.queryPage) {
            let id = known.id(row)
            switch known.owner(row) {
            case .php where missing == .php:
                changes.removals.append(.init(id: id, newOwner: .php, markGone: false, ownerChange: nil))
            case .php:
                let change = OwnerChange(from: .php, to: .swift, reason: "file removed from the docroot: the fallback now sends it to Swift")
                changes.removals.append(.init(id: id, newOwner: .swift, markGone: false, ownerChange: change))
            case .static:
                changes.removals.append(.init(id: id, newOwner: .static, markGone: true, ownerChange: nil))
            case .swift:
                changes.removals.append(.init(id: id, newOwner: .swift, markGone: false, ownerChange: nil))
            }
        }
        changes.removals.sort { $0.id < $1.id }
        return changes
    }
}

extension InventoryChanges where Found == [FoundURL] {
    /// Changes that insert `urls` (a first crawl; tests).
    public init(inserting urls: [FoundURL]) {
        self.init(found: urls)
        inserts = Array(urls.indices)
    }

    /// Compares with a keyed inventory (tests and small sites).
    public static func between(known: [String: KnownURL], found: [FoundURL], missing: Owner = .swift) -> Self {
        between(known: KnownInventory(known.values), found: found, missing: missing)
    }
}
