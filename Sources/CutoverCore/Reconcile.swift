#if canImport(Glibc)
import Glibc
#endif

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

    /// The stored hash is still valid for a file with this size and mtime, so it need not be read again.
    public func reusableHash(size: Int64, mtime: Double) -> String? {
        guard filePath != nil, !gone, self.size == size, self.mtime == mtime else { return nil }
        return contentHash
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

/// Byte strings (or nil) one after another in one arena: a column of a million paths or hashes
/// without a heap allocation per value.
public struct ByteStrings: Sendable {
    private var bytes: [UInt8] = []
    private var starts: [UInt32] = []
    /// -1 marks nil.
    private var lengths: [Int32] = []

    public init() {}

    public var count: Int { starts.count }

    public mutating func reserveCapacity(_ count: Int, bytes total: Int) {
        starts.reserveCapacity(count)
        lengths.reserveCapacity(count)
        bytes.reserveCapacity(total)
    }

    public mutating func append(_ value: UnsafeBufferPointer<UInt8>?) {
        precondition(bytes.count + (value?.count ?? 0) <= Int(UInt32.max), "more than 4 GiB of text")
        starts.append(UInt32(bytes.count))
        guard let value else {
            lengths.append(-1)
            return
        }
        lengths.append(Int32(value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func append(_ value: String?) {
        guard var value else { return append(nil as UnsafeBufferPointer<UInt8>?) }
        value.withUTF8 { append($0) }
    }

    /// Calls `body` with value `index`'s bytes (nil for nil), without copying them.
    public func withBytes<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>?) throws -> R) rethrows -> R {
        let length = Int(lengths[index])
        guard length >= 0 else { return try body(nil) }
        let start = Int(starts[index])
        return try bytes.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start..<(start + length)])) }
    }

    public subscript(index: Int) -> String? {
        withBytes(index) { $0.map { String(decoding: $0, as: UTF8.self) } }
    }

    /// True when both are nil, or both hold the same bytes.
    public static func equal(_ value: String?, _ stored: UnsafeBufferPointer<UInt8>?) -> Bool {
        switch (value, stored) {
        case (nil, nil): return true
        case (var value?, let stored?): return value.withUTF8 { equal($0, stored) }
        default: return false
        }
    }

    public static func equal(_ lhs: UnsafeBufferPointer<UInt8>, _ rhs: UnsafeBufferPointer<UInt8>) -> Bool {
        lhs.count == rhs.count && (lhs.isEmpty || memcmp(lhs.baseAddress!, rhs.baseAddress!, lhs.count) == 0)
    }
}

/// The stored inventory of a site as a crawl compares against it: one column per field and
/// every path, file path and hash in an arena, so a million rows cost about 150 bytes each
/// (a `[String: KnownURL]` cost about 400). Immutable once built, and shared, not copied.
public final class KnownInventory: Sendable {
    /// Collects rows, then `build()`s the inventory.
    public struct Builder {
        fileprivate var paths = ByteKeyTable()
        fileprivate var ids: [Int64] = []
        fileprivate var owners: [Owner] = []
        fileprivate var filePaths = ByteStrings()
        fileprivate var hashes = ByteStrings()
        /// nil is stored as `Int64.min` and `.nan`.
        fileprivate var sizes: [Int64] = []
        fileprivate var mtimes: [Double] = []
        fileprivate var flags: [URLFlags] = []
        fileprivate var gone: [Bool] = []

        public init() {}

        /// Adds a row; a path already present is ignored (the table's paths are unique).
        public mutating func append(
            id: Int64,
            path: UnsafeBufferPointer<UInt8>,
            owner: Owner,
            filePath: UnsafeBufferPointer<UInt8>?,
            size: Int64?,
            mtime: Double?,
            contentHash: UnsafeBufferPointer<UInt8>?,
            flags: URLFlags,
            gone: Bool
        ) {
            guard paths.index(of: path).inserted else { return }
            ids.append(id)
            owners.append(owner)
            filePaths.append(filePath)
            hashes.append(contentHash)
            sizes.append(size ?? Int64.min)
            mtimes.append(mtime ?? .nan)
            self.flags.append(flags)
            self.gone.append(gone)
        }

        public mutating func append(_ url: KnownURL) {
            var path = url.path
            var filePath = url.filePath
            var hash = url.contentHash
            path.withUTF8 { path in
                Self.withOptionalUTF8(&filePath) { filePath in
                    Self.withOptionalUTF8(&hash) { hash in
                        append(
                            id: url.id,
                            path: path,
                            owner: url.owner,
                            filePath: filePath,
                            size: url.size,
                            mtime: url.mtime,
                            contentHash: hash,
                            flags: url.flags,
                            gone: url.gone
                        )
                    }
                }
            }
        }

        private static func withOptionalUTF8<R>(_ text: inout String?, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
            guard var value = text else { return body(nil) }
            return value.withUTF8(body)
        }

        public func build() -> KnownInventory { KnownInventory(self) }
    }

    private let paths: ByteKeyTable
    private let ids: [Int64]
    private let owners: [Owner]
    private let filePaths: ByteStrings
    private let hashes: ByteStrings
    private let sizes: [Int64]
    private let mtimes: [Double]
    private let flagValues: [URLFlags]
    private let goneValues: [Bool]

    private init(_ builder: Builder) {
        paths = builder.paths
        ids = builder.ids
        owners = builder.owners
        filePaths = builder.filePaths
        hashes = builder.hashes
        sizes = builder.sizes
        mtimes = builder.mtimes
        flagValues = builder.flags
        goneValues = builder.gone
    }

    public convenience init() { self.init(Builder()) }

    public convenience init(_ urls: some Sequence<KnownURL>) {
        var builder = Builder()
        for url in urls { builder.append(url) }
        self.init(builder)
    }

    public var count: Int { ids.count }
    public var isEmpty: Bool { ids.isEmpty }

    /// The row of a URL path, if the inventory has it. `hint` (the row after the previous match)
    /// is tried first: a walk meets most paths in the order the inventory lists them.
    public func row(forPath path: UnsafeBufferPointer<UInt8>, hint: Int = -1) -> Int? {
        paths.index(ifPresent: path, hint: hint)
    }

    public func id(_ row: Int) -> Int64 { ids[row] }
    public func owner(_ row: Int) -> Owner { owners[row] }
    public func flags(_ row: Int) -> URLFlags { flagValues[row] }
    public func isGone(_ row: Int) -> Bool { goneValues[row] }
    public func hasFile(_ row: Int) -> Bool { filePaths.withBytes(row) { $0 != nil } }

    public func withFilePath<R>(_ row: Int, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
        filePaths.withBytes(row, body)
    }

    public func withContentHash<R>(_ row: Int, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
        hashes.withBytes(row, body)
    }

    /// The stored hash is still valid for a file with this size and mtime, so it need not be read again.
    public func canReuseHash(_ row: Int, size: Int64, mtime: Double) -> Bool {
        hasFile(row) && !goneValues[row] && sizes[row] == size && mtimes[row] == mtime
    }

    /// Row `row` as a value.
    public func url(_ row: Int) -> KnownURL {
        KnownURL(
            id: ids[row],
            path: String(decoding: paths.key(row), as: UTF8.self),
            owner: owners[row],
            filePath: filePaths[row],
            size: sizes[row] == Int64.min ? nil : sizes[row],
            mtime: mtimes[row].isNaN ? nil : mtimes[row],
            contentHash: hashes[row],
            flags: flagValues[row],
            gone: goneValues[row]
        )
    }
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
