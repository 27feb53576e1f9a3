import CutoverCore
import CutoverExport
import Testing

@Suite struct HtaccessTests {
    @Test func parsesTheDirectivesThatMatter() {
        let wordpress = """
            # BEGIN WordPress
            <IfModule mod_rewrite.c>
            RewriteEngine On
            RewriteBase /
            RewriteRule ^index\\.php$ - [L]
            RewriteCond %{REQUEST_FILENAME} !-f
            RewriteCond %{REQUEST_FILENAME} !-d
            RewriteRule . /index.php [L]
            </IfModule>
            # END WordPress
            """
        let file = HtaccessFile.parse(wordpress, directory: "")
        #expect(file == HtaccessFile(directory: "", rewriteEngine: true, ruleCount: 2, frontController: "/index.php"))
        #expect(file.hasOwnRewriteRules)
        #expect(file.blocksInheritance == nil)

        let mixed = HtaccessFile.parse(
            "rewriteengine ON\r\nRewriteOptions \"Inherit\" IgnoreInherit\r\n#RewriteRule x y\r\nRewriteRule \\\n  a b\nFallbackResource /index.php\n",
            directory: "blog"
        )
        #expect(mixed.rewriteEngine == true)
        #expect(mixed.rewriteOptions == ["inherit", "ignoreinherit"])
        #expect(mixed.ruleCount == 1)
        #expect(mixed.fallbackResource == "/index.php")
        #expect(mixed.blocksInheritance == "RewriteOptions IgnoreInherit")

        let off = HtaccessFile.parse("RewriteEngine On\nRewriteEngine off\n", directory: "x")
        #expect(off.rewriteEngine == false && !off.hasOwnRewriteRules && off.blocksInheritance == "RewriteEngine Off")
        #expect(HtaccessFile.parse("Options -Indexes\nDeny from all\n", directory: "").rewriteEngine == nil)
    }

    let settings = SiteSettings(name: "s", docroot: "/srv/www", publicURL: "http://127.0.0.1:1", backendURL: "http://127.0.0.1:8080")

    func render(_ form: ExportForm, flips: [String], htaccess: [HtaccessFile]) throws -> RenderedExport {
        try DirectiveRenderer.render(
            ExportInput(settings: settings, flips: flips.map(PageFlip.init), mapFilePath: "/srv/flips.map", htaccess: htaccess),
            form: form
        )
    }

    @Test func subdirectoriesWithRulesGetTheirOwnFallbackBlock() throws {
        let files = [
            HtaccessFile(directory: "", rewriteEngine: true, ruleCount: 2), HtaccessFile(directory: "blog", rewriteEngine: true, ruleCount: 1),
            HtaccessFile(directory: "static", rewriteEngine: nil),
        ]
        for form in [ExportForm.vhost, .rewritemap] {
            let export = try render(form, flips: ["/blog/x.php"], htaccess: files)
            #expect(export.conflicts.isEmpty)
            #expect(export.text.contains("<Directory \"/srv/www\">"))
            #expect(export.text.contains("<Directory \"/srv/www/blog\">"))
            #expect(!export.text.contains("/srv/www/static"))
            #expect(export.text.components(separatedBy: "RewriteOptions InheritDown").count - 1 == 2)
            // Flips sit before the first <Directory>: server context, before any .htaccess.
            let firstDirectory = try #require(export.text.range(of: "<Directory"))
            if form == .vhost {
                #expect(try #require(export.text.range(of: #"RewriteRule "^/blog/x\.php$""#)).upperBound < firstDirectory.lowerBound)
            }
        }
    }

    @Test func optionsThatStopTheInheritanceAreConflicts() throws {
        for (file, fragment) in [
            (
                HtaccessFile(directory: "legacy", rewriteEngine: true, rewriteOptions: ["ignoreinherit"]),
                "/legacy/.htaccess sets 'RewriteOptions IgnoreInherit'"
            ),
            (HtaccessFile(directory: "", rewriteEngine: false), "/.htaccess sets 'RewriteEngine Off'"),
            (HtaccessFile(directory: "a[1]", rewriteEngine: true), "cannot be written into a <Directory> section"),
            (HtaccessFile(directory: "q\"x", rewriteEngine: true), "cannot be written into a <Directory> section"),
        ] {
            let export = try render(.vhost, flips: [], htaccess: [file])
            #expect(export.conflicts.count == 1 && export.conflicts[0].contains(fragment), "\(export.conflicts)")
            #expect(export.text.contains("# CONFLICT: "))
            #expect(!export.text.contains("a[1]\">") && !export.text.contains("q\"x\">"))
        }
    }

    @Test func htaccessFormNamesFlipsBelowAnotherHtaccess() throws {
        let files = [HtaccessFile(directory: "blog", rewriteEngine: true, ruleCount: 1)]
        #expect(try render(.htaccess, flips: ["/a.php", "/blogger.php"], htaccess: files).conflicts.isEmpty)
        let export = try render(.htaccess, flips: ["/a.php", "/blog/x.php", "/blog/deep/y.php"], htaccess: files)
        #expect(
            export.conflicts == [
                "/blog/.htaccess has its own rewrite rules, which replace this file's below /blog/: 2 flipped pages there would stay PHP "
                    + "(/blog/deep/y.php, /blog/x.php); use the vhost or rewritemap form"
            ]
        )
    }
}

@Suite struct FrontControllerDetectionTests {
    @Test(arguments: [
        (
            "RewriteEngine On\nRewriteCond %{REQUEST_FILENAME} !-f\nRewriteCond %{REQUEST_FILENAME} !-d\nRewriteRule . /index.php [L]\n", "",
            "/index.php"
        ),
        ("RewriteEngine On\nRewriteRule ^ index.php [L]\n", "public", "/public/index.php"),
        ("RewriteEngine on\nRewriteRule ^(.*) doku.php?id=$1 [QSA,L]\n", "", "/doku.php"),
        ("RewriteEngine On\nRewriteRule ^(.*)$ index.php/$1 [L]\n", "", "/index.php"),
        ("FallbackResource /index.php\n", "", "/index.php"),
        ("FallbackResource app.php\n", "web", "/web/app.php"),
    ])
    func detectsTheScriptThatTakesEveryURL(text: String, directory: String, script: String) {
        #expect(HtaccessFile.parse(text, directory: directory).frontController == script)
    }

    @Test(arguments: [
        "RewriteEngine On\nRewriteRule ^old$ /index.php?moved=1 [L]\n",
        "RewriteEngine On\nRewriteRule ^pretty/([a-z]+)$ show.php?name=$1 [L]\n",
        "RewriteEngine On\nRewriteRule ^(.*)$ http://127.0.0.1:8080/$1 [P]\n",
        "RewriteEngine On\nRewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]\n",
        "RewriteEngine On\nRewriteRule ^(.*)$ /static/$1 [L]\n",
    ])
    func otherRulesAreNotFrontControllers(text: String) {
        #expect(HtaccessFile.parse(text, directory: "").frontController == nil)
    }
}
