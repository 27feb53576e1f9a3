import Foundation

/// Whether tests that need a real Apache + PHP can run here. In CI (`CI=true`) they always run,
/// so a missing install step fails loudly instead of skipping.
public enum Integration {
    public static var isCI: Bool {
        let value = ProcessInfo.processInfo.environment["CI"]?.lowercased()
        return value == "true" || value == "1"
    }

    public static var apacheInstalled: Bool {
        FileManager.default.isExecutableFile(atPath: ApacheServer.binary) && ApacheServer.phpModule != nil
    }

    /// Use as `.enabled(if: Integration.enabled)`.
    public static var enabled: Bool { isCI || apacheInstalled }

    public static var isRoot: Bool { getuid() == 0 }
}
