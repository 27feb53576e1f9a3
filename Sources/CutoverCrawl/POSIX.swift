import CCutoverSys
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Thin wrappers over the C calls the walker and hasher use, taking byte paths.
enum POSIX {
    static func withCPath<T>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) -> T) -> T {
        (path + [0]).withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { body($0) }
        }
    }

    /// `stat(2)`: follows symbolic links.
    static func status(_ path: [UInt8], _ info: inout stat) -> Int32 {
        withCPath(path) { stat($0, &info) }
    }

    /// `lstat(2)`: describes a symbolic link itself.
    static func linkStatus(_ path: [UInt8], _ info: inout stat) -> Int32 {
        withCPath(path) { lstat($0, &info) }
    }

    /// `fstatat(2)` relative to an open directory, not following a final symbolic link.
    static func linkStatus(at directory: Int32, _ name: UnsafePointer<CChar>, _ info: inout stat) -> Int32 {
        fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW)
    }

    /// `fstatat(2)` relative to an open directory, following symbolic links.
    static func status(at directory: Int32, _ name: UnsafePointer<CChar>, _ info: inout stat) -> Int32 {
        fstatat(directory, name, &info, 0)
    }

    /// Opens a subdirectory of an open directory. A symbolic link is followed: the walk has
    /// checked where it leads (realpath) before it asks.
    static func openDirectory(at directory: Int32, _ name: UnsafePointer<CChar>) -> OpaquePointer? {
        let fd = openat(directory, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        guard let handle = fdopendir(fd) else {
            close(fd)
            return nil
        }
        return handle
    }

    static func realpath(_ path: [UInt8]) -> [UInt8]? {
        withCPath(path) { cPath -> [UInt8]? in
            guard let resolved = Glibc.realpath(cPath, nil) else { return nil }
            defer { free(resolved) }
            return Array(UnsafeBufferPointer(start: UnsafeRawPointer(resolved).assumingMemoryBound(to: UInt8.self), count: strlen(resolved)))
        }
    }

    static func openDirectory(_ path: [UInt8]) -> OpaquePointer? {
        withCPath(path) { opendir($0) }
    }

    /// The names of a directory's entries, in one buffer, each followed by a NUL so it can be
    /// passed to `fstatat` as it is; `names` is sorted by bytes (the walk's order).
    struct Listing {
        var bytes: [UInt8] = []
        var names: [(start: UInt32, end: UInt32)] = []
    }

    /// The entry names of an open directory, without `.` and `..`. One buffer for all names:
    /// an array per name was an allocation per file of a million-file walk.
    static func readNames(_ handle: OpaquePointer) -> Listing {
        var listing = Listing()
        while let entry = readdir(handle) {
            withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: UInt8.self, capacity: 256) { bytes in
                    let count = strlen(UnsafeRawPointer(bytes).assumingMemoryBound(to: CChar.self))
                    if count == 1 && bytes[0] == UInt8(ascii: ".") { return }
                    if count == 2 && bytes[0] == UInt8(ascii: ".") && bytes[1] == UInt8(ascii: ".") { return }
                    let start = UInt32(listing.bytes.count)
                    listing.bytes.append(contentsOf: UnsafeBufferPointer(start: bytes, count: count + 1))
                    listing.names.append((start, start + UInt32(count)))
                }
            }
        }
        listing.bytes.withUnsafeBufferPointer { bytes in
            let base = bytes.baseAddress
            listing.names.sort { lhs, rhs in
                let common = Int(min(lhs.end - lhs.start, rhs.end - rhs.start))
                let order = memcmp(base! + Int(lhs.start), base! + Int(rhs.start), common)
                return order != 0 ? order < 0 : lhs.end - lhs.start < rhs.end - rhs.start
            }
        }
        return listing
    }

    static func isDirectory(_ mode: mode_t) -> Bool { mode & S_IFMT == S_IFDIR }
    static func isRegular(_ mode: mode_t) -> Bool { mode & S_IFMT == S_IFREG }
    static func isSymlink(_ mode: mode_t) -> Bool { mode & S_IFMT == S_IFLNK }

    static func mtime(_ info: stat) -> Double {
        Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1_000_000_000
    }

    /// True when `path` lies on a kernel file system (`cutover_is_pseudo_fs_type`: proc, sysfs, ...).
    static func isPseudoFileSystem(_ path: [UInt8]) -> Bool {
        let type = withCPath(path) { cutover_fs_type($0) }
        return type != -1 && cutover_is_pseudo_fs_type(type) == 1
    }

    /// Up to `limit` bytes of a regular file (opened non-blocking, checked with fstat), or nil.
    static func readFile(_ path: [UInt8], limit: Int) -> [UInt8]? {
        let fd = withCPath(path) { open($0, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY) }
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, isRegular(info.st_mode) else { return nil }
        var bytes = [UInt8](repeating: 0, count: min(limit, max(0, Int(info.st_size))))
        var filled = 0
        while filled < bytes.count {
            let count = bytes[filled...].withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            filled += count
        }
        return Array(bytes[0..<filled])
    }

    static func message(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
