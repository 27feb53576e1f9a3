import Foundation

/// Where a site's `accessLogs` setting may lead when `cutover serve` reads it: regular files
/// under the log roots (`serve --log-root DIR`, repeatable; default `$APACHE_LOG_DIR`, i.e.
/// `/var/log/apache2`), judged by their real path, so neither a glob nor a symbolic link can
/// reach `/etc/shadow`, `/root` or `/proc`. Whoever may change a site's settings could otherwise
/// make the server read any file it can, and show its name, size and line count. Paths a user
/// names on the command line (`cutover logs import FILE`) are that user's own business.
package struct LogRoots: Sendable, Equatable {
    /// Real paths, without a trailing slash.
    package let roots: [String]

    package init(_ roots: [String]) {
        self.roots = roots.map { root in
            var real = Self.realPath(root) ?? root
            while real.count > 1, real.hasSuffix("/") { real.removeLast() }
            return real
        }
    }

    /// `$APACHE_LOG_DIR`, or Debian's `/var/log/apache2`.
    package static var defaultRoots: [String] {
        let variable = ProcessInfo.processInfo.environment["APACHE_LOG_DIR"] ?? ""
        return [variable.hasPrefix("/") ? variable : "/var/log/apache2"]
    }

    /// Why the server may not read `path`, or nil.
    package func problem(with path: String) -> String? {
        guard let real = Self.realPath(path) else { return "\(path): does not exist" }
        let inside = roots.contains { root in root == "/" || real == root || real.hasPrefix(root + "/") }
        guard inside else {
            return "\(path): outside the log roots (\(roots.joined(separator: ", "))); start `cutover serve` with --log-root to allow another folder"
        }
        return nil
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
