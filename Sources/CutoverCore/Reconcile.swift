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

/// What a crawl changes in the inventory. Computed without touching the database so the
/// store can apply it in one transaction.
public struct InventoryChanges: Sendable {
    public struct Update: Sendable {
        public var id: Int64
        public var found: FoundURL
        public var ownerChange: OwnerChange?
    }
    public struct Removal: Sendable {
        public var id: Int64
        /// php pages become swift (the fallback now answers); static files are marked gone.
        public var newOwner: Owner
        public var markGone: Bool
        public var ownerChange: OwnerChange?
    }

    public var inserts: [FoundURL] = []
    public var updates: [Update] = []
    public var removals: [Removal] = []
    /// Rows whose file is present and unchanged.
    public var unchangedIDs: [Int64] = []

    public init() {}

    public var isEmpty: Bool { inserts.isEmpty && updates.isEmpty && removals.isEmpty }

    /// Compares what is on disk with what the inventory knows.
    /// `missing` is who answers a URL whose file is gone: the fallback (Swift), or on a
    /// front-controller site the front controller (PHP).
    public static func between(known: [String: KnownURL], found: [FoundURL], missing: Owner = .swift) -> InventoryChanges {
        var changes = InventoryChanges()
        var seen = Set<String>()
        seen.reserveCapacity(found.count)
        for url in found {
            seen.insert(url.path)
            guard let old = known[url.path] else {
                changes.inserts.append(url)
                continue
            }
            let same =
                old.owner == url.owner && old.filePath == url.filePath && !old.gone && old.size == url.size
                && old.mtime == url.mtime && old.contentHash == url.contentHash
                && old.flags.subtracting(.derived) == url.flags.subtracting(.derived)
            if same {
                changes.unchangedIDs.append(old.id)
                continue
            }
            var ownerChange: OwnerChange?
            if old.owner != url.owner {
                let reason = old.filePath == nil ? "file appeared in the docroot" : "the answering file changed"
                ownerChange = OwnerChange(from: old.owner, to: url.owner, reason: reason)
            }
            changes.updates.append(.init(id: old.id, found: url, ownerChange: ownerChange))
        }
        // Query-identified pages follow their script (the store syncs them after the crawl).
        for old in known.values where old.filePath != nil && !old.gone && !seen.contains(old.path) && !old.flags.contains(.queryPage) {
            switch old.owner {
            case .php where missing == .php:
                changes.removals.append(.init(id: old.id, newOwner: .php, markGone: false, ownerChange: nil))
            case .php:
                let change = OwnerChange(from: .php, to: .swift, reason: "file removed from the docroot: the fallback now sends it to Swift")
                changes.removals.append(.init(id: old.id, newOwner: .swift, markGone: false, ownerChange: change))
            case .static:
                changes.removals.append(.init(id: old.id, newOwner: .static, markGone: true, ownerChange: nil))
            case .swift:
                changes.removals.append(.init(id: old.id, newOwner: .swift, markGone: false, ownerChange: nil))
            }
        }
        changes.removals.sort { $0.id < $1.id }
        return changes
    }
}
