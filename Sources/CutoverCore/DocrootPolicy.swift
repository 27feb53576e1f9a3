import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Which folders may be a site's docroot. A crawl walks and hashes everything below it, so the
/// whole file system and the kernel's pseudo file systems are refused, by the lexically
/// normalised path (`/.`, `/srv/..`) and by the real path it resolves to (a symlink to `/proc`).
/// The docroot is stored and rendered as given: Apache matches `<Directory>` on the configured
/// path, so a symlinked DocumentRoot keeps working.
public enum DocrootPolicy {
    /// Top-level folders that are never a website: the whole file system, and kernel interfaces
    /// whose files can block a reader forever (`/proc/kmsg`) or are devices.
    public static let forbidden = ["/", "/proc", "/sys", "/dev"]

    public static func problem(_ docroot: String, resolve: (String) -> String?) -> String? {
        for candidate in [normalized(docroot), resolve(docroot).map(normalized)].compactMap({ $0 }) {
            if candidate == "/" { return "docroot '\(ConfigText.visible(docroot))' is the whole file system: give the site's DocumentRoot" }
            if let root = forbidden.dropFirst().first(where: { candidate == $0 || candidate.hasPrefix($0 + "/") }) {
                return "docroot '\(ConfigText.visible(docroot))' is inside \(root), a kernel file system, not a website"
            }
        }
        return nil
    }

    /// `.` and `..` segments resolved and repeated slashes removed, without touching the disk.
    public static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                _ = parts.popLast()
                continue
            }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// `realpath(3)`: the path with every symlink resolved, or nil when it does not exist.
    public static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
