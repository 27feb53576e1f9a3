import CutoverCore

#if canImport(Glibc)
import Glibc
#endif

/// The regular files a walk reached, kept compact for sites of a million files: each file is
/// a 40-byte entry (its directory, where its name sits in one arena of names, size, mtime,
/// owner, flags) and each directory keeps its URL, display and filesystem prefixes once. URL
/// paths, display paths and filesystem paths are put together only when they are needed: a
/// URL path on the stack to look it up, the others for the few rows a crawl writes.
///
/// Measured at 1,000,000 files (scripts/bench-crawl.sh): the `[WalkedFile]` this replaced held
/// three heap strings per file, about 300 bytes, most of a crawl's peak memory.
struct WalkedFiles: FoundURLs {
    struct Directory: Sendable {
        var fsPath: [UInt8]
        /// `/`, `/a/b/`: the directory's URL with its trailing slash.
        var urlPrefix: [UInt8]
        /// ``, `a/b/`: the directory for display (UTF-8), relative to the docroot.
        var displayPrefix: [UInt8]
    }

    struct Entry: Sendable {
        var directory: UInt32
        var nameStart: UInt32
        var nameLength: UInt16
        var owner: Owner
        var flags: URLFlags
        var size: Int64
        var mtime: Double
    }

    /// Where an entry's content hash is.
    enum Hash: Sendable {
        /// The file could not be read.
        case none
        /// The stored row's hash, still valid (same size and mtime).
        case known(Int32)
        /// Slot in `newHashes`, 64 hex bytes each.
        case new(Int32)
    }

    static let hashLength = 64

    private(set) var directories: [Directory] = []
    private(set) var entries: [Entry] = []
    private var names: [UInt8] = []
    /// The regular file each directory-index entry reads (entry index of the index URL → of the file).
    private(set) var indexSources: [Int: Int] = [:]
    var hashes: [Hash] = []
    var known = KnownInventory()
    var newHashes: [UInt8] = []

    var count: Int { entries.count }

    mutating func addDirectory(_ directory: Directory) -> UInt32 {
        directories.append(directory)
        return UInt32(directories.count - 1)
    }

    /// Adds a file entry; returns its index.
    @discardableResult
    mutating func addFile(
        directory: UInt32,
        name: UnsafeBufferPointer<UInt8>,
        owner: Owner,
        flags: URLFlags,
        size: Int64,
        mtime: Double
    ) -> Int {
        precondition(names.count + name.count <= Int(UInt32.max), "more than 4 GiB of file names")
        let start = UInt32(names.count)
        names.append(contentsOf: name)
        entries.append(
            Entry(directory: directory, nameStart: start, nameLength: UInt16(name.count), owner: owner, flags: flags, size: size, mtime: mtime)
        )
        return entries.count - 1
    }

    /// Adds the URL of a directory (`/dir/`) answered by the file of entry `source` (mod_dir).
    mutating func addDirectoryIndex(of source: Int) {
        var entry = entries[source]
        entry.flags.insert(.directoryIndex)
        entries.append(entry)
        indexSources[entries.count - 1] = source
    }

    func withName<R>(_ entry: Entry, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        names.withUnsafeBufferPointer { names in
            body(UnsafeBufferPointer(rebasing: names[Int(entry.nameStart)..<(Int(entry.nameStart) + Int(entry.nameLength))]))
        }
    }

    // MARK: FoundURLs

    func withPath<R>(at index: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let entry = entries[index]
        let prefix = directories[Int(entry.directory)].urlPrefix
        if entry.flags.contains(.directoryIndex) { return prefix.withUnsafeBufferPointer(body) }
        return withName(entry) { name in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: prefix.count + 3 * name.count) { buffer in
                let base = buffer.baseAddress!
                prefix.withUnsafeBufferPointer { base.update(from: $0.baseAddress!, count: prefix.count) }
                let length = prefix.count + PathEncoding.encodeSegment(name, into: base + prefix.count)
                return body(UnsafeBufferPointer(start: base, count: length))
            }
        }
    }

    func owner(at index: Int) -> Owner { entries[index].owner }
    func size(at index: Int) -> Int64 { entries[index].size }
    func mtime(at index: Int) -> Double { entries[index].mtime }
    func flags(at index: Int) -> URLFlags { entries[index].flags }

    func filePathEquals(at index: Int, _ stored: UnsafeBufferPointer<UInt8>?) -> Bool {
        guard let stored else { return false }
        let entry = entries[index]
        if entry.flags.contains(.nonUTF8Name) { return ByteStrings.equal(filePath(of: entry), stored) }
        let prefix = directories[Int(entry.directory)].displayPrefix
        guard stored.count == prefix.count + Int(entry.nameLength) else { return false }
        return prefix.withUnsafeBufferPointer { ByteStrings.equal($0, UnsafeBufferPointer(rebasing: stored[0..<prefix.count])) }
            && withName(entry) { ByteStrings.equal($0, UnsafeBufferPointer(rebasing: stored[prefix.count...])) }
    }

    func contentHashEquals(at index: Int, _ stored: UnsafeBufferPointer<UInt8>?) -> Bool {
        withContentHash(at: index) { hash in
            switch (hash, stored) {
            case (nil, nil): true
            case (let hash?, let stored?): ByteStrings.equal(hash, stored)
            default: false
            }
        }
    }

    func url(at index: Int) -> FoundURL {
        let entry = entries[index]
        return FoundURL(
            path: withPath(at: index) { String(decoding: $0, as: UTF8.self) },
            filePath: filePath(of: entry),
            owner: entry.owner,
            size: entry.size,
            mtime: entry.mtime,
            contentHash: withContentHash(at: index) { $0.map { String(decoding: $0, as: UTF8.self) } },
            flags: entry.flags
        )
    }

    // MARK: Paths and hashes

    /// The answering file relative to the docroot, for display (invalid UTF-8 as U+FFFD).
    func filePath(of entry: Entry) -> String {
        String(decoding: directories[Int(entry.directory)].displayPrefix, as: UTF8.self) + withName(entry) { String(decoding: $0, as: UTF8.self) }
    }

    /// The file path of entry `index` for display.
    func filePath(at index: Int) -> String { filePath(of: entries[index]) }

    /// Calls `body` with the entry's absolute filesystem path as a C string.
    func withFileSystemPath<R>(at index: Int, _ body: (UnsafePointer<CChar>) -> R) -> R {
        let entry = entries[index]
        let prefix = directories[Int(entry.directory)].fsPath
        return withName(entry) { name in
            withUnsafeTemporaryAllocation(of: CChar.self, capacity: prefix.count + name.count + 2) { buffer in
                let base = UnsafeMutableRawPointer(buffer.baseAddress!).assumingMemoryBound(to: UInt8.self)
                prefix.withUnsafeBufferPointer { base.update(from: $0.baseAddress!, count: prefix.count) }
                base[prefix.count] = UInt8(ascii: "/")
                if !name.isEmpty { (base + prefix.count + 1).update(from: name.baseAddress!, count: name.count) }
                base[prefix.count + 1 + name.count] = 0
                return body(buffer.baseAddress!)
            }
        }
    }

    func withContentHash<R>(at index: Int, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
        switch hashes.isEmpty ? .none : hashes[index] {
        case .none: return body(nil)
        case .known(let row): return known.withContentHash(Int(row), body)
        case .new(let slot):
            let start = Int(slot) * Self.hashLength
            return newHashes.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[start..<(start + Self.hashLength)])) }
        }
    }
}
