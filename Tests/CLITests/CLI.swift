import CutoverTestSupport
import Foundation

/// Runs the built `cutover` binary in a temporary working directory.
struct CLI {
    let folder: TemporaryDirectory
    var db: String { folder.appending("cutover.sqlite") }

    init() throws { folder = try TemporaryDirectory(prefix: "cli") }

    @discardableResult
    func run(_ arguments: String...) throws -> ProcessResult {
        try Subprocess.run(Subprocess.cutoverBinary, arguments, currentDirectory: folder.path)
    }

    @discardableResult
    func run(_ arguments: [String]) throws -> ProcessResult {
        try Subprocess.run(Subprocess.cutoverBinary, arguments, currentDirectory: folder.path)
    }

    func json(_ arguments: String...) throws -> Any {
        let result = try Subprocess.run(Subprocess.cutoverBinary, arguments + ["--json"], currentDirectory: folder.path)
        guard result.status == 0 else { throw HarnessError("cutover \(arguments) failed: \(result.stderr)") }
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    }

    /// `run`, awaited: never blocks one of Swift Concurrency's threads (on 2 cores, two tests
    /// blocked in subprocesses starve every in-process backend of the live suites).
    @discardableResult
    func exec(_ arguments: String...) async throws -> ProcessResult {
        try await Subprocess.run(Subprocess.cutoverBinary, arguments, currentDirectory: folder.path)
    }

    @discardableResult
    func exec(_ arguments: [String]) async throws -> ProcessResult {
        try await Subprocess.run(Subprocess.cutoverBinary, arguments, currentDirectory: folder.path)
    }

    func execJSON(_ arguments: String...) async throws -> Any {
        let result = try await Subprocess.run(Subprocess.cutoverBinary, arguments + ["--json"], currentDirectory: folder.path)
        guard result.status == 0 else { throw HarnessError("cutover \(arguments) failed: \(result.stderr)") }
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    }

    func cleanup() { folder.remove() }
}
