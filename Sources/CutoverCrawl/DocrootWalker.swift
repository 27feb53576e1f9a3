import CutoverCore
import CutoverStore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Walks a docroot with POSIX calls over raw bytes, so names that are not valid UTF-8 are
/// handled exactly. Follows symbolic links as Apache does under `Options FollowSymLinks`
/// (Debian's default), also when they lead outside the docroot: those URLs are flagged
/// `outside-docroot` and each such link is reported with its target. A link to `/`, to an
/// ancestor of the docroot or to a private place (`/etc`, `/root`, ...) is an `exposure`
/// finding and is never followed: nothing there is read or hashed, and below a followed link
/// each folder is judged by its real path the same way. Never enters a directory that is already on
/// the current path (a loop), a kernel file system, or more than `maxDepth` levels.
///
/// Speed (scripts/bench-crawl.sh): entries are stat-ed relative to their open directory
/// (`fstatat`, no path lookup from the root per file), and a directory's URL prefix, display
/// prefix and inherited flags are worked out once for all its files.
struct DocrootWalker {
    static let maxDepth = 64

    let mapping: ApacheMapping
    let root: [UInt8]
    /// The regular files reached, compact.
    private(set) var found = WalkedFiles()
    /// `.htaccess` files: the directory (docroot-relative, "" for the docroot) and the file.
    private(set) var htaccess: [(directory: String, fsPath: [UInt8])] = []
    private(set) var issues: [CrawlIssue] = []
    /// Links out of the docroot with an exposure below them: where their issue is, its first
    /// message, and how many private places lie below.
    private var exposuresBelow: [String: (index: Int, first: String, count: Int)] = [:]
    /// URLs of directories without a DirectoryIndex file (`/js/`), hidden ones left out: Apache
    /// answers them 403 or with a listing until the export's fallback sends them to Swift.
    private(set) var bareDirectories: [String] = []
    private var rootReal: [UInt8] = []
    private let places: [[UInt8]]
    /// URL prefixes of the vhost's Alias directories (`/wp-content/`): Apache serves them from
    /// there, so the docroot's folders of that name are never reached.
    private var aliasPrefixes: Set<String> = []
    /// Walking an Alias directory: its `.htaccess` files and bare folders are not the docroot's.
    private var inAlias = false
    private var visited = 0
    let onProgress: (Int) -> Void
    let isCancelled: () -> Bool

    /// What every entry of one directory shares.
    private struct Directory {
        var fsPath: [UInt8]
        /// Where it really is (symlinks resolved), to judge places below a link out of the docroot.
        var real: [UInt8]
        /// `/`, `/a/b/`: the directory's URL with its trailing slash.
        var urlPrefix: String
        /// ``, `a/b/`: the directory for display, relative to the docroot.
        var displayPrefix: String
        /// hidden, sensitive, non-UTF-8 and symlink flags from the directory's own path.
        var flags: URLFlags
        var depth: Int
        var ancestors: Set<DeviceInode>
        var device: UInt64
        /// Its number in `found.directories`.
        var number: UInt32 = 0
        /// The symbolic link through which this directory left the docroot (its display path
        /// and URL), when it did: an exposure below it is reported at the link.
        var outsideLink: (path: String, url: String)? = nil
    }

    /// `privatePlaces`: where a link must never lead (tests name their own: a machine's /var is
    /// too large to walk in one).
    init(
        mapping: ApacheMapping,
        privatePlaces: [[UInt8]] = DocrootWalker.privatePlaces,
        isCancelled: @escaping () -> Bool,
        onProgress: @escaping (Int) -> Void
    ) {
        self.mapping = mapping
        self.places = privatePlaces
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
        var top = Directory(fsPath: root, real: real, urlPrefix: "/", displayPrefix: "", flags: [], depth: 0, ancestors: [id], device: id.device)
        try walkDirectory(handle, &top)
    }

    /// Walks the docroot, then each Alias directory at its URL prefix with the same rules (an
    /// alias can hold PHP, or a whole app). A missing or unreadable alias is an issue, not a
    /// failed crawl.
    mutating func walk(aliases: [PathAlias]) throws {
        aliasPrefixes = Set(aliases.map(\.urlPrefix))
        try walk()
        inAlias = true
        defer { inAlias = false }
        for alias in aliases {
            var path = Array(alias.directory.utf8)
            while path.count > 1, path.last == UInt8(ascii: "/") { path.removeLast() }
            var info = stat()
            let display = alias.directory + "/"
            func aliasIssue(_ message: String) {
                issues.append(CrawlIssue(filePath: alias.directory, kind: "alias-unreadable", message: "Alias \(alias.urlPath): \(message)"))
            }
            guard POSIX.status(path, &info) == 0 else {
                aliasIssue(POSIX.message(errno))
                continue
            }
            guard POSIX.isDirectory(info.st_mode), !POSIX.isPseudoFileSystem(path) else {
                aliasIssue("not a directory Cutover walks")
                continue
            }
            guard let real = POSIX.realpath(path), let handle = POSIX.openDirectory(path) else {
                aliasIssue(POSIX.message(errno))
                continue
            }
            rootReal = real
            let id = DeviceInode(info)
            var top = Directory(
                fsPath: path,
                real: real,
                urlPrefix: alias.urlPrefix,
                displayPrefix: display,
                flags: ApacheMapping.flags(ofURLPath: alias.urlPath).intersection([.hidden, .sensitive]),
                depth: 0,
                ancestors: [id],
                device: id.device
            )
            try walkDirectory(handle, &top)
        }
    }

    private mutating func walkDirectory(_ handle: OpaquePointer, _ directory: inout Directory) throws {
        defer { closedir(handle) }
        directory.number = found.addDirectory(
            .init(fsPath: directory.fsPath, urlPrefix: Array(directory.urlPrefix.utf8), displayPrefix: Array(directory.displayPrefix.utf8))
        )
        let fd = dirfd(handle)
        let listing = POSIX.readNames(handle)
        var index: (rank: Int, entry: Int)?
        try listing.bytes.withUnsafeBufferPointer { bytes in
            for range in listing.names {
                let name = UnsafeBufferPointer(rebasing: bytes[Int(range.start)..<Int(range.end)])
                let cName = UnsafeRawPointer(bytes.baseAddress! + Int(range.start)).assumingMemoryBound(to: CChar.self)
                try visit(name, cName, in: fd, directory, index: &index)
            }
        }
        // mod_dir answers `/dir/` with the first DirectoryIndex file present.
        if let index {
            found.addDirectoryIndex(of: index.entry)
        } else if !directory.flags.contains(.hidden), !inAlias {
            bareDirectories.append(directory.urlPrefix)
        }
    }

    /// One entry of a directory: `name` is followed by a NUL in memory (`cName`).
    private mutating func visit(
        _ name: UnsafeBufferPointer<UInt8>,
        _ cName: UnsafePointer<CChar>,
        in fd: Int32,
        _ directory: Directory,
        index: inout (rank: Int, entry: Int)?
    ) throws {
        visited += 1
        if visited % 2048 == 0 {
            if isCancelled() { throw CancellationError() }
            onProgress(found.count)
        }
        var info = stat()
        guard POSIX.linkStatus(at: fd, cName, &info) == 0 else {
            issue(directory, name, "unreadable", POSIX.message(errno))
            return
        }
        var flags = directory.flags.union(Self.ownFlags(name))
        // Built only for links and directories, not for each of a million files.
        var childPath: [UInt8] { directory.fsPath + [UInt8(ascii: "/")] + Array(name) }
        var linkTarget: [UInt8]?
        if POSIX.isSymlink(info.st_mode) {
            guard POSIX.status(at: fd, cName, &info) == 0 else {
                issue(directory, name, "broken-symlink", "symbolic link target does not exist")
                return
            }
            guard let target = POSIX.realpath(childPath) else {
                issue(directory, name, "broken-symlink", POSIX.message(errno))
                return
            }
            flags.insert(.viaSymlink)
            linkTarget = target
            if !isInsideDocroot(target) {
                flags.insert(.outsideDocroot)
                let shown = Self.display(target)
                if POSIX.isDirectory(info.st_mode), POSIX.isPseudoFileSystem(target) {
                    issue(directory, name, "pseudo-filesystem", "symbolic link into \(shown), a kernel file system; not followed")
                    return
                }
                if let place = exposure(target) {
                    // Apache reads a linked .htaccess itself and never serves .ht* names: the
                    // rules of DokuWiki's /etc/dokuwiki/htaccess matter, its bytes are not public.
                    if name.elementsEqual(Self.htaccessName), POSIX.isRegular(info.st_mode) {
                        issue(directory, name, "symlink-outside-docroot", "Apache reads this .htaccess from \(shown) and never serves it")
                    } else if name.starts(with: Self.htPrefix) {
                        issue(directory, name, "symlink-outside-docroot", "leads to \(shown); Apache denies .ht* names, not followed")
                        return
                    } else {
                        // Never walked, read or hashed: the link and its URL are the finding.
                        let url = directory.urlPrefix + PathEncoding.encodeSegment(name) + (POSIX.isDirectory(info.st_mode) ? "/" : "")
                        issue(
                            directory,
                            name,
                            "exposure",
                            "symbolic link to \(shown), \(place): under FollowSymLinks Apache serves it at \(url) unless a rule denies it; not followed"
                        )
                        return
                    }
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
            if !aliasPrefixes.isEmpty, !inAlias, aliasPrefixes.contains(directory.urlPrefix + PathEncoding.encodeSegment(name) + "/") {
                return  // Apache serves this URL from the Alias directory, walked on its own
            }
            let id = DeviceInode(info)
            // Below a link that left the docroot, each folder is judged by where it really is
            // (a link to /var must not walk /var/mail).
            let real = linkTarget ?? directory.real + [UInt8(ascii: "/")] + Array(name)
            if linkTarget == nil, directory.flags.contains(.outsideDocroot), let place = exposure(real) {
                // Reported once, at the link that left the docroot: the link and its URL are the
                // finding, not the entries beneath it.
                if let link = directory.outsideLink {
                    exposureBelow(link, "\(Self.display(real)) is \(place)")
                } else {
                    issue(directory, name, "exposure", "\(Self.display(real)) is \(place); not followed")
                }
                return
            }
            if directory.ancestors.contains(id) {
                issue(directory, name, "symlink-loop", "directory loops back to one of its parents; not followed")
                return
            }
            // A mount point (another device): never enter a kernel file system such as a proc
            // mounted inside the docroot; statfs only where the device changes.
            if id.device != directory.device, POSIX.isPseudoFileSystem(childPath) {
                issue(directory, name, "pseudo-filesystem", "a kernel file system (proc, sysfs, ...) is mounted here; not followed")
                return
            }
            if directory.depth + 1 > Self.maxDepth {
                issue(directory, name, "too-deep", "more than \(Self.maxDepth) nested directories; not followed")
                return
            }
            guard let child = POSIX.openDirectory(at: fd, cName) else {
                issue(directory, name, "unreadable", POSIX.message(errno))
                return
            }
            var ancestors = directory.ancestors
            ancestors.insert(id)
            var sub = Directory(
                fsPath: childPath,
                real: real,
                urlPrefix: directory.urlPrefix + PathEncoding.encodeSegment(name) + "/",
                displayPrefix: directory.displayPrefix + Self.display(name) + "/",
                flags: flags.intersection([.hidden, .sensitive, .nonUTF8Name, .viaSymlink, .outsideDocroot]),
                depth: directory.depth + 1,
                ancestors: ancestors,
                device: id.device
            )
            sub.outsideLink =
                directory.outsideLink
                ?? (linkTarget != nil && flags.contains(.outsideDocroot) ? (String(sub.displayPrefix.dropLast()), sub.urlPrefix) : nil)
            try walkDirectory(child, &sub)
        } else if POSIX.isRegular(info.st_mode) {
            let owner = mapping.owner(ofFileNamed: name)
            let entry = found.addFile(
                directory: directory.number,
                name: name,
                owner: owner,
                flags: flags,
                size: Int64(info.st_size),
                mtime: POSIX.mtime(info)
            )
            if name.elementsEqual(Self.htaccessName), !inAlias { htaccess.append((String(directory.displayPrefix.dropLast()), childPath)) }
            if let rank = mapping.indexRank(ofFileNamed: name), rank < index?.rank ?? Int.max { index = (rank, entry) }
        } else {
            issue(directory, name, "not-a-file", "not a regular file or directory (socket, FIFO or device); skipped")
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

    static func isPrivatePlace(_ real: [UInt8], among places: [[UInt8]] = privatePlaces) -> Bool {
        places.contains { place in
            real == place || (real.starts(with: place) && real.count > place.count && real[place.count] == UInt8(ascii: "/"))
        }
    }

    /// Flags one path segment contributes: hidden, sensitive, not UTF-8.
    private static func ownFlags(_ name: UnsafeBufferPointer<UInt8>) -> URLFlags {
        var flags = ApacheMapping.flags(ofSegment: name)
        if name.contains(where: { $0 >= 0x80 }), String(validating: name, as: UTF8.self) == nil { flags.insert(.nonUTF8Name) }
        return flags
    }

    /// A name for people: invalid UTF-8 becomes U+FFFD.
    static func display(_ name: some Collection<UInt8>) -> String {
        String(decoding: name, as: UTF8.self)
    }

    /// Why a place outside the docroot must never be walked, or nil: the root of the file system
    /// and every ancestor of the docroot (a link to `/` or `..` would walk the machine or the
    /// docroot's siblings), and the private places.
    private func exposure(_ real: [UInt8]) -> String? {
        if real == [UInt8(ascii: "/")] { return "the root of the file system" }
        if rootReal.count > real.count, rootReal.starts(with: real), rootReal[real.count] == UInt8(ascii: "/") {
            return "an ancestor of the docroot"
        }
        if Self.isPrivatePlace(real, among: places) { return "a place that should never be public" }
        return nil
    }

    private func isInsideDocroot(_ real: [UInt8]) -> Bool {
        real == rootReal || (real.count > rootReal.count && real.starts(with: rootReal) && real[rootReal.count] == UInt8(ascii: "/"))
            || rootReal == [UInt8(ascii: "/")]
    }

    /// An exposure below a link that left the docroot, reported at the link: the first one
    /// names the place, later ones count (`exposuresBelow` keeps where each link's issue is).
    private mutating func exposureBelow(_ link: (path: String, url: String), _ finding: String) {
        guard let (index, first, count) = exposuresBelow[link.path] else {
            let message =
                "symbolic link out of the docroot; below it, \(finding): under FollowSymLinks Apache serves \(link.url) and what is "
                + "below it unless a rule denies it; not followed"
            exposuresBelow[link.path] = (issues.count, message, 1)
            issues.append(CrawlIssue(filePath: link.path, kind: "exposure", message: message))
            return
        }
        exposuresBelow[link.path] = (index, first, count + 1)
        issues[index].message = first + " (and \(count) more private place\(count == 1 ? "" : "s") below it)"
    }

    private mutating func issue(_ directory: Directory, _ name: UnsafeBufferPointer<UInt8>, _ kind: String, _ message: String) {
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
