#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which URLs a probe leaves alone: paths on the site's deny-list (`probeSkip` globs).
public enum ProbeSkip {
    public static func isValidGlob(_ glob: String) -> Bool {
        guard (1...200).contains(glob.utf8.count), glob.hasPrefix("/") || glob.hasPrefix("*") else { return false }
        return !glob.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }

    /// The first glob that `path` (its query left out) matches, ignoring case; `*` also matches `/`.
    public static func match(_ path: String, globs: [String]) -> String? {
        let bare = String(path.prefix { $0 != "?" }).lowercased()
        return globs.first { fnmatch($0.lowercased(), bare, 0) == 0 }
    }
}
