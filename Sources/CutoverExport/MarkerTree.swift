import CutoverCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The tree export form's flip folder (#28): one empty file per flipped page, at the folder's
/// path followed by the page's URL path and `suffix` (`/shop/cart.php` →
/// `DIR/shop/cart.php.cutover-flip`, `/about/` → `DIR/about/.cutover-flip`). Apache tests it with
/// one `stat`. Written page by page — creating or removing one file is atomic, so a request sees
/// its page's old owner or its new one — and the plan's version goes beside the folder
/// (`DIR.version`), never inside it, where a page's path could claim its name.
package enum MarkerTree {
    package static let suffix = ".cutover-flip"
    /// Longer keys stay rules, as in the dbm form.
    package static let maxKeyBytes = 1024

    /// Whether `key` (a URL path as Apache has it in `REQUEST_URI`) can be a marker path: it
    /// starts with `/`, has no empty, `.` or `..` segment (Apache never passes one, and the
    /// kernel would read `//` as `/`), no NUL, and each name fits a file system's 255 bytes.
    package static func representable(_ key: [UInt8], suffix: String = MarkerTree.suffix) -> Bool {
        guard key.first == UInt8(ascii: "/"), key.count <= maxKeyBytes, !key.contains(0) else { return false }
        let segments = key.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        for (index, segment) in segments.enumerated() {
            let last = index == segments.count - 1
            if segment.isEmpty && !last { return false }
            if segment.elementsEqual([UInt8(ascii: ".")]) || segment.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) { return false }
            if segment.count + (last ? suffix.utf8.count : 0) > 255 { return false }
        }
        return true
    }

    /// The keys whose marker file would be a folder another key's marker needs (`/a` and
    /// `/a.cutover-flip/b`): those keep a rule each.
    package static func clashing(_ keys: [[UInt8]], suffix: String = MarkerTree.suffix) -> Set<[UInt8]> {
        var folders = Set<[UInt8]>()
        for key in keys {
            for index in key.indices.dropFirst() where key[index] == UInt8(ascii: "/") { folders.insert(Array(key[..<index])) }
        }
        let suffixBytes = Array(suffix.utf8)
        return Set(keys.filter { folders.contains($0 + suffixBytes) })
    }

    /// Refuses a folder whose path Apache would read as something else inside a quoted
    /// `RewriteCond` test string (`$`, `%`, quotes, spaces, control characters) or that is not absolute.
    package static func checkFolder(_ folder: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+@".utf8)
        guard folder.hasPrefix("/"), folder.count > 1, !folder.hasSuffix("/"), folder.utf8.allSatisfy(allowed.contains),
            !folder.split(separator: "/").contains(where: { $0 == "." || $0 == ".." })
        else {
            throw ExportError.unsafeSetting(
                "the tree form's folder must be an absolute path of letters, digits and / . _ - + @ (without a trailing /): '\(ConfigText.visible(folder))'"
            )
        }
    }

    package static func versionPath(_ folder: String) -> String { folder + ".version" }

    /// The plan version written with the folder by a node agent (nil: none).
    package static func servedVersion(_ folder: String) -> String? {
        (try? String(contentsOfFile: versionPath(folder), encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Makes the folder hold exactly `keys`' markers: adds the missing ones, removes the others
    /// (and folders left empty), then writes `version` beside it. One writer at a time (a lock
    /// file beside the folder). Returns how many markers were added and removed.
    @discardableResult
    package static func write(keys: [[UInt8]], to folder: String, version: String? = nil) throws -> (added: Int, removed: Int) {
        try checkFolder(folder)
        try makeFolder(Array(folder.utf8))
        let lock = open(folder + ".lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard lock >= 0 else { throw ExportCheckError.cannotWrite(folder, String(cString: strerror(errno))) }
        defer { close(lock) }
        guard flock(lock, LOCK_EX) == 0 else { throw ExportCheckError.cannotWrite(folder, String(cString: strerror(errno))) }
        let suffixBytes = Array(suffix.utf8)
        let root = Array(folder.utf8)
        // Keys the tree cannot hold are rules of the tree export (`MarkerTreeForm.split`).
        var wanted = Set(keys.filter { representable($0) })
        wanted.subtract(clashing(Array(wanted)))
        var present = Set<[UInt8]>()
        try walk(root, relative: []) { relative in
            if relative.count >= suffixBytes.count, relative.suffix(suffixBytes.count).elementsEqual(suffixBytes) {
                present.insert([UInt8(ascii: "/")] + relative.dropLast(suffixBytes.count))
            }
        }
        var removed = 0
        for key in present.subtracting(wanted) {
            let path = root + key + suffixBytes
            if withCPath(path, { unlink($0) }) == 0 { removed += 1 }
            // Folders left empty go too (rmdir refuses a folder that is not empty).
            var parent = Array(key.dropLast())
            while let slash = parent.lastIndex(of: UInt8(ascii: "/")), slash > 0 {
                parent = Array(parent[..<slash])
                if withCPath(root + parent, { rmdir($0) }) != 0 { break }
            }
        }
        var added = 0
        for key in wanted.subtracting(present).sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let path = root + key + suffixBytes
            if let slash = path.lastIndex(of: UInt8(ascii: "/")) { try makeFolder(Array(path[..<slash]), folderLength: root.count) }
            // O_NOFOLLOW: a link planted in the folder is never followed out of it.
            let descriptor = withCPath(path) { open($0, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0o644) }
            guard descriptor >= 0 else {
                throw ExportCheckError.cannotWrite(String(decoding: path, as: UTF8.self), String(cString: strerror(errno)))
            }
            fchmod(descriptor, 0o644)
            close(descriptor)
            added += 1
        }
        if let version { try writeVersion(version, folder: folder) }
        return (added, removed)
    }

    /// Writes `version` beside `folder` (`DIR.version`), atomically.
    static func writeVersion(_ version: String, folder: String) throws {
        let temporary = versionPath(folder) + ".\(getpid()).tmp"
        try Data((version + "\n").utf8).write(to: URL(fileURLWithPath: temporary))
        chmod(temporary, 0o644)
        guard rename(temporary, versionPath(folder)) == 0 else {
            throw ExportCheckError.cannotWrite(versionPath(folder), String(cString: strerror(errno)))
        }
    }

    /// `mkdir -p`, each folder 0755 (Apache's workers must traverse it); below the first
    /// `folderLength` bytes (the flip folder), every existing part must be a folder, not a link.
    static func makeFolder(_ path: [UInt8], folderLength: Int = .max) throws {
        var prefix: [UInt8] = []
        for (index, byte) in path.enumerated() {
            prefix.append(byte)
            guard index == path.count - 1 || path[index + 1] == UInt8(ascii: "/"), prefix.count > 1 else { continue }
            let status = withCPath(prefix) { mkdir($0, 0o755) }
            if status != 0 && errno != EEXIST {
                throw ExportCheckError.cannotWrite(String(decoding: prefix, as: UTF8.self), String(cString: strerror(errno)))
            }
            // Below the folder itself, an existing entry must be a real folder, not a link out of it.
            if prefix.count > folderLength {
                var info = stat()
                guard withCPath(prefix, { lstat($0, &info) }) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                    throw ExportCheckError.cannotWrite(String(decoding: prefix, as: UTF8.self), "not a folder (a link or a file is in the way)")
                }
            }
        }
    }

    /// Every file below `root`, as its path relative to `root`, in bytes (names need not be UTF-8).
    static func walk(_ root: [UInt8], relative: [UInt8], _ visit: ([UInt8]) -> Void) throws {
        let path = relative.isEmpty ? root : root + [UInt8(ascii: "/")] + relative
        guard let directory = withCPath(path, { opendir($0) }) else {
            throw ExportCheckError.cannotWrite(String(decoding: path, as: UTF8.self), String(cString: strerror(errno)))
        }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            let child = relative.isEmpty ? name : relative + [UInt8(ascii: "/")] + name
            if entry.pointee.d_type == UInt8(DT_DIR) {
                try walk(root, relative: child, visit)
            } else {
                visit(child)
            }
        }
    }

    /// Calls `body` with `path` as a C string (the bytes hold no NUL: `representable`).
    static func withCPath<T>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) -> T) -> T {
        (path + [0]).withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { body($0) }
        }
    }
}
