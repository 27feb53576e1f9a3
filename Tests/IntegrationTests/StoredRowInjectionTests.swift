import CutoverCore
import CutoverTestSupport
import Foundation
import GRDB
import Testing

/// A database is data someone else may have written (a restored backup, the service account, an
/// older version): every column that reaches an export is written here straight into SQLite with
/// hostile text, for every export form. The export either refuses with one line and prints
/// nothing, or renders text Apache accepts; the marker module never loads.
@Suite(.enabled(if: Integration.enabled, "needs apache2 and libapache2-mod-php (always runs when CI=true)"))
struct StoredRowInjectionTests {
    /// One stored value: the SQL that writes `?` (the hostile text) into it, and whether the site
    /// must be a front-controller site for the value to be rendered.
    struct Column: Sendable, CustomStringConvertible {
        var description: String
        var sql: String
        var frontController = false
        /// Whether a value needs a leading '/' (URL paths) to get past the cheapest checks.
        var path = true
        /// Written into config text as it is stored (not only `\xHH`-escaped in a comment, or not at all).
        var raw = true
    }

    static let columns: [Column] = [
        Column(description: "urls.path of a flipped page", sql: "UPDATE urls SET path = ? WHERE path = '/page.php'"),
        Column(
            description: "urls.path of a flipped query page",
            sql: "UPDATE urls SET path = '/page.php?id=' || substr(?, 2) WHERE path = '/page.php'"
        ),
        Column(description: "urls.path of a redirected page", sql: "UPDATE urls SET path = ? WHERE path = '/old.php'"),
        Column(description: "urls.redirect_to", sql: "UPDATE urls SET redirect_to = ? WHERE path = '/old.php'"),
        Column(description: "urls.path of a flipped route", sql: "UPDATE urls SET path = ? WHERE path = '/page.php'", frontController: true),
        Column(
            description: "route_prefixes.prefix",
            sql: "INSERT INTO route_prefixes (site_id, prefix, created_at) SELECT id, ?, '2026-12-06' FROM sites",
            frontController: true
        ),
        Column(description: "htaccess_files.directory", sql: "UPDATE htaccess_files SET directory = substr(?, 2)", raw: false),
        Column(
            description: "htaccess_files.directory (front controller)",
            sql: "UPDATE htaccess_files SET directory = substr(?, 2)",
            frontController: true,
            raw: false
        ),
        Column(description: "sites.front_controller", sql: "UPDATE sites SET front_controller = ?"),
        Column(description: "sites.name", sql: "UPDATE sites SET name = ?", path: false),
        Column(description: "sites.docroot", sql: "UPDATE sites SET docroot = '/srv' || ?"),
        Column(description: "sites.backend_url", sql: "UPDATE sites SET backend_url = 'http://127.0.0.1:9' || ?"),
        Column(description: "sites.owner_header", sql: "UPDATE sites SET owner_header = ?", path: false),
        Column(description: "sites.directory_index", sql: "UPDATE sites SET directory_index = json_array(?)", path: false),
        Column(description: "sites.php_extensions", sql: "UPDATE sites SET php_extensions = json_array(?)", path: false),
        Column(description: "sites.access_log_format", sql: "UPDATE sites SET access_log_format = ?", path: false, raw: false),
    ]

    static func hostileValues(module: String) -> [String] {
        ConfigInjectionTests.hostileValues(module: module) + [
            "/new\nLoadModule evil_module \(module)\n#", "/new%0ALoadModule%20evil_module%20\(module)%0A%23", "/x\\",
            "/y\u{0B}LoadModule evil_module \(module)", "/z\u{85}w", "/ok\r#",
        ]
    }

    @Test(arguments: ExportForm.allCases)
    func everyStoredColumnIsRefusedOrInert(form: ExportForm) async throws {
        let folder = try TemporaryDirectory(prefix: "stored-\(form.rawValue)")
        defer { folder.remove() }
        let (module, marker) = try ConfigInjectionTests.markerModule(in: folder)
        try folder.write("htdocs/index.php", "<?php echo 1;")
        try folder.write("htdocs/page.php", "<?php echo 2;")
        try folder.write("htdocs/old.php", "<?php echo 3;")
        try folder.write("htdocs/blog/.htaccess", "RewriteEngine On\nRewriteRule . index.php [L]\n")
        try folder.write("htdocs/blog/index.php", "<?php echo 4;")
        let pristine = folder.appending("pristine.sqlite")
        let cutover = Subprocess.cutoverBinary
        for arguments in [
            ["crawl", "--site", "s", "--docroot", folder.appending("htdocs")],
            ["flip", "--site", "s", "/page.php", "--to", "swift"],
            ["flip", "--site", "s", "/old.php", "--to", "swift", "--redirect-to", "/new"],
        ] {
            let result = try await Subprocess.run(cutover, arguments + ["--db", pristine])
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
        }
        let check = ["export", "--site", "s", "--form", form.rawValue, "--map-file", folder.appending("flips.map"), "--check"]
        let clean = try await Subprocess.run(cutover, check + ["--db", pristine])
        #expect(clean.status == 0, "the untouched site exports: \(clean.stdout)\(clean.stderr)")

        var refused = 0
        for column in Self.columns {
            for raw in Self.hostileValues(module: module) {
                let value = column.path ? (raw.hasPrefix("/") ? raw : "/" + raw) : (raw.hasPrefix("/") ? String(raw.dropFirst()) : raw)
                let db = folder.appending("case.sqlite")
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) }
                try FileManager.default.copyItem(atPath: pristine, toPath: db)
                let queue = try DatabaseQueue(path: db)
                try await queue.write { db in
                    if column.frontController { try db.execute(sql: "UPDATE sites SET front_controller = '/index.php'") }
                    try db.execute(sql: column.sql, arguments: [value])
                }
                let site = try await queue.read { db in try String.fetchOne(db, sql: "SELECT name FROM sites")! }
                try queue.close()
                let siteArguments = check.map { $0 == "s" ? site : $0 }
                let result = try await Subprocess.run(cutover, siteArguments + ["--db", db])
                let shown = "\(column) = \(value.debugDescription) (\(form))"
                #expect(!FileManager.default.fileExists(atPath: marker), "\(shown) loaded the marker module")
                if column.raw, value.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" || $0.value == 0x0B }) {
                    #expect(result.status != 0, "\(shown) was exported: \(result.stdout)")
                }
                if result.status != 0 {
                    refused += 1
                    // Refused where it was rendered (one line on stderr), or by the check (a conflict it reports).
                    if result.stdout.isEmpty {
                        #expect(result.stderr.split(separator: "\n").count == 1, "\(shown): one clear line: \(result.stderr.debugDescription)")
                    }
                    #expect(!(result.stdout + result.stderr).contains("\nLoadModule"), "\(shown): the message echoes a raw line break")
                } else {
                    // Accepted: Apache's own test passed (--check), and no line of it is a directive Cutover did not write.
                    let plain = try await Subprocess.run(cutover, siteArguments.filter { $0 != "--check" } + ["--db", db])
                    for line in plain.stdout.split(separator: "\n") where line.contains("LoadModule") {
                        #expect(line.hasPrefix("#") || line.contains("RewriteRule"), "\(shown): \(line)")
                    }
                    #expect(!plain.stdout.split(separator: "\n").contains { $0.hasSuffix("\\") }, "\(shown): a line ends with a backslash")
                }
            }
        }
        #expect(refused > Self.columns.count, "most hostile values are refused (\(refused))")
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    /// Finding 17: on a front-controller site the export writes no `<Directory>` section, so a
    /// subfolder whose name could not be written into one is no conflict: `export --check` passes.
    @Test(arguments: ExportForm.allCases)
    func oddFolderNamesAreNoConflictOnAFrontControllerSite(form: ExportForm) async throws {
        let folder = try TemporaryDirectory(prefix: "fc-odd-\(form.rawValue)")
        defer { folder.remove() }
        try folder.write("htdocs/index.php", "<?php echo 1;")
        try folder.write("htdocs/a\"b$c/.htaccess", "RewriteEngine On\nRewriteRule . index.php [L]\n")
        try folder.write("htdocs/a\"b$c/page.php", "<?php echo 2;")
        let db = folder.appending("cutover.sqlite")
        let cutover = Subprocess.cutoverBinary
        let add = try await Subprocess.run(
            cutover,
            ["site", "add", "s", "--db", db, "--docroot", folder.appending("htdocs"), "--front-controller", "/index.php"]
        )
        #expect(add.status == 0, "\(add.stderr)")
        #expect(try await Subprocess.run(cutover, ["crawl", "--db", db, "--site", "s"]).status == 0)
        let check = try await Subprocess.run(
            cutover,
            ["export", "--db", db, "--site", "s", "--form", form.rawValue, "--map-file", folder.appending("flips.map"), "--check"]
        )
        if form == .htaccess {
            // The htaccess form has no <Directory> either; it only ever warned about subfolder rules.
            #expect(!check.stdout.contains("cannot be written into a <Directory>"), "\(check.stdout)")
        } else {
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        }
    }
}
