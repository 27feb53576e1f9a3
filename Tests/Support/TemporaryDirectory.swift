import Foundation

/// A fresh directory under /tmp, readable by Apache's www-data workers, removed by `remove()`.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(prefix: String = "cutover-test") throws {
        let base = FileManager.default.temporaryDirectory.path
        path = "\(base)/\(prefix)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
    }

    public var url: URL { URL(fileURLWithPath: path) }

    public func appending(_ relative: String) -> String { "\(path)/\(relative)" }

    /// Writes `contents` at `relative`, creating parent folders.
    @discardableResult
    public func write(_ relative: String, _ contents: String = "") throws -> String {
        let file = appending(relative)
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o755]
        )
        try Data(contents.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
