import Crypto
import CutoverCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// SHA-256 of a file's content, read in chunks so large files do not fill memory.
enum ContentHasher {
    enum Failure: Error {
        case unreadable(String)
    }

    /// The read buffer size; `hash(fileAt:buffer:)` takes one of these so a worker reuses it
    /// across files (a fresh 64 KiB allocation per file made glibc give memory back and fault
    /// it in again on every file).
    static let bufferSize = 64 * 1024

    static func hash(fileAt path: UnsafePointer<CChar>, buffer: UnsafeMutableRawBufferPointer) -> Result<SHA256.Digest, Failure> {
        // O_NONBLOCK: a file swapped for a FIFO since the walk must not block the open; the
        // fstat then refuses anything that is not (still) a regular file.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { return .failure(.unreadable(POSIX.message(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, POSIX.isRegular(info.st_mode) else { return .failure(.unreadable("no longer a regular file")) }
        var hasher = SHA256()
        while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN { return .failure(.unreadable("reading would block (not a regular disk file)")) }
                return .failure(.unreadable(POSIX.message(errno)))
            }
            if count == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
        return .success(hasher.finalize())
    }
}
