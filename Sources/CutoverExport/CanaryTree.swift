import CutoverCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where Apache reads the canaries' weights (#29), as files it tests with one `stat` each, so a
/// weight changes without a reload and costs no map look-up:
///
/// - `MAP.canary-weights/NAME/` holds one empty file per bucket on Swift: `0` … `WEIGHT-1`;
/// - `MAP.canary-pages/PATH.cutover-canary` is a link to its canary's folder, one per page;
/// - `MAP.buckets` is the `rnd:` map a new visitor's bucket is drawn from.
///
/// A request for a canary's page finds its link (`-d`), and it is on Swift when its visitor's
/// bucket is a file in that folder (`-f …/BUCKET`). Each file's creation or removal is atomic,
/// buckets are added from the lowest and removed from the highest, and every page of a canary
/// reads the same folder: a visitor never sees two sides within one canary, and a raised weight
/// only moves visitors from PHP to Swift. (A weights map cost Apache a look-up per canary
/// request, a dbm open on each child's cache miss: 0.66–0.82 × the throughput of no canary with
/// 100 canaries, `bench-apache.py canaries`.)
package enum CanaryTree {
    package static let suffix = ".cutover-canary"

    package static func pagesFolder(_ mapFilePath: String) -> String { mapFilePath + ".canary-pages" }
    package static func weightsFolder(_ mapFilePath: String) -> String { mapFilePath + ".canary-weights" }

    /// A running canary as the files hold it.
    package struct Canary: Sendable, Hashable {
        package var name: String
        /// 0-100.
        package var weight: Int
        /// Its pages' map keys (decoded URL paths).
        package var keys: [[UInt8]]

        package init(name: String, weight: Int, keys: [[UInt8]]) {
            self.name = name
            self.weight = weight
            self.keys = keys
        }
    }

    /// Why `keys` cannot be links under the pages folder (nil when they can).
    static func problem(_ keys: [[UInt8]]) -> String? {
        if let key = keys.first(where: { !MarkerTree.representable($0, suffix: suffix) }) {
            return "'\(ConfigText.visible(String(decoding: key, as: UTF8.self)))' cannot be a file name"
        }
        if let key = MarkerTree.clashing(keys, suffix: suffix).first {
            return "'\(ConfigText.visible(String(decoding: key, as: UTF8.self)))' would be a link where another page needs a folder"
        }
        return nil
    }

    /// The `rnd:` map each new visitor's bucket is drawn from (`MAP.buckets`), written unless it
    /// is there already (a node agent writes it too: the export's `RewriteMap` needs the file).
    package static func writeBucketsMap(_ mapFilePath: String) throws {
        let path = mapFilePath + ".buckets"
        if FileManager.default.contents(atPath: path).map({ Array($0) }) == CanaryRules.bucketsFile { return }
        try Exporter.writeMapFile(CanaryRules.bucketsFile, to: path)
    }

    /// The fleet's plan version the folders were written from by a node agent (nil: none).
    package static func servedVersion(_ mapFilePath: String) -> String? { MarkerTree.servedVersion(pagesFolder(mapFilePath)) }

    /// Makes the folders hold exactly `canaries`: buckets first (a canary's folder exists before
    /// a page links to it), then the pages' links, then the folders of canaries that ended; then
    /// `version` beside the pages folder (a node agent's plan version). One writer at a time (a
    /// lock file beside the pages folder).
    package static func write(_ canaries: [Canary], mapFilePath: String, version: String? = nil) throws {
        let pages = pagesFolder(mapFilePath)
        let weights = weightsFolder(mapFilePath)
        try MarkerTree.checkFolder(pages)
        try MarkerTree.checkFolder(weights)
        if let problem = problem(canaries.flatMap(\.keys)) { throw ExportCheckError.cannotWrite(pages, problem) }
        for canary in canaries where !Canary.isValidName(canary.name) {
            throw ExportCheckError.cannotWrite(weights, "'\(ConfigText.visible(canary.name))' is not a canary name")
        }
        try writeBucketsMap(mapFilePath)
        try MarkerTree.makeFolder(Array(pages.utf8))
        try MarkerTree.makeFolder(Array(weights.utf8))
        let lock = open(pages + ".lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard lock >= 0 else { throw ExportCheckError.cannotWrite(pages, String(cString: strerror(errno))) }
        defer { close(lock) }
        guard flock(lock, LOCK_EX) == 0 else { throw ExportCheckError.cannotWrite(pages, String(cString: strerror(errno))) }

        for canary in canaries { try writeBuckets(weight: max(0, min(100, canary.weight)), folder: weights + "/" + canary.name) }

        let root = Array(pages.utf8)
        let suffixBytes = Array(suffix.utf8)
        var wanted: [[UInt8]: [UInt8]] = [:]
        for canary in canaries {
            for key in canary.keys { wanted[root + key + suffixBytes] = Array((weights + "/" + canary.name).utf8) }
        }
        // Whatever else is in the pages folder goes: links of pages that left their canary, and
        // an earlier release's marker files.
        var present: [[UInt8]] = []
        try MarkerTree.walk(root, relative: []) { present.append(root + [UInt8(ascii: "/")] + $0) }
        for path in present where wanted[path] == nil {
            _ = MarkerTree.withCPath(path) { unlink($0) }
            var parent = path
            while let slash = parent.lastIndex(of: UInt8(ascii: "/")), slash > root.count {
                parent = Array(parent[..<slash])
                if MarkerTree.withCPath(parent, { rmdir($0) }) != 0 { break }
            }
        }
        for (path, target) in wanted.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) where linkTarget(path) != target {
            if let slash = path.lastIndex(of: UInt8(ascii: "/")) { try MarkerTree.makeFolder(Array(path[..<slash]), folderLength: root.count) }
            // A new link beside it, renamed over it: a request sees the old link or the new one.
            let temporary = path + Array(".\(getpid()).tmp".utf8)
            _ = MarkerTree.withCPath(temporary) { unlink($0) }
            let made = MarkerTree.withCPath(target) { target in MarkerTree.withCPath(temporary) { symlink(target, $0) } }
            guard made == 0, MarkerTree.withCPath(temporary, { from in MarkerTree.withCPath(path) { rename(from, $0) } }) == 0 else {
                throw ExportCheckError.cannotWrite(String(decoding: path, as: UTF8.self), String(cString: strerror(errno)))
            }
        }

        let names = Set(canaries.map(\.name))
        for name in try entries(of: weights) where !names.contains(name) {
            let folder = weights + "/" + name
            var info = stat()
            if lstat(folder, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
                try writeBuckets(weight: 0, folder: folder)
                rmdir(folder)
            } else {
                unlink(folder)
            }
        }
        if let version { try MarkerTree.writeVersion(version, folder: pages) }
    }

    /// Makes `folder` hold exactly the files `0` … `weight-1`: the missing ones from the lowest,
    /// then the extra ones from the highest.
    private static func writeBuckets(weight: Int, folder: String) throws {
        if mkdir(folder, 0o755) != 0 && errno != EEXIST { throw ExportCheckError.cannotWrite(folder, String(cString: strerror(errno))) }
        var info = stat()
        guard lstat(folder, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw ExportCheckError.cannotWrite(folder, "not a folder (a link or a file is in the way)")
        }
        let present = try entries(of: folder)
        for bucket in 0..<weight where !present.contains(String(bucket)) {
            let descriptor = open(folder + "/\(bucket)", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0o644)
            guard descriptor >= 0 else { throw ExportCheckError.cannotWrite(folder + "/\(bucket)", String(cString: strerror(errno))) }
            fchmod(descriptor, 0o644)
            close(descriptor)
        }
        let extra = present.filter { Int($0).map { !(0..<weight).contains($0) } ?? true }
        for name in extra.sorted(by: { (Int($0) ?? .max) > (Int($1) ?? .max) }) { unlink(folder + "/" + name) }
    }

    /// The names in `folder` (none when it does not exist).
    private static func entries(of folder: String) throws -> [String] {
        guard let directory = opendir(folder) else {
            if errno == ENOENT { return [] }
            throw ExportCheckError.cannotWrite(folder, String(cString: strerror(errno)))
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Where the link at `path` points (nil: no link there).
    private static func linkTarget(_ path: [UInt8]) -> [UInt8]? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = MarkerTree.withCPath(path) { readlink($0, &buffer, buffer.count) }
        return count < 0 ? nil : buffer[..<count].map { UInt8(bitPattern: $0) }
    }
}

extension CanaryTree.Canary {
    static func isValidName(_ name: String) -> Bool { CutoverCore.Canary.isValidName(name) }
}
