import CutoverCore
import CutoverStore

extension Components.Schemas.Site {
    /// A registered site: its settings, what the last crawl found, and its schedule.
    package init(_ site: SiteRecord) {
        let settings = site.settings
        self.init(
            accessLogFormat: settings.accessLogFormat,
            accessLogs: settings.accessLogs,
            aliases: site.aliases.map(Components.Schemas.PathAlias.init),
            backendURL: settings.backendURL,
            crawlEvery: settings.crawlEverySeconds.map(Interval.text),
            createdAt: site.createdAt,
            detectedFrontController: site.detectedFrontController,
            directoriesToSwift: site.directoriesToSwift,
            directoryIndex: settings.directoryIndex,
            docroot: settings.docroot,
            fleet: settings.fleet.map(Components.Schemas.FleetSettings.init),
            frontController: settings.frontController,
            frontControllerDeclined: site.frontControllerDeclined,
            lastRun: site.lastScheduledAt,
            name: settings.name,
            nextRun: site.nextScheduledAt,
            nodes: settings.nodes,
            ownerHeader: settings.ownerHeader,
            pageKeys: settings.pageKeys.map(Components.Schemas.PageKey.init),
            parity: .init(settings.parity),
            phpExtensions: settings.phpExtensions,
            probeRetention: settings.probeRetention,
            probeSkip: settings.probeSkip,
            publicURL: settings.publicURL,
            routingFrontController: site.routingFrontController,
            sendsDirectoriesToSwift: site.sendsDirectoriesToSwift,
            sensitiveQueryKeys: settings.sensitiveQueryKeys
        )
    }
}

extension Components.Schemas.FleetSettings {
    package init(_ settings: FleetSettings) {
        self.init(autoPublish: settings.autoPublish, databaseURL: settings.databaseURL, passwordFile: settings.passwordFile)
    }

    /// The settings this input gives: nil removes the fleet (an empty `databaseURL`).
    package var settings: FleetSettings? {
        databaseURL.isEmpty ? nil : FleetSettings(databaseURL: databaseURL, passwordFile: passwordFile, autoPublish: autoPublish ?? true)
    }
}

extension Components.Schemas.ParitySettings {
    package init(_ settings: ParitySettings) {
        self.init(
            ignore: settings.ignore,
            masks: settings.masks,
            scheduled: settings.scheduled,
            siteNoiseMinimum: settings.siteNoiseMinimum,
            siteNoiseShare: settings.siteNoiseShare
        )
    }
}

extension Components.Schemas.ParitySettingsInput {
    /// `base` with the fields this input gives.
    package func applied(to base: ParitySettings) -> ParitySettings {
        var settings = base
        if let ignore { settings.ignore = ignore }
        if let masks { settings.masks = masks }
        if let siteNoiseShare { settings.siteNoiseShare = siteNoiseShare }
        if let siteNoiseMinimum { settings.siteNoiseMinimum = siteNoiseMinimum }
        if let scheduled { settings.scheduled = scheduled }
        return settings
    }
}

extension Components.Schemas.SiteDefaults {
    /// What a new site gets for each setting it does not give (`GET /api/site-defaults`): the
    /// dashboard's form starts from these, so the defaults are named once, in `SiteSettings`.
    package static var current: Self {
        let settings = SiteSettings(name: "", docroot: "", publicURL: "", backendURL: "")
        return Self(
            accessLogFormat: settings.accessLogFormat,
            crawlEvery: settings.crawlEverySeconds.map(Interval.text) ?? "off",
            directoryIndex: settings.directoryIndex,
            ownerHeader: settings.ownerHeader,
            phpExtensions: settings.phpExtensions,
            probeRetention: settings.probeRetention,
            probeSkip: settings.probeSkip,
            sensitiveQueryKeys: settings.sensitiveQueryKeys
        )
    }
}

extension Components.Schemas.Htaccess {
    /// A docroot `.htaccess` as the last crawl found it, and what it means for the export.
    package init(_ file: HtaccessFile) {
        self.init(
            blocksFallback: file.blocksInheritance,
            directory: file.directory.isEmpty ? "/" : "/" + file.directory + "/",
            fallbackResource: file.fallbackResource,
            frontController: file.frontController,
            hasOwnRewriteRules: file.hasOwnRewriteRules,
            rewriteEngine: file.rewriteEngine,
            rewriteOptions: file.rewriteOptions,
            ruleCount: file.ruleCount
        )
    }
}

extension Components.Schemas.Crawl {
    /// One crawl of a site.
    package init(_ crawl: CrawlRecord) {
        self.init(
            error: crawl.error,
            errorCount: crawl.errorCount,
            filesSeen: crawl.filesSeen,
            finishedAt: crawl.finishedAt,
            id: Int(crawl.id ?? 0),
            startedAt: crawl.startedAt,
            status: .init(crawl.status),
            urlsAdded: crawl.urlsAdded,
            urlsChanged: crawl.urlsChanged,
            urlsRemoved: crawl.urlsRemoved
        )
    }
}

extension Components.Schemas.Exposure {
    /// A symbolic link that makes a private place public, and the line that denies it.
    package init(_ exposure: Exposure) {
        self.init(deny: exposure.denyLine, detail: exposure.detail, filePath: exposure.filePath, url: exposure.url)
    }
}
