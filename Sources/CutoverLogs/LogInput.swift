import CCutoverSys
import CZlib
import Glibc

/// Why a log file cannot be read: one clear line each.
package enum LogImportError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(String, String)
    case notARegularFile(String, String)
    case readFailed(String, String)
    /// A stretch of the file counted nothing, or half its lines did not match the format: nothing
    /// of it was stored and the offset stays, so the right format reads it later.
    case formatMismatch(path: String, format: String, offset: Int64, lines: Int, bad: Int, otherHosts: Int, firstBad: String?)
    /// The import's time limit passed: what was read is stored (up to `offset`), the rest is read by
    /// the next import.
    case timeLimit(path: String, seconds: Double, offset: Int64)

    package var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "\(path): cannot open: \(reason)"
        case .notARegularFile(let path, let kind): "\(path): is \(kind), not a log file"
        case .readFailed(let path, let reason): "\(path): read failed: \(reason)"
        case .formatMismatch(let path, let format, let offset, let lines, let bad, let otherHosts, let firstBad):
            "\(path): nothing stored from byte \(offset) on: with the LogFormat '\(format)', \(bad) of \(lines) lines do not match"
                + (otherHosts > 0 ? " and \(otherHosts) are for other virtual hosts" : "")
                + (firstBad.map { " (first: \($0))" } ?? "")
                + "; give the format that wrote the file (--format, or the site's accessLogFormat) or --vhost; the file is not marked as read"
        case .timeLimit(let path, let seconds, let offset):
            "\(path): stopped at byte \(offset) after the import's time limit (\(seconds.formatted(.number.precision(.fractionLength(0...1)))) s): "
                + "what was read is stored, the rest is read by the next import"
        }
    }
}

/// One open log: a plain file, a gzip file (rotated logs, recognised by their magic bytes, not
/// their name) or standard input. Reads decompressed content bytes.
final class LogInput {
    let path: String
    let device: Int64
    let inode: Int64
    let size: Int64
    let isGzip: Bool
    /// Standard input: read once, whole, nothing remembered.
    let isStream: Bool
    private let descriptor: Int32
    private var gzip: gzFile?

    init(path: String) throws(LogImportError) {
        self.path = path
        if path == "-" {
            descriptor = 0
            device = 0
            inode = 0
            size = 0
            isGzip = false
            isStream = true
            return
        }
        // O_NONBLOCK: opening a FIFO must not wait for a writer; the type check refuses it next.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw .cannotOpen(path, String(cString: strerror(errno))) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw .cannotOpen(path, reason)
        }
        let kind = status.st_mode & S_IFMT
        guard kind == S_IFREG else {
            close(descriptor)
            let name =
                switch kind {
                case S_IFDIR: "a directory"
                case S_IFIFO: "a FIFO"
                case S_IFSOCK: "a socket"
                case S_IFCHR: "a character device"
                case S_IFBLK: "a block device"
                default: "not a regular file"
                }
            throw .notARegularFile(path, name)
        }
        // /proc/kmsg passes the type check and blocks a reader for ever; nothing on a kernel
        // file system is a log.
        if cutover_fd_is_pseudo_fs(descriptor) == 1 {
            close(descriptor)
            throw .notARegularFile(path, "a kernel file (proc, sysfs, ...)")
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
        self.descriptor = descriptor
        device = Int64(status.st_dev)
        inode = Int64(status.st_ino)
        size = Int64(status.st_size)
        isStream = false
        var magic: (UInt8, UInt8) = (0, 0)
        let count = withUnsafeMutableBytes(of: &magic) { pread(descriptor, $0.baseAddress, 2, 0) }
        isGzip = count == 2 && magic == (0x1f, 0x8b)
        if isGzip {
            // gzdopen takes its own descriptor so that close() below and gzclose() do not collide.
            gzip = gzdopen(dup(descriptor), "rb")
            guard gzip != nil else {
                close(descriptor)
                throw .cannotOpen(path, "not a readable gzip file")
            }
            gzbuffer(gzip, 1 << 20)
        }
    }

    deinit {
        if let gzip { gzclose(gzip) }
        if !isStream { close(descriptor) }
    }

    /// Reads up to `count` content bytes; 0 at the end.
    func read(into buffer: UnsafeMutableRawPointer, count: Int) throws(LogImportError) -> Int {
        if let gzip { return try Self.gzipRead(gzip, into: buffer, count: count, path: path) }
        while true {
            let read = Glibc.read(descriptor, buffer, count)
            if read >= 0 { return read }
            if errno == EINTR { continue }
            throw .readFailed(path, String(cString: strerror(errno)))
        }
    }

    /// Reads from a gzip stream. zlib reports a truncated file only once, with the data before
    /// the cut, and then answers 0 as at a clean end: the error code after a 0 tells them apart.
    static func gzipRead(_ gzip: gzFile, into buffer: UnsafeMutableRawPointer, count: Int, path: String) throws(LogImportError) -> Int {
        let read = gzread(gzip, buffer, UInt32(min(count, Int(Int32.max))))
        var code: Int32 = 0
        let message = gzerror(gzip, &code).map { String(cString: $0) } ?? "corrupt gzip data"
        if read < 0 || (read == 0 && code != Z_OK) {
            throw .readFailed(path, code == Z_BUF_ERROR ? "truncated gzip data (unexpected end of file)" : "corrupt gzip data: \(message)")
        }
        return Int(read)
    }

    /// Decompresses the whole file once, through a handle of its own, and throws if any member is
    /// truncated or corrupt: a gzip file's stretches are stored only when all of it is sound.
    func verifyGzip(isCancelled: () -> Bool) throws {
        guard isGzip else { return }
        // A new open file description of the same file (not dup: a dup shares the offset that
        // the import's own gzip handle reads from).
        let own = open("/proc/self/fd/\(descriptor)", O_RDONLY | O_CLOEXEC)
        guard own >= 0, let check = gzdopen(own, "rb") else {
            if own >= 0 { close(own) }
            throw LogImportError.cannotOpen(path, "not a readable gzip file")
        }
        defer { gzclose(check) }
        gzbuffer(check, 1 << 20)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while try Self.gzipRead(check, into: buffer, count: 1 << 20, path: path) > 0 {
            if isCancelled() { throw CancellationError() }
        }
    }

    /// The first `count` content bytes (fewer for a shorter file); the next read starts at 0.
    func prefix(_ count: Int) throws(LogImportError) -> [UInt8] {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 1)
        defer { buffer.deallocate() }
        var filled = 0
        while filled < count {
            let read = try read(into: buffer + filled, count: count - filled)
            if read == 0 { break }
            filled += read
        }
        try seek(to: 0)
        return Array(UnsafeRawBufferPointer(start: buffer, count: filled))
    }

    /// Moves to content offset `offset` (a gzip file decompresses up to it). Returns false when
    /// the content is shorter.
    @discardableResult
    func seek(to offset: Int64) throws(LogImportError) -> Bool {
        if let gzip {
            if gzseek(gzip, Int(offset), SEEK_SET) < 0 { throw .readFailed(path, "cannot seek in gzip data") }
            return gztell(gzip) == Int(offset)
        }
        guard lseek(descriptor, off_t(offset), SEEK_SET) >= 0 else { throw .readFailed(path, String(cString: strerror(errno))) }
        return offset <= size
    }
}

/// FNV-1a, 64 bits, as 16 hex digits: the fingerprint of a log's first bytes.
func fingerprint(_ bytes: ArraySlice<UInt8>) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    let digits = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
}
