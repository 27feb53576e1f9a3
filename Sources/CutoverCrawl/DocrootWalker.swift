import CutoverCore
import CutoverStore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A regular file reached by the walk, with the URL Apache gives it and what the inventory
/// records about it (all but the content hash).
struct WalkedFile: Sendable {
    /// Canonical, percent-encoded URL path (`/old%20page.php`, `/dir/` for a directory index).
    var path: String
    /// The answering file, relative to the docroot, for display (invalid UTF-8 as U+FFFD).
    var filePath: String
    /// Absolute filesystem path of the answering file, for hashing.
    var fsPath: [UInt8]
    var size: Int64
    var mtime: Double
    var owner: Owner
    var flags: URLFlags
}

/// Walks a docroot with POSIX calls over raw bytes, so names that are not valid UTF-8 are
/// handled exactly. Follows symbolic links as Apache does under `Options FollowSymLinks`
/// (Debian's default), also when they lead outside the docroot: those URLs are flagged
/// `outside-docroot` and each such link is reported with its target (as an exposure when the
/// target is a place that should never be public). Never enters a directory that is already on
/// the current path (a loop), a kernel file system, or more than `maxDepth` levels.
///
/// Speed (scripts/bench-crawl.sh): entries are stat-ed relative to their open directory
/// (`fstatat`, no path lookup from the root per file), and a directory's URL prefix, display
/// prefix and inherited flags are worked out once for all its files.
struct DocrootWalker {
    static let maxDepth = 64

    let mapping: ApacheMapping
    let root: [UInt8]
    private(set) var files: [WalkedFile] = []
    /// `.htaccess` files: the directory (docroot-relative, "" for the docroot) and the file.
    private(set) var htaccess: [(directory: String, fsPath: [UInt8])] = []
    private(set) var issues: [CrawlIssue] = []
    private var rootReal: [UInt8] = []
    private var visited = 0
    let onProgress: (Int) -> Void
    let isCancelled: () -> Bool

    /// What every entry of one directory shares.
    private struct Directory {
        var fsPath: [UInt8]
        /// `/`, `/a/b/`: the directory's URL with its trailing slash.
        var urlPrefix: String
        /// ``, `a/b/`: the directory for display, relative to the docroot.
        var displayPrefix: String
        /// hidden, sensitive, non-UTF-8 and symlink flags from the directory's own path.
        var flags: URLFlags
        var depth: Int
        var ancestors: Set<DeviceInode>
        var device: UInt64
    }

    init(mapping: ApacheMapping, isCancelled: @escaping () -> Bool, onProgress: @escaping (Int) -> Void) {
        self.mapping = mapping
        self.isCancelled = isCancelled
        var root = Array(mapping.settings.docroot.utf8)
        while root.count > 1, root.last == UInt8(ascii: "/") { root.removeLast() }
        self.root = root
        self.onProgress = onProgress
    }

    /// Walks the whole tree. Throws only when the docroot itself cannot be used.
    mutating func walk() throws {
        let docroot = mapping.settings.docroot
        var info = stat()
        guard POSIX.status(root, &info) == 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw CrawlError.docrootMissing(docroot) }
            throw CrawlError.docrootUnreadable(docroot, POSIX.message(code))
        }
        guard POSIX.isDirectory(info.st_mode) else { throw CrawlError.docrootNotDirectory(docroot) }
        if POSIX.isPseudoFileSystem(root) {
            throw CrawlError.docrootUnreadable(docroot, "it is a kernel file system (proc, sysfs, ...), not a website")
        }
        guard let real = POSIX.realpath(root) else { throw CrawlError.docrootUnreadable(docroot, POSIX.message(errno)) }
        rootReal = real
        guard let handle = POSIX.openDirectory(root) else {
            throw CrawlError.docrootUnreadable(docroot, POSIX.message(errno))
        }
        let id = DeviceInode(info)
        let top = Directory(fsPath: root, urlPrefix: "/", displayPrefix: "", flags: [], depth: 0, ancestors: [id], device: id.device)
        try walkDirectory(handle, top)
    }

    private mutating func walkDirectory(_ handle: OpaquePointer, _ directory: Directory) throws {
        defer { closedir(handle) }
        let fd = dirfd(handle)
        let names = POSIX.readNames(handle).sorted { $0.lexicographicallyPrecedes($1) }
        var index: (rank: Int, file: WalkedFile)?
        for name in names {
            visited += 1
            if visited % 2048 == 0 {
                if isCancelled() { throw CancellationError() }
                onProgress(files.count)
            }
            var info = stat()
            guard POSIX.linkStatus(at: fd, name, &info) == 0 else {
                issue(directory, name, "unreadable", POSIX.message(errno))
                continue
            }
            var flags = directory.flags.union(Self.ownFlags(name))
            let childPath = directory.fsPath + [UInt8(ascii: "/")] + name
            if POSIX.isSymlink(info.st_mode) {
                guard POSIX.status(at: fd, name, &info) == 0 else {
                    issue(directory, name, "broken-symlink", "symbolic link target does not exist")
                    continue
                }
                guard let target = POSIX.realpath(childPath) else {
                    issue(directory, name, "broken-symlink", POSIX.message(errno))
                    continue
                }
                flags.insert(.viaSymlink)
                if !isInsideDocroot(target) {
                    flags.insert(.outsideDocroot)
                    let shown = Self.display(target)
                    if POSIX.isDirectory(info.st_mode), POSIX.isPseudoFileSystem(target) {
                        issue(directory, name, "pseudo-filesystem", "symbolic link into \(shown), a kernel file system; not followed")
                        continue
                    }
                    if Self.isPrivatePlace(target), !name.starts(with: Self.htPrefix) {
                        issue(
                            directory,
                            name,
                            "exposure",
                            "symbolic link into \(shown), which should never be public: Apache serves it under FollowSymLinks unless a rule denies it"
                        )
                    } else {
                        issue(
                            directory,
                            name,
                            "symlink-outside-docroot",
                            "followed as Apache does (FollowSymLinks): leads to \(shown), outside the docroot"
                        )
                    }
                }
            }
            if POSIX.isDirectory(info.st_mode) {
                let id = DeviceInode(info)
                if directory.ancestors.contains(id) {
                    issue(directory, name, "symlink-loop", "directory loops back to one of its parents; not followed")
                    continue
                }
                // A mount point (another device): never enter a kernel file system such as a proc
                // mounted inside the docroot; statfs only where the device changes.
                if id.device != directory.device, POSIX.isPseudoFileSystem(childPath) {
                    issue(directory, name, "pseudo-filesystem", "a kernel file system (proc, sysfs, ...) is mounted here; not followed")
                    continue
                }
                if directory.depth + 1 > Self.maxDepth {
                    issue(directory, name, "too-deep", "more than \(Self.maxDepth) nested directories; not followed")
                    continue
                }
                guard let child = POSIX.openDirectory(at: fd, name) else {
                    issue(directory, name, "unreadable", POSIX.message(errno))
                    continue
                }
                var ancestors = directory.ancestors
                ancestors.insert(id)
                let sub = Directory(
                    fsPath: childPath,
                    urlPrefix: directory.urlPrefix + PathEncoding.encodeSegment(name) + "/",
                    displayPrefix: directory.displayPrefix + Self.display(name) + "/",
                    flags: flags.intersection([.hidden, .sensitive, .nonUTF8Name, .viaSymlink, .outsideDocroot]),
                    depth: directory.depth + 1,
                    ancestors: ancestors,
                    device: id.device
                )
                try walkDirectory(child, sub)
            } else if POSIX.isRegular(info.st_mode) {
                let file = WalkedFile(
                    path: directory.urlPrefix + PathEncoding.encodeSegment(name),
                    filePath: directory.displayPrefix + Self.display(name),
                    fsPath: childPath,
                    size: Int64(info.st_size),
                    mtime: POSIX.mtime(info),
                    owner: mapping.owner(ofFileNamed: name),
                    flags: flags
                )
                files.append(file)
                if name == Self.htaccessName { htaccess.append((String(directory.displayPrefix.dropLast()), childPath)) }
                if let rank = mapping.indexRank(ofFileNamed: name), rank < index?.rank ?? Int.max { index = (rank, file) }
            } else {
                issue(directory, name, "not-a-file", "not a regular file or directory (socket, FIFO or device); skipped")
            }
        }
        // mod_dir answers `/dir/` with the first DirectoryIndex file present.
        if var file = index?.file {
            file.path = directory.urlPrefix
            file.flags.insert(.directoryIndex)
            files.append(file)
        }
    }

    private static let htaccessName = Array(".htaccess".utf8)
    /// Apache's default config denies `.ht*` files (Debian: `<FilesMatch "^\.ht">`).
    private static let htPrefix = Array(".ht".utf8)
    /// Where a link from a website should never lead: system configuration, home folders,
    /// kernel and device trees, mail and backups.
    static let privatePlaces = ["/etc", "/root", "/home", "/proc", "/sys", "/dev", "/boot", "/var/mail", "/var/spool", "/var/backups"].map {
        Array($0.utf8)
    }

    static func isPrivatePlace(_ real: [UInt8]) -> Bool {
        privatePlaces.contains { place in
            real == place || (real.starts(with: place) && real.count > place.count && real[place.count] == UInt8(ascii: "/"))
        }
    }

    /// Flags one path segment contributes: hidden, sensitive, not UTF-8.
    private static func ownFlags(_ name: [UInt8]) -> URLFlags {
        var flags = ApacheMapping.flags(forSegments: [name])
        if name.contains(where: { $0 >= 0x80 }), String(validating: name, as: UTF8.self) == nil { flags.insert(.nonUTF8Name) }
        return flags
    }

    /// A name for people: invalid UTF-8 becomes U+FFFD.
    static func display(_ name: [UInt8]) -> String {
        String(decoding: name, as: UTF8.self)
    }

    private func isInsideDocroot(_ real: [UInt8]) -> Bool {
        real == rootReal || (real.count > rootReal.count && real.starts(with: rootReal) && real[rootReal.count] == UInt8(ascii: "/"))
            || rootReal == [UInt8(ascii: "/")]
    }

    private mutating func issue(_ directory: Directory, _ name: [UInt8], _ kind: String, _ message: String) {
        issues.append(CrawlIssue(filePath: directory.displayPrefix + Self.display(name), kind: kind, message: message))
    }
}

/// Identity of a directory, to detect loops through symbolic links.
struct DeviceInode: Hashable, Sendable {
    let device: UInt64
    let inode: UInt64
    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}
