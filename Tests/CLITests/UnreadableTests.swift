import CutoverTestSupport
import Foundation
import Testing

/// Unreadable files and folders, crawled by an unprivileged user (root reads everything).
@Suite(.enabled(if: Integration.isRoot || Integration.isCI, "needs root to switch to the 'nobody' user"))
struct UnreadableTests {
    /// Copies the binary and its resource bundle where 'nobody' can run them.
    func unprivilegedCLI(in folder: TemporaryDirectory) throws -> String {
        let source = URL(fileURLWithPath: Subprocess.cutoverBinary)
        let bin = folder.appending("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: source.path, toPath: "\(bin)/cutover")
        let bundle = source.deletingLastPathComponent().appendingPathComponent("cutover_CutoverStore.resources")
        try FileManager.default.copyItem(atPath: bundle.path, toPath: "\(bin)/cutover_CutoverStore.resources")
        try Subprocess.run("/bin/chmod", ["-R", "a+rX", bin])
        return "\(bin)/cutover"
    }

    func asNobody(_ binary: String, _ arguments: [String], in folder: TemporaryDirectory) throws -> ProcessResult {
        try Subprocess.run(
            "/usr/bin/setpriv",
            ["--reuid=65534", "--regid=65534", "--clear-groups", binary] + arguments,
            currentDirectory: folder.path
        )
    }

    @Test func unreadableFilesAndFoldersAreIssuesNotFailures() throws {
        let folder = try TemporaryDirectory(prefix: "unreadable")
        defer { folder.remove() }
        let binary = try unprivilegedCLI(in: folder)
        try folder.write("www/ok.php")
        try folder.write("www/secret.php")
        try folder.write("www/private/inner.php")
        try Subprocess.run("/bin/chmod", ["777", folder.path])
        try Subprocess.run("/bin/chmod", ["000", folder.appending("www/secret.php"), folder.appending("www/private")])
        let result = try asNobody(binary, ["crawl", "--db", folder.appending("db.sqlite"), "--docroot", "www", "--json"], in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let issues = try #require(report["issues"] as? [[String: Any]])
        let unreadable = issues.filter { $0["kind"] as? String == "unreadable" }.compactMap { $0["filePath"] as? String }.sorted()
        #expect(unreadable == ["private", "secret.php"])
        let urls = try asNobody(binary, ["urls", "--db", folder.appending("db.sqlite"), "--json"], in: folder)
        let paths = try #require(try JSONSerialization.jsonObject(with: Data(urls.stdout.utf8)) as? [[String: Any]]).compactMap {
            $0["path"] as? String
        }
        #expect(paths == ["/ok.php", "/secret.php"])  // recorded (Apache would answer 403) but without a hash
    }

    @Test func unreadableDocrootIsAClearError() throws {
        let folder = try TemporaryDirectory(prefix: "unreadable")
        defer { folder.remove() }
        let binary = try unprivilegedCLI(in: folder)
        try folder.write("www/ok.php")
        try Subprocess.run("/bin/chmod", ["777", folder.path])
        try Subprocess.run("/bin/chmod", ["000", folder.appending("www")])
        let result = try asNobody(binary, ["crawl", "--db", folder.appending("db.sqlite"), "--docroot", "www"], in: folder)
        #expect(result.status != 0)
        #expect(result.stderr.contains("cannot be read: Permission denied"), "\(result.stderr)")
    }
}
