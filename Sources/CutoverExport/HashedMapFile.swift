import CGDBM
import CutoverCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The dbm export form's map (#28.1): a GNU dbm hash file Apache reads with
/// `RewriteMap NAME "dbm=gdbm:PATH"`, one key per flipped page, each found with one hashed
/// look-up instead of a `txt:` map's line-by-line search. Written whole under a temporary name
/// in the map's folder and renamed over the old one: a request sees the old map or the new one,
/// never half of one, and mod_rewrite re-opens it by its mtime, so flips need no reload. (SDBM
/// is two files: no rename publishes both at once.)
package enum HashedMapFile {
    /// Keys longer than this stay per-page rules (Apache's lookups of long keys in a dbm map are
    /// where drivers differ; a URL path this long is rare).
    package static let maxKeyBytes = 1024

    /// Writes `keys`, each with the value `value`, and the `extra` entries to `path`: keys and
    /// values as bytes without a trailing NUL, as `httxt2dbm` writes them and mod_rewrite looks
    /// them up.
    package static func write(keys: [[UInt8]], value: String = "swift", extra: [(key: String, value: String)] = [], to path: String) throws {
        try write(entries: keys.map { ($0, Array(value.utf8)) } + extra.map { (Array($0.key.utf8), Array($0.value.utf8)) }, to: path)
    }

    /// Writes each key with its own value (the canaries' weights).
    package static func write(entries: [(key: [UInt8], value: [UInt8])], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp").path
        defer { unlink(temporary) }
        guard let file = gdbm_open(temporary, 0, GDBM_NEWDB, 0o644, nil) else {
            throw ExportCheckError.cannotWrite(path, "gdbm_open failed: \(String(cString: strerror(errno)))")
        }
        var closed = false
        defer { if !closed { gdbm_close(file) } }
        for var (key, valueBytes) in entries {
            let stored = key.withUnsafeMutableBytes { keyBuffer in
                valueBytes.withUnsafeMutableBytes { valueBuffer in
                    gdbm_store(
                        file,
                        datum(dptr: keyBuffer.baseAddress?.assumingMemoryBound(to: CChar.self), dsize: Int32(keyBuffer.count)),
                        datum(dptr: valueBuffer.baseAddress?.assumingMemoryBound(to: CChar.self), dsize: Int32(valueBuffer.count)),
                        GDBM_REPLACE
                    )
                }
            }
            guard stored == 0 else { throw ExportCheckError.cannotWrite(path, "gdbm_store failed for a key of \(key.count) bytes") }
        }
        guard gdbm_sync(file) == 0 else { throw ExportCheckError.cannotWrite(path, "gdbm_sync failed") }
        closed = true
        gdbm_close(file)
        guard chmod(temporary, 0o644) == 0, rename(temporary, path) == 0 else {
            throw ExportCheckError.cannotWrite(path, String(cString: strerror(errno)))
        }
    }

    /// The value stored for `key` in the map at `path` (nil: no such key, or no readable map).
    package static func value(forKey key: String, in path: String) -> String? {
        guard let file = gdbm_open(path, 0, GDBM_READER, 0, nil) else { return nil }
        defer { gdbm_close(file) }
        var keyBytes = Array(key.utf8)
        let found = keyBytes.withUnsafeMutableBytes { buffer in
            gdbm_fetch(file, datum(dptr: buffer.baseAddress?.assumingMemoryBound(to: CChar.self), dsize: Int32(buffer.count)))
        }
        guard let pointer = found.dptr else { return nil }
        defer { free(pointer) }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: Int(found.dsize)), as: UTF8.self)
    }

    /// The entries of a rendered map file (`KEY VALUE` lines; `#` lines are comments).
    package static func entries(ofTextMap bytes: [UInt8]) -> [(key: [UInt8], value: [UInt8])] {
        bytes.split(separator: UInt8(ascii: "\n")).compactMap { line in
            guard line.first != UInt8(ascii: "#"), let space = line.lastIndex(of: UInt8(ascii: " ")) else { return nil }
            return (Array(line[line.startIndex..<space]), Array(line[(space + 1)...]))
        }
    }

    /// The keys of a rendered map file (`KEY swift` lines; `#` lines are comments).
    package static func keys(ofTextMap bytes: [UInt8]) -> [[UInt8]] {
        bytes.split(separator: UInt8(ascii: "\n")).compactMap { line -> [UInt8]? in
            guard line.first != UInt8(ascii: "#"), let space = line.lastIndex(of: UInt8(ascii: " ")) else { return nil }
            return Array(line[line.startIndex..<space])
        }
    }
}
