import CutoverCore
import CutoverExport
import CutoverStore
import CutoverTestSupport
import Foundation
import Testing

/// Choosing the side through Apache (#27.1), in every export form on a real Apache + mod_php: a
/// request whose `X-Cutover-Side` carries the site's secret reaches the side it names, flipped or
/// not; without the secret (a wrong one, none, two headers) the header changes nothing; the PHP
/// side of a front-controller site is the app's own rules; the export never holds the secret.
@Suite(.enabled(if: Integration.enabled, "needs apache2 and libapache2-mod-php (always runs when CI=true)"))
struct SideHeaderApacheTests {
    static let files = [
        "index.php": "<?php echo 'php home';",
        "page.php": "<?php echo 'php page';",
        "other.php": "<?php echo 'php other';",
        "style.css": "body{}",
    ]

    /// The PHP side's answers: PHP for its pages, Apache for the rest.
    static let phpSide = ["/page.php": "php page", "/other.php": "php other", "/": "php home", "/style.css": "body{}"]

    @Test(arguments: ExportForm.allCases)
    func aRequestWithTheSecretReachesTheSideItNames(form: ExportForm) async throws {
        let live = try await LiveSite(files: Self.files, directoryConfig: "AllowOverride All")
        defer { Task { await live.shutdown() } }
        try await live.crawl()
        try await live.database.plan.flip(siteID: live.site.id, .paths(["/page.php"]), to: .swift, reason: "ported")
        let secret = try await live.database.sites.sideSecret(site: live.site)
        #expect(SideHeader.isValidSecret(secret))
        let rendered = try await live.install(form)
        #expect(!rendered.text.contains(secret), "only digests of the header values are written")
        #expect(rendered.text.contains(SideHeader.name))

        let swift = [SideHeader.name: SideHeader.value(.swift, secret: secret)]
        let php = [SideHeader.name: SideHeader.value(.php, secret: secret)]
        // Without the header, the plan: the flipped page and the missing URL are Swift's.
        #expect(try await live.reachesSwift("/page.php").swift)
        #expect(try await live.reachesSwift("/missing?a=1").swift)
        #expect(try await !live.reachesSwift("/other.php").swift)

        // Swift's side: every URL, a PHP page, a static file and the root included, with its query.
        for target in ["/other.php?x=1%202", "/style.css", "/", "/page.php", "/missing"] {
            let (reached, answer) = try await live.reachesSwift(target, headers: swift)
            #expect(reached && answer.body == "swift backend: \(target)\n", "\(form) \(target): \(answer.status) \(answer.body)")
            #expect(answer.headers["vary"]?.contains(SideHeader.name) != true, "reading the header adds nothing to Vary")
        }
        // PHP's side: the flipped page is PHP's again; a URL without a file is Apache's 404.
        for (target, body) in Self.phpSide {
            let (reached, answer) = try await live.reachesSwift(target, headers: php)
            #expect(!reached && answer.body == body, "\(form) \(target): \(answer.status) \(answer.body)")
        }
        let missing = try await live.reachesSwift("/missing", headers: php)
        #expect(!missing.swift && missing.answer.status == 404)

        // Without the secret the header does nothing: a wrong one, the bare side, the secret of
        // another side's spelling, or two headers (Apache joins them with a comma).
        let other = String(secret.reversed())
        for value in ["php;\(other)", "php", "php;", "PHP;\(secret)", "php;\(secret), php;\(secret)"] {
            #expect(try await live.reachesSwift("/page.php", headers: [SideHeader.name: value]).swift, "\(form) '\(value)'")
        }
        for value in ["swift;\(other)", "swift", "swift;\(secret)x"] {
            #expect(try await !live.reachesSwift("/other.php", headers: [SideHeader.name: value]).swift, "\(form) '\(value)'")
        }

        // A new secret: the live export still honours the old one until the next export.
        let rotated = try await live.database.sites.sideSecret(site: live.site, rotating: true)
        #expect(rotated != secret && SideHeader.isValidSecret(rotated))
        try await live.install(form)
        #expect(try await !live.reachesSwift("/other.php", headers: swift).swift)
        #expect(try await live.reachesSwift("/other.php", headers: [SideHeader.name: SideHeader.value(.swift, secret: rotated)]).swift)
    }

    static let appRules = """
        RewriteEngine On
        RewriteRule ^index\\.php$ - [L]
        RewriteCond %{REQUEST_FILENAME} !-f
        RewriteCond %{REQUEST_FILENAME} !-d
        RewriteRule . /index.php [L]

        """

    /// On a front-controller site the PHP side of a flipped route or prefix is the app's front
    /// controller, as before the flip: the header passes Cutover's rules by, not the app's.
    @Test(arguments: ExportForm.allCases)
    func thePHPSideOfAFrontControllerSiteIsTheAppsOwnRules(form: ExportForm) async throws {
        let files = [
            ".htaccess": Self.appRules,
            "index.php": "<?php echo 'php front controller ', htmlspecialchars($_SERVER['REQUEST_URI']);",
            "about.php": "<?php echo 'php about';",
        ]
        let live = try await LiveSite(files: files, directoryConfig: "AllowOverride All")
        defer { Task { await live.shutdown() } }
        try await live.crawl()
        let site = try await live.configure { $0.frontController = "/index.php" }
        try await live.database.plan.flip(siteID: site.id, .prefix("/blog/"), to: .swift, reason: "the blog moved")
        try await live.database.plan.flip(siteID: site.id, .paths(["/about.php"]), to: .swift, reason: "ported")
        let secret = try await live.database.sites.sideSecret(site: site)
        try await live.install(form, appHtaccess: Self.appRules)
        let php = [SideHeader.name: SideHeader.value(.php, secret: secret)]
        let swift = [SideHeader.name: SideHeader.value(.swift, secret: secret)]

        #expect(try await live.reachesSwift("/blog/post/").swift)
        #expect(try await live.reachesSwift("/about.php").swift)
        let post = try await live.reachesSwift("/blog/post/", headers: php)
        #expect(!post.swift && post.answer.body == "php front controller /blog/post/", "\(form): \(post.answer.body)")
        let about = try await live.reachesSwift("/about.php", headers: php)
        #expect(!about.swift && about.answer.body == "php about", "\(form): \(about.answer.body)")
        let cart = try await live.reachesSwift("/shop/cart", headers: swift)
        #expect(cart.swift, "\(form): a route the front controller answers reaches Swift when asked")
        #expect(try await !live.reachesSwift("/shop/cart").swift)
    }
}
