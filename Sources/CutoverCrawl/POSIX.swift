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

    /// The entry names of an open directory, without `.` and `..`.
    static func readNames(_ handle: OpaquePointer) -> [[UInt8]] {
        var names: [[UInt8]] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: UInt8.self, capacity: 256) { bytes in
                    Array(UnsafeBufferPointer(start: bytes, count: strlen(UnsafeRawPointer(bytes).assumingMemoryBound(to: CChar.self))))
                }
            }
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            names.append(name)
        }
        return names
    }

    static func isDirectory(_ mode: mode_t) -> Bool { mode & S_IFMT == S_IFDIR }
    static func isRegular(_ mode: mode_t) -> Bool { mode & S_IFMT == S_IFREG }
    static func isSymlink(_ mode: mode_t) -> Bool { mode & S_IFMT == S_IFLNK }

    static func mtime(_ info: stat) -> Double {
        Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1_000_000_000
    }

    static func message(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
