import ArgumentParser
import CutoverAPI
import CutoverCore
import CutoverStore
import Foundation

struct SiteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "site",
        abstract: "Register, list and remove sites.",
        subcommands: [Add.self, Set.self, List.self, Remove.self, SideSecret.self, ParityHeader.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a site once, then name it with --site.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "Site name: letters, digits, '-', '_', '.'.")
        var name: String

        @Option(name: .long, help: "Apache DocumentRoot of the site.")
        var docroot: String

        @Option(name: .long, help: "Public URL where Apache answers.")
        var siteURL: String = SiteOptions.defaultSiteURL

        @Option(name: .long, help: "URL where the Swift application answers directly.")
        var backendURL: String = SiteOptions.defaultBackendURL

        @Option(name: .long, help: "Apache DirectoryIndex, space-separated.")
        var directoryIndex: String = SiteSettings.defaultDirectoryIndex.joined(separator: " ")

        @Option(name: .long, help: "File endings Apache runs through PHP, space-separated.")
        var phpExtensions: String = SiteSettings.defaultPHPExtensions.joined(separator: " ")

        @Option(name: .long, help: "Response header the Swift app sets to name the owner.")
        var ownerHeader: String = OwnerFingerprint.defaultOwnerHeader

        @Option(name: .long, help: "Crawl then probe this often inside 'cutover serve': 90s, 15m, 2h, 1d or off.")
        var crawlEvery: String = "off"

        @Option(name: .long, help: "Probe runs of history to keep.")
        var probeRetention: Int = SiteSettings.defaultProbeRetention

        @Option(
            name: .long,
            help: "Access log (absolute path or glob such as '/var/log/apache2/access.log*') imported before each scheduled crawl; repeatable."
        )
        var accessLog: [String] = []

        @Option(name: .long, help: "LogFormat string of those logs, or a preset: common, combined, vhost_combined.")
        var accessLogFormat = SiteSettings.defaultAccessLogFormat

        @Option(
            name: .long,
            help: "A script whose pages are told apart by a query key, as SCRIPT=KEY (e.g. /doku.php=id, /index.php=page); repeatable."
        )
        var pageKey: [String] = []

        @Option(
            name: .long,
            help:
                "The PHP script the app's .htaccess sends every URL without a file to (WordPress: /index.php), or '' for none. Unset, the one the crawl detects counts until confirmed or declined ('cutover status' shows it)."
        )
        var frontController: String?

        @Option(name: .long, help: "A query key whose values are masked at log import besides the built-in ones (token, email, ...); repeatable.")
        var sensitiveKey: [String] = []

        @Option(
            name: .long,
            help:
                "A URL path glob the probe never requests ('*' also matches '/'); repeatable; default: the usual cron, install, setup and upgrade scripts."
        )
        var probeSkip: [String] = []

        @Flag(name: .long, help: "Let the probe request every URL (no deny-list).")
        var noProbeSkip = false

        @Option(
            name: .long,
            help:
                "Send directories without an index file to Swift with the fallback: yes, no or auto (yes unless a front controller answers URLs without a file)."
        )
        var directoriesToSwift: DirectoriesChoice = .auto

        @Option(
            name: .long,
            help:
                "A directory the vhost serves with Alias, as URL=DIRECTORY (/wp-content=/var/lib/wordpress/wp-content); repeatable. `cutover install` fills them in from the vhost."
        )
        var alias: [String] = []

        @Option(
            name: .long,
            help:
                "One Apache node behind the site's load balancer, as the URL that reaches it alone (http://10.0.0.2:80); repeatable. The probe asks each with the site URL's Host and names a node that answers otherwise."
        )
        var node: [String] = []

        @Flag(name: .long, help: "Replace the settings of an existing site of that name (its inventory is kept).")
        var replace = false

        func validate() throws {
            guard crawlEvery == "off" || Interval.seconds(crawlEvery) != nil else {
                throw ValidationError("--crawl-every must look like 90s, 15m, 2h, 1d or be off (got '\(crawlEvery)')")
            }
            guard probeRetention >= 1 else { throw ValidationError("--probe-retention must be at least 1") }
            for argument in pageKey where PageKey(argument: argument) == nil {
                throw ValidationError("--page-key must look like /doku.php=id (got '\(ConfigText.visible(argument))')")
            }
            for argument in alias where PathAlias(argument: argument) == nil {
                throw ValidationError("--alias must look like /wp-content=/var/lib/wordpress/wp-content (got '\(ConfigText.visible(argument))')")
            }
        }

        func run() async throws {
            let database = try global.openDatabase()
            let settings = SiteSettings(
                name: name,
                docroot: absolutePath(docroot),
                publicURL: siteURL,
                backendURL: backendURL,
                directoryIndex: words(directoryIndex),
                phpExtensions: words(phpExtensions),
                ownerHeader: ownerHeader,
                probeRetention: probeRetention,
                crawlEverySeconds: crawlEvery == "off" ? nil : Interval.seconds(crawlEvery),
                accessLogs: accessLog,
                accessLogFormat: accessLogFormat,
                pageKeys: pageKey.compactMap(PageKey.init(argument:)),
                frontController: frontController.flatMap { $0.isEmpty ? nil : $0 },
                sensitiveQueryKeys: sensitiveKey,
                probeSkip: noProbeSkip ? [] : probeSkip.isEmpty ? SiteSettings.defaultProbeSkip : probeSkip,
                frontControllerDeclined: frontController?.isEmpty == true,
                directoriesToSwift: directoriesToSwift.setting,
                aliases: alias.compactMap(PathAlias.init(argument:)),
                nodes: node
            )
            let site = try await replace ? database.sites.save(settings) : database.sites.add(settings)
            if global.json { try Output.json(SiteView(site)) } else { print("site \(site.name) registered (docroot \(site.docroot))") }
        }
    }

    /// Changes some settings of a registered site and keeps the rest (unlike `add --replace`).
    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change some settings of a site; the others stay as they are.",
            discussion: """
                Examples: cutover site set shop --front-controller /index.php
                          cutover site set wiki --page-key /doku.php=id
                          cutover site set shop --front-controller '' --no-page-keys
                """
        )

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Site name.") var name: String
        @Option(name: .long, help: "Apache DocumentRoot of the site.") var docroot: String?
        @Option(name: .long, help: "Public URL where Apache answers.") var siteURL: String?
        @Option(name: .long, help: "URL where the Swift application answers directly.") var backendURL: String?
        @Option(name: .long, help: "Crawl then probe this often inside 'cutover serve': 90s, 15m, 2h, 1d or off.") var crawlEvery: String?
        @Option(name: .long, help: "Access logs (paths or globs); replaces the list; repeatable.") var accessLog: [String] = []
        @Option(name: .long, help: "LogFormat string of those logs, or a preset.") var accessLogFormat: String?
        @Option(name: .long, help: "Page keys as SCRIPT=KEY; replaces the list; repeatable.") var pageKey: [String] = []
        @Flag(name: .long, help: "Remove every page key.") var noPageKeys = false
        @Option(
            name: .long,
            help:
                "Confirm the front controller script, or '' to decline one (URLs without a file go to the Swift fallback, whatever the crawl detects)."
        ) var frontController: String?
        @Option(name: .long, help: "Query keys masked at log import besides the built-in ones; replaces the list; repeatable.")
        var sensitiveKey: [String] = []
        @Option(name: .long, help: "URL path globs the probe never requests; replaces the list; repeatable.") var probeSkip: [String] = []
        @Flag(name: .long, help: "Let the probe request every URL (no deny-list).") var noProbeSkip = false
        @Option(name: .long, help: "Send directories without an index file to Swift: yes, no or auto.") var directoriesToSwift: DirectoriesChoice?
        @Option(name: .long, help: "The vhost's Alias directories as URL=DIRECTORY; replaces the list; repeatable.") var alias: [String] = []
        @Flag(name: .long, help: "Remove every alias.") var noAliases = false
        @Option(name: .long, help: "The site's Apache nodes, each as the URL that reaches it alone; replaces the list; repeatable.")
        var node: [String] = []
        @Flag(name: .long, help: "Remove every node (one Apache).") var noNodes = false
        @Option(
            name: .long,
            help:
                "PostgreSQL the fleet's node agents read the plan from (postgres://USER@HOST:PORT/DATABASE, never a password); 'cutover publish' uses it."
        )
        var fleetDatabaseURL: String?
        @Option(name: .long, help: "File whose first line is that database's password (mode 600).") var fleetPasswordFile: String?
        @Option(name: .long, help: "Publish to the fleet after each flip or plan restore: true (the default with a fleet) or false.")
        var fleetAutoPublish: Bool?
        @Flag(name: .long, help: "Remove the fleet settings.") var noFleet = false
        @Option(name: .long, help: "Parity leaves out fields with this name or start (header:vary, html/body/footer); replaces the list; repeatable.")
        var parityIgnore: [String] = []
        @Flag(name: .long, help: "Remove every parity ignore rule.") var noParityIgnore = false
        @Option(name: .long, help: "Parity masks what this regular expression matches in values before comparing; replaces the list; repeatable.")
        var parityMask: [String] = []
        @Flag(name: .long, help: "Remove every parity mask.") var noParityMasks = false
        @Option(name: .long, help: "A field noise on at least this share of a run's pages (0-1, default 0.2) is noise on every page.")
        var parityNoiseShare: Double?
        @Option(name: .long, help: "… and on at least this many pages (default 5).") var parityNoiseMinimum: Int?
        @Option(name: .long, help: "End the scheduled run with parity of every page: true or false.") var parityScheduled: Bool?

        func validate() throws {
            if let crawlEvery, crawlEvery != "off", Interval.seconds(crawlEvery) == nil {
                throw ValidationError("--crawl-every must look like 90s, 15m, 2h, 1d or be off (got '\(crawlEvery)')")
            }
            for argument in pageKey where PageKey(argument: argument) == nil {
                throw ValidationError("--page-key must look like /doku.php=id (got '\(ConfigText.visible(argument))')")
            }
            for argument in alias where PathAlias(argument: argument) == nil {
                throw ValidationError("--alias must look like /wp-content=/var/lib/wordpress/wp-content (got '\(ConfigText.visible(argument))')")
            }
            if noPageKeys, !pageKey.isEmpty { throw ValidationError("give --page-key or --no-page-keys, not both") }
            if noNodes, !node.isEmpty { throw ValidationError("give --node or --no-nodes, not both") }
            if noFleet, fleetDatabaseURL != nil || fleetPasswordFile != nil || fleetAutoPublish != nil {
                throw ValidationError("give the --fleet-… options or --no-fleet, not both")
            }
            if noParityIgnore, !parityIgnore.isEmpty { throw ValidationError("give --parity-ignore or --no-parity-ignore, not both") }
            if noParityMasks, !parityMask.isEmpty { throw ValidationError("give --parity-mask or --no-parity-masks, not both") }
        }

        func run() async throws {
            let database = try global.openDatabase()
            var settings = try await database.sites.named(name).settings
            if let docroot { settings.docroot = absolutePath(docroot) }
            if let siteURL { settings.publicURL = siteURL }
            if let backendURL { settings.backendURL = backendURL }
            if let crawlEvery { settings.crawlEverySeconds = crawlEvery == "off" ? nil : Interval.seconds(crawlEvery) }
            if !accessLog.isEmpty { settings.accessLogs = accessLog }
            if let accessLogFormat { settings.accessLogFormat = accessLogFormat }
            if !pageKey.isEmpty { settings.pageKeys = pageKey.compactMap(PageKey.init(argument:)) }
            if noPageKeys { settings.pageKeys = [] }
            if let frontController {
                settings.frontController = frontController.isEmpty ? nil : frontController
                settings.frontControllerDeclined = frontController.isEmpty
            }
            if !sensitiveKey.isEmpty { settings.sensitiveQueryKeys = sensitiveKey }
            if !probeSkip.isEmpty { settings.probeSkip = probeSkip }
            if noProbeSkip { settings.probeSkip = [] }
            if let directoriesToSwift { settings.directoriesToSwift = directoriesToSwift.setting }
            if !alias.isEmpty { settings.aliases = alias.compactMap(PathAlias.init(argument:)) }
            if noAliases { settings.aliases = [] }
            if !node.isEmpty { settings.nodes = node }
            if noNodes { settings.nodes = [] }
            if let fleetDatabaseURL {
                settings.fleet = FleetSettings(databaseURL: fleetDatabaseURL, autoPublish: settings.fleet?.autoPublish ?? true)
            }
            if fleetPasswordFile != nil || fleetAutoPublish != nil {
                guard var fleet = settings.fleet else { throw ValidationError("set --fleet-database-url first") }
                if let fleetPasswordFile { fleet.passwordFile = fleetPasswordFile.isEmpty ? nil : absolutePath(fleetPasswordFile) }
                if let fleetAutoPublish { fleet.autoPublish = fleetAutoPublish }
                settings.fleet = fleet
            }
            if noFleet { settings.fleet = nil }
            if !parityIgnore.isEmpty { settings.parity.ignore = parityIgnore }
            if noParityIgnore { settings.parity.ignore = [] }
            if !parityMask.isEmpty { settings.parity.masks = parityMask }
            if noParityMasks { settings.parity.masks = [] }
            if let parityNoiseShare { settings.parity.siteNoiseShare = parityNoiseShare }
            if let parityNoiseMinimum { settings.parity.siteNoiseMinimum = parityNoiseMinimum }
            if let parityScheduled { settings.parity.scheduled = parityScheduled }
            let site = try await database.sites.save(settings)
            if global.json { try Output.json(SiteView(site)) } else { print("site \(site.name) updated") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List registered sites.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let sites = try await global.openDatabase(readOnly: true).sites.all()
            if global.json {
                try Output.json(sites.map(SiteView.init))
                return
            }
            if sites.isEmpty { print("no sites registered: 'cutover site add NAME --docroot DIR'") }
            for site in sites {
                print("\(site.name)\t\(site.docroot)\t\(site.publicURL)\t\(site.backendURL)")
            }
        }
    }

    struct SideSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "side-secret",
            abstract: "Print the secret that lets a request choose its side through Apache (X-Cutover-Side).",
            discussion: """
                A request whose X-Cutover-Side header is swift;SECRET reaches the Swift backend, and php;SECRET \
                the PHP side, on any page whatever the plan, once an export of this site is live (parity and \
                testers use it). Exports hold only digests of the two values. Treat the secret like the API token.
                """
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Site name.") var name: String
        @Flag(help: "Draw a new secret; the old one works until the next export is live.") var rotate = false

        func run() async throws {
            let database = try global.openDatabase(readOnly: !rotate)
            let site = try await database.sites.named(name)
            let secret = try await database.sites.sideSecret(site: site, rotating: rotate)
            if global.json {
                try Output.json([
                    "site": site.name, "header": SideHeader.name, "secret": secret,
                    "swift": SideHeader.value(.swift, secret: secret), "php": SideHeader.value(.php, secret: secret),
                ])
                return
            }
            print("\(SideHeader.name): \(SideHeader.value(.swift, secret: secret))    reaches Swift")
            print("\(SideHeader.name): \(SideHeader.value(.php, secret: secret))      reaches PHP")
            if rotate { print("new secret: export the site again (cutover export / cutover install) for Apache to honour it") }
        }
    }

    struct ParityHeader: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "parity-header",
            abstract: "Request headers parity sends under a URL prefix (a test account's session for logged-in pages).",
            discussion: """
                Lists them (values masked), sets one with --set 'NAME: VALUE' under --prefix, or removes one \
                (--remove NAME) or all under --prefix (--remove-all). Parity and its fixtures send a header \
                only with requests whose path starts with its prefix, to both sides. Values are kept like \
                the API token: never logged, shown only masked.
                Example: cutover site parity-header shop --prefix /account/ --set 'Cookie: PHPSESSID=test-account-session'
                """
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Site name.") var name: String
        @Option(name: .long, help: "The URL path prefix the header is sent under.") var prefix: String?
        @Option(name: .long, help: "A header as 'NAME: VALUE'.") var set: String?
        @Option(name: .long, help: "Remove the header NAME under --prefix.") var remove: String?
        @Flag(name: .long, help: "Remove every header under --prefix.") var removeAll = false

        func validate() throws {
            let actions = [set != nil, remove != nil, removeAll].filter { $0 }.count
            guard actions <= 1 else { throw ValidationError("give one of --set, --remove or --remove-all") }
            if actions == 1, prefix == nil { throw ValidationError("--prefix is needed with --set, --remove and --remove-all") }
        }

        func run() async throws {
            let database = try global.openDatabase()
            let site = try await database.sites.named(name)
            if let set, let prefix {
                let parts = set.split(separator: ":", maxSplits: 1)
                guard parts.count == 2 else { throw ValidationError("--set must look like 'Cookie: NAME=VALUE'") }
                let credential = ParityCredential(
                    prefix: prefix,
                    name: parts[0].trimmingCharacters(in: .whitespaces),
                    value: parts[1].trimmingCharacters(in: .whitespaces)
                )
                try await database.sites.setParityCredential(credential, site: site)
                if !global.json { print("parity sends \(credential.name): \(credential.masked) under \(ConfigText.visible(prefix))") }
            } else if let prefix, remove != nil || removeAll {
                let removed = try await database.sites.removeParityCredentials(prefix: prefix, name: remove, site: site)
                if !global.json { print("\(removed) parity headers removed under \(ConfigText.visible(prefix))") }
            }
            let credentials = try await database.sites.parityCredentials(site: site)
            if global.json {
                try Output.json(credentials.map { ["prefix": $0.prefix, "name": $0.name, "value": $0.masked] })
            } else if set == nil, remove == nil, !removeAll {
                if credentials.isEmpty { print("no parity headers: parity sends none") }
                for credential in credentials {
                    print("\(ConfigText.visible(credential.prefix))  \(credential.name): \(credential.masked)")
                }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a site and its inventory.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Site name.") var name: String

        func run() async throws {
            try await global.openDatabase().sites.remove(named: name)
            if !global.json { print("site \(name) removed") }
        }
    }
}

/// `--directories-to-swift yes|no|auto`.
enum DirectoriesChoice: String, ExpressibleByArgument, CaseIterable {
    case yes, no, auto

    var setting: Bool? {
        switch self {
        case .yes: true
        case .no: false
        case .auto: nil
        }
    }
}
