import CutoverTestSupport
import Foundation
import Testing

/// Why Cutover has no `<Files>` export form (issue #13, part 5): measured here on every run, so
/// the README's claim stays true for the Apache that CI installs.
@Suite(.enabled(if: Integration.enabled, "needs apache2 and libapache2-mod-php (always runs when CI=true)"))
struct FilesSectionTests {
    static let flagRule = """
            RewriteEngine On
            RewriteCond %{ENV:CUTOVER_FLIP} =swift
            RewriteCond %{THE_REQUEST} "^\\S+\\s+(/[^?\\s]*)"
            RewriteRule ^ "BACKEND%1" [P,L,NE,QSA,NS]
        """

    func answers(directoryConfig: String, serverConfig: String = "") async throws -> [String: String] {
        let docroot = try TemporaryDirectory(prefix: "files")
        defer { docroot.remove() }
        for file in ["page-1.php", "sub/page-1.php", "page-2.php"] { try docroot.write(file, "<?php echo 'php \(file)';") }
        let backend = RecordingBackend()
        try await backend.start()
        let apache = try ApacheServer(
            docroot: docroot.path,
            directoryConfig: directoryConfig.replacingOccurrences(of: "BACKEND", with: backend.baseURL),
            serverConfig: serverConfig.replacingOccurrences(of: "DOCROOT", with: docroot.path)
        )
        #expect(try await offPool { try apache.configTest() }.status == 0)
        try await offPool { try apache.start() }
        defer { apache.shutdown() }
        var result: [String: String] = [:]
        for path in ["/page-1.php", "/sub/page-1.php", "/page-2.php"] {
            result[path] = try await RawHTTP.send(port: apache.port, method: "GET", path: path).body.hasPrefix("swift") ? "swift" : "php"
        }
        await backend.stop()
        return result
    }

    /// A `<Files>` section in the docroot's `<Directory>` applies to every subdirectory: flipping
    /// `/page-1.php` this way also flips `/sub/page-1.php`.
    @Test func filesInTheDocrootDirectoryMatchesEverySubdirectory() async throws {
        let marked = """
            <Files "page-1.php">
                SetEnvIf Request_URI "^" CUTOVER_FLIP=swift
            </Files>
            """
        let result = try await answers(directoryConfig: marked + "\n" + Self.flagRule)
        #expect(result == ["/page-1.php": "swift", "/sub/page-1.php": "swift", "/page-2.php": "php"])
    }

    /// Anchoring the folder with `<DirectoryMatch "^DOCROOT$">` does not scope it either: the
    /// section never applies to the file at all.
    @Test func directoryMatchAnchoredToTheDocrootNeverApplies() async throws {
        let anchored = """
            <DirectoryMatch "^DOCROOT$">
                <Files "page-1.php">
                    SetEnvIf Request_URI "^" CUTOVER_FLIP=swift
                </Files>
            </DirectoryMatch>
            """
        let result = try await answers(directoryConfig: Self.flagRule, serverConfig: anchored)
        #expect(result == ["/page-1.php": "php", "/sub/page-1.php": "php", "/page-2.php": "php"])
    }
}
