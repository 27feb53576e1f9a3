import CutoverCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A regular file reached by the walk, with the URL Apache gives it.
struct WalkedFile: Sendable {
    /// URL path segments as raw bytes (file names may be any bytes but '/' and NUL).
    var urlSegments: [[UInt8]]
    /// True for the `/dir/` URL that mod_dir answers with the directory's index file.
    var isDirectoryURL: Bool
    /// Segments of the answering file, relative to the docroot.
    var fileSegments: [[UInt8]]
    /// Absolute filesystem path of the answering file.
    var fsPath: [UInt8]
    var size: Int64
    var mtime: Double
    var viaSymlink: Bool
}

/// Walks a docroot with POSIX calls over raw bytes, so names that are not valid UTF-8 are
/// handled exactly. Follows symbolic links only while their target stays inside the docroot,
/// and never enters a directory that is already on the current path (a loop).
struct DocrootWalker {
    static let maxDepth = 64

    let mapping: ApacheMapping
    let root: [UInt8]
    private(set) var files: [WalkedFile] = []
    private(set) var issues: [CrawlIssueBuilder] = []
    private var rootReal: [UInt8] = []
    private var visited = 0
    let onProgress: (Int) -> Void
    let isCancelled: () -> Bool

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
        try walkDirectory(handle, fsPath: root, segments: [], ancestors: [DeviceInode(info)], device: DeviceInode(info).device, viaSymlink: false)
    }

    private mutating func walkDirectory(
        _ handle: OpaquePointer,
        fsPath: [UInt8],
        segments: [[UInt8]],
        ancestors: Set<DeviceInode>,
        device: UInt64,
        viaSymlink: Bool
    ) throws {
        let names = POSIX.readNames(handle)
        closedir(handle)
        var fileNames = Set<[UInt8]>()
        var filesHere: [[UInt8]: WalkedFile] = [:]
        for name in names.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            visited += 1
            if visited % 2048 == 0 {
                if isCancelled() { throw CancellationError() }
                onProgress(files.count)
            }
            let childPath = fsPath + [UInt8(ascii: "/")] + name
            let childSegments = segments + [name]
            var info = stat()
            guard POSIX.linkStatus(childPath, &info) == 0 else {
                issue(childSegments, "unreadable", POSIX.message(errno))
                continue
            }
            var linked = viaSymlink
            if POSIX.isSymlink(info.st_mode) {
                guard POSIX.status(childPath, &info) == 0 else {
                    issue(childSegments, "broken-symlink", "symbolic link target does not exist")
                    continue
                }
                guard let target = POSIX.realpath(childPath), isInsideDocroot(target) else {
                    issue(childSegments, "symlink-outside-docroot", "symbolic link leads outside the docroot; not followed")
                    continue
                }
                linked = true
            }
            if POSIX.isDirectory(info.st_mode) {
                let id = DeviceInode(info)
                if ancestors.contains(id) {
                    issue(childSegments, "symlink-loop", "directory loops back to one of its parents; not followed")
                    continue
                }
                // A mount point (another device): never enter a kernel file system such as a proc
                // mounted inside the docroot; statfs only where the device changes.
                if id.device != device, POSIX.isPseudoFileSystem(childPath) {
                    issue(childSegments, "pseudo-filesystem", "a kernel file system (proc, sysfs, ...) is mounted here; not followed")
                    continue
                }
                if childSegments.count > Self.maxDepth {
                    issue(childSegments, "too-deep", "more than \(Self.maxDepth) nested directories; not followed")
                    continue
                }
                guard let child = POSIX.openDirectory(childPath) else {
                    issue(childSegments, "unreadable", POSIX.message(errno))
                    continue
                }
                try walkDirectory(
                    child,
                    fsPath: childPath,
                    segments: childSegments,
                    ancestors: ancestors.union([id]),
                    device: id.device,
                    viaSymlink: linked
                )
            } else if POSIX.isRegular(info.st_mode) {
                let file = WalkedFile(
                    urlSegments: childSegments,
                    isDirectoryURL: false,
                    fileSegments: childSegments,
                    fsPath: childPath,
                    size: Int64(info.st_size),
                    mtime: POSIX.mtime(info),
                    viaSymlink: linked
                )
                files.append(file)
                fileNames.insert(name)
                filesHere[name] = file
            } else {
                issue(childSegments, "not-a-file", "not a regular file or directory (socket, FIFO or device); skipped")
            }
        }
        if let index = mapping.indexFile(amongFileNames: fileNames), var file = filesHere[index] {
            file.urlSegments = segments
            file.isDirectoryURL = true
            files.append(file)
        }
    }

    private func isInsideDocroot(_ real: [UInt8]) -> Bool {
        real == rootReal || (real.count > rootReal.count && real.starts(with: rootReal) && real[rootReal.count] == UInt8(ascii: "/"))
            || rootReal == [UInt8(ascii: "/")]
    }

    private mutating func issue(_ segments: [[UInt8]], _ kind: String, _ message: String) {
        issues.append(CrawlIssueBuilder(segments: segments, kind: kind, message: message))
    }
}

struct CrawlIssueBuilder: Sendable {
    var segments: [[UInt8]]
    var kind: String
    var message: String
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
