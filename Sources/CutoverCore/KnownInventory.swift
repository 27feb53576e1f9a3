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
