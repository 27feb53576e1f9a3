import CutoverCore
import CutoverExport
import CutoverStore
import CutoverTestSupport
import Foundation
import Testing

/// A legacy app whose pages are `index.php?page=…`, with the page key `/index.php` → `page`:
/// single pages flip to Swift in every export form, matched the way PHP reads the query string,
/// and roll back. Real Apache + mod_php, real requests.
@Suite(.enabled(if: Integration.enabled, "needs apache2 and libapache2-mod-php (always runs when CI=true)"))
struct QueryPageApacheTests {
    static let files = [
        "index.php": "<?php $p = $_GET['page'] ?? 'home'; echo 'php page ', is_array($p) ? 'array' : htmlspecialchars($p);",
        "contact.php": "<?php echo 'php contact';",
    ]

    static let flipped = ["/index.php?page=about", "/index.php?page=wiki%3Astart", "/index.php?page=a+b"]

    /// Request target → who must answer once the pages above are flipped.
    static let expectations: [(String, Owner)] = [
        ("/index.php?page=about", .swift), ("/index.php?page=abou%74", .swift), ("/index.php?x=1&page=about&y=%20", .swift),
        ("/index.php?page=other&page=about", .swift), ("/index.php?page=wiki:start", .swift), ("/index.php?page=wiki%3astart", .swift),
        ("/index.php?page=wiki%3Astart", .swift), ("/index.php?page=a%20b", .swift), ("/index.php?page=a+b", .swift),
        ("/index.php?pag%65=about", .swift), ("/index.php?page=about2", .php), ("/index.php?page=abou", .php), ("/index.php?xpage=about", .php),
        ("/index.php?page=about&page=other", .php), ("/index.php?page=about&page", .php), ("/index.php?page=about&page[]=x", .php),
        ("/index.php?page=about&page%5B%5D=x", .php), ("/index.php?page[]=about", .php), ("/index.php?page=ABOUT", .php),
        ("/index.php?page=a%2Bb", .php), ("/index.php", .php), ("/", .php), ("/contact.php?page=about", .php),
    ]

    /// Who answered each target, by the backend's own record of what reached it.
    func owners(_ live: LiveSite, _ targets: [String]) async throws -> [String: Owner] {
        var result: [String: Owner] = [:]
        for target in targets {
            let (swift, answer) = try await live.reachesSwift(target)
            if !swift { #expect(answer.body.contains("php "), "\(target): \(answer.status) \(answer.body)") }
            result[target] = swift ? .swift : .php
        }
        return result
    }

    @Test(arguments: ExportForm.allCases)
    func queryPagesFlipInEveryFormAndRollBack(form: ExportForm) async throws {
        let live = try await LiveSite(files: Self.files, directoryConfig: "AllowOverride All")
        defer { Task { await live.shutdown() } }
        try live.crawl()
        let site = try await live.configure { $0.pageKeys = [PageKey(script: "/index.php", key: "page")] }
        let flip = try await live.database.flip(siteID: site.id!, .paths(Self.flipped), to: .swift, reason: "ported")
        #expect(Set(flip.changed) == ["/index.php?page=about", "/index.php?page=wiki:start", "/index.php?page=a%20b"], "\(flip.changed)")

        try await live.install(form)
        let targets = Self.expectations.map(\.0)
        let seen = try await owners(live, targets)
        for (target, owner) in Self.expectations {
            #expect(seen[target] == owner, "\(form) \(target): \(seen[target].map(\.rawValue) ?? "none"), expected \(owner.rawValue)")
        }

        // The probe agrees: the flipped pages answer from Swift, the script itself from PHP.
        let report = try await live.probe()
        let observed = live.observed(report)
        #expect(observed["/index.php?page=about"] == .swift && observed["/index.php?page=wiki:start"] == .swift)
        #expect(observed["/index.php"] == .php && observed["/contact.php"] == .php)
        #expect(report.drifted.isEmpty, "\(report.drifted.map(\.target.path))")
        // Live and seen there: the three query pages are on Swift; the script, / and contact stay PHP.
        let counts = try await live.database.progress(of: site).counts
        #expect(counts.swift == 3 && counts.planned == 0 && counts.php == 3, "\(counts)")

        // Roll back: every target is PHP's again.
        try await live.database.flip(siteID: site.id!, .prefix("/index.php?page="), to: .php, reason: "roll back")
        try await live.install(form)
        let after = try await owners(live, targets)
        #expect(after.values.allSatisfy { $0 == .php }, "\(after.filter { $0.value != .php }.keys.sorted())")
    }
}
