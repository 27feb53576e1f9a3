import CutoverAPI
import CutoverCore
import CutoverStore
import Foundation
import Hummingbird

/// Sites: list, create, read, update, delete; and their stats.
struct SitesController {
    let database: AppDatabase
    let jobs: JobRunner
    let cache: ReadCache

    func add(to api: RouterGroup<AppContext>) {
        api.get("sites") { _, _ in try await database.sites.all().map(SiteView.init) }
        api.get("site-defaults") { _, _ in SiteDefaultsView.current }
        api.post("sites") { request, context -> EditedResponse<SiteView> in
            let input = try await request.decode(as: SiteInput.self, context: context)
            guard let name = input.name else { throw APIError(.unprocessableContent, "invalid", "name is required") }
            let site = try await database.sites.add(try input.settings(name: name, base: nil))
            return EditedResponse(status: .created, response: SiteView(site))
        }
        api.get("sites/:site") { _, context in SiteView(try await cache.site(context, in: database)) }
        api.put("sites/:site") { request, context in
            let current = try await database.site(context)
            let input = try await request.decode(as: SiteInput.self, context: context)
            if let name = input.name, name != current.name {
                throw APIError(.unprocessableContent, "invalid", "a site cannot be renamed (name '\(name)' differs)")
            }
            return SiteView(try await database.sites.save(try input.settings(name: current.name, base: current.settings)))
        }
        api.delete("sites/:site") { _, context in
            let site = try await database.site(context)
            if await jobs.isRunning(site: site.name) {
                throw APIError(.conflict, "conflict", "site '\(site.name)' has a running job; try again when it is done")
            }
            try await database.sites.remove(named: site.name)
            return Response(status: .noContent)
        }
        api.get("sites/:site/htaccess") { _, context in
            try await database.crawls.htaccessFiles(siteID: try await cache.site(context, in: database).id).map(HtaccessView.init)
        }
        api.get("sites/:site/exposures") { _, context in
            try await database.crawls.exposures(siteID: try await cache.site(context, in: database).id).map(ExposureView.init)
        }
        api.get("sites/:site/stats") { _, context in
            let site = try await cache.site(context, in: database)
            return try await cache.value(.stats(site: site.name)) { [database] in StatsView(try await database.inventory.progress(of: site)) }
        }
    }
}

extension StatsView: ResponseEncodable {}
extension SiteView: ResponseEncodable {}
extension SiteDefaultsView: ResponseEncodable {}
extension HtaccessView: ResponseEncodable {}
extension ExposureView: ResponseEncodable {}

/// The body of create and update (the generated `SiteInput`): optional fields keep their defaults
/// (create) or values (update).
extension SiteInput {
    func schedule(base: SiteSettings?) throws -> Int? {
        guard let text = crawlEvery else { return base?.crawlEverySeconds }
        if text == "off" { return nil }
        guard let seconds = Interval.seconds(text) else {
            throw APIError(.unprocessableContent, "invalid", "crawlEvery must look like '90s', '15m', '2h', '1d' or be 'off'")
        }
        return seconds
    }

    func settings(name: String, base: SiteSettings?) throws -> SiteSettings {
        guard let docroot = docroot ?? base?.docroot, let publicURL = publicURL ?? base?.publicURL,
            let backendURL = backendURL ?? base?.backendURL
        else { throw APIError(.unprocessableContent, "invalid", "docroot, publicURL and backendURL are required") }
        return SiteSettings(
            name: name,
            docroot: docroot,
            publicURL: publicURL,
            backendURL: backendURL,
            directoryIndex: directoryIndex ?? base?.directoryIndex ?? SiteSettings.defaultDirectoryIndex,
            phpExtensions: phpExtensions ?? base?.phpExtensions ?? SiteSettings.defaultPHPExtensions,
            ownerHeader: ownerHeader ?? base?.ownerHeader ?? OwnerFingerprint.defaultOwnerHeader,
            probeRetention: probeRetention ?? base?.probeRetention ?? SiteSettings.defaultProbeRetention,
            crawlEverySeconds: try schedule(base: base),
            accessLogs: accessLogs ?? base?.accessLogs ?? [],
            accessLogFormat: accessLogFormat ?? base?.accessLogFormat ?? SiteSettings.defaultAccessLogFormat,
            pageKeys: pageKeys?.map { PageKey(script: $0.script, key: $0.key) } ?? base?.pageKeys ?? [],
            frontController: frontController.map { $0.isEmpty ? nil : $0 } ?? base?.frontController,
            sensitiveQueryKeys: sensitiveQueryKeys ?? base?.sensitiveQueryKeys ?? [],
            probeSkip: probeSkip ?? base?.probeSkip ?? SiteSettings.defaultProbeSkip,
            // '' declines a detected front controller; a script confirms one.
            frontControllerDeclined: frontControllerDeclined ?? frontController.map(\.isEmpty) ?? base?.frontControllerDeclined ?? false,
            directoriesToSwift: directoriesToSwift.map(\.setting) ?? base?.directoriesToSwift,
            aliases: aliases?.map { PathAlias(urlPath: $0.urlPath, directory: $0.directory) } ?? base?.aliases ?? [],
            parity: parity.map { $0.applied(to: base?.parity ?? ParitySettings()) } ?? base?.parity ?? ParitySettings(),
            nodes: nodes ?? base?.nodes ?? [],
            fleet: fleet.map(\.settings) ?? base?.fleet
        )
    }
}

extension SiteInput.DirectoriesToSwiftPayload {
    /// true, false, or "auto" (nil: yes unless a front controller answers).
    var setting: Bool? {
        switch self {
        case .case1(let value): value
        case .case2(.auto): nil
        }
    }
}
