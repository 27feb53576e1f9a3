import CutoverCore
import CutoverExport
import CutoverStore
import Foundation
import Logging

/// What `cutover install` did (or, with `dryRun`, would do).
package struct InstallReport: Sendable, Codable {
    package var site: String
    /// `FILE:LINE` of the `<VirtualHost>` that serves the site.
    package var virtualHost: String
    /// The real file edited (or that would be).
    package var virtualHostFile: String
    /// The two lines added inside the vhost, and where; nil when the include was already there.
    package var addedLines: [String]?
    package var addedAtLine: Int
    package var includeFile: String
    /// The export written to `includeFile`; nil in a dry run (nothing is stored).
    package var exportID: Int64?
    package var includeChanged: Bool
    package var dryRun: Bool
    package var checks: [LiveCheck] = []
    /// The vhost's `Alias` directories, filled into the site's settings because it had none
    /// (the next crawl walks them); empty when the site had its own or the vhost has none.
    package var aliasesFromVirtualHost: [PathAlias] = []
}

/// Puts a site's export live inside the `<VirtualHost>` that serves it, the way an admin would
/// and then some: one `Include` of Cutover's file in that vhost (once), Apache's config test, a
/// graceful reload, a live check of the answers on fresh connections, and, when anything fails,
/// every file back as it was (and Apache reloaded again when it had been).
///
/// Who writes what: this edits Apache's config and is run as root; `cutover serve` never does.
package struct Installer: Sendable {
    package var database: AppDatabase
    package var control: ApacheControl
    package var logger: Logger
    /// How long the live check waits for answers of the new export after the reload.
    package var verifyTimeout: Duration = .seconds(10)

    package init(database: AppDatabase, control: ApacheControl = ApacheControl(), logger: Logger) {
        self.database = database
        self.control = control
        self.logger = logger
    }

    /// Cutover's file for a site under Apache's config folder (`$APACHE_CONFDIR`, else /etc/apache2).
    package static func defaultIncludeFile(site: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let confdir = environment["APACHE_CONFDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/etc/apache2"
        return "\(confdir)/cutover/\(site).conf"
    }

    package func install(site: SiteRecord, includeFile: String, pick: String? = nil, dryRun: Bool = false) async throws -> InstallReport {
        let include = try ApacheEscaping.quotedPath(includeFile, what: "include file").dropFirst().dropLast()
        // The vhost first: a refusal stores no export.
        let hosts = try control.virtualHosts()
        let host: VirtualHost
        do {
            host = try VirtualHostChoice.choose(siteURL: site.publicURL, docroot: site.docroot, among: hosts, pick: pick)
        } catch {
            throw InstallError.noVirtualHost(error)
        }
        // Its Alias directories, when the site names none: Apache serves them, not the fallback.
        var site = site
        let vhostAliases = host.pathAliases.map { PathAlias(urlPath: $0.urlPath, directory: $0.directory) }.filter { $0.problem == nil }
        let filledAliases = site.aliases.isEmpty ? vhostAliases : []
        if !filledAliases.isEmpty, !dryRun {
            var settings = site.settings
            settings.aliases = filledAliases
            site = try await database.sites.save(settings)
        }
        let (record, rendered) = try await database.blocking { [site, dryRun] database in
            let exporter = Exporter(database: database)
            return try dryRun ? exporter.render(site: site, form: .vhost) : exporter.export(site: site, form: .vhost)
        }
        guard rendered.conflicts.isEmpty else {
            throw InstallError.apache(
                command: "cutover export --check",
                output: "a .htaccess overrides the export: " + rendered.conflicts.joined(separator: "; ")
            )
        }
        let edit = try VirtualHostEdit.including(String(include), site: site.name, in: host)
        let previousInclude = try? String(contentsOfFile: String(include), encoding: .utf8)
        let text = rendered.text.hasSuffix("\n") ? rendered.text : rendered.text + "\n"
        var report = InstallReport(
            site: site.name,
            virtualHost: host.location,
            virtualHostFile: edit.file,
            addedLines: edit.edited == nil ? nil : edit.added,
            addedAtLine: edit.line,
            includeFile: String(include),
            exportID: dryRun ? nil : record.id,
            includeChanged: previousInclude != text,
            dryRun: dryRun
        )
        report.aliasesFromVirtualHost = filledAliases
        if dryRun { return report }

        let restore = {
            if edit.edited != nil { try? FileWriter.replace(edit.file, with: edit.original) }
            if let previousInclude {
                try? FileWriter.replace(String(include), with: previousInclude)
            } else {
                try? FileManager.default.removeItem(atPath: String(include))
            }
        }
        try FileWriter.replace(String(include), with: text, createFolder: true)
        do {
            if let edited = edit.edited { try FileWriter.replace(edit.file, with: edited) }
        } catch {
            restore()
            throw error
        }
        let test = try control.configTest()
        guard test.status == 0 else {
            restore()
            throw InstallError.configTestFailed(output: test.output)
        }
        do {
            try control.graceful()
        } catch {
            restore()
            try? control.graceful()
            throw error
        }
        logger.info("reloaded", metadata: ["vhost": "\(host.location)", "export": "\(record.id ?? 0)"])
        let verifier = LiveVerifier(
            baseURL: HTTPBaseURL.normalized(site.publicURL),
            fingerprint: OwnerFingerprint(ownerHeader: site.ownerHeader),
            timeout: verifyTimeout
        )
        report.checks = await verifier.verify(exportID: record.id!, targets: try await targets(site: site, rendered: record))
        if report.checks.contains(where: { !$0.passed }) {
            restore()
            let restored = (try? control.configTest().status == 0) == true && (try? control.graceful()) != nil
            throw InstallError.verificationFailed(checks: report.checks, restored: restored)
        }
        return report
    }

    /// What the live site must answer: a URL without a file (the fallback, or the front
    /// controller), every flipped page (20 at most), redirects, and a few pages that stay PHP.
    func targets(site: SiteRecord, rendered: ExportRecord) async throws -> [LiveTarget] {
        let input = try await database.blocking { try $0.plan.exportInput(site: site) }
        var targets = [
            LiveTarget(
                path: "/__cutover-install-check-\(UUID().uuidString.lowercased())",
                expectation: .owner(site.routingFrontController == nil ? .swift : .php)
            )
        ]
        targets += input.flips.prefix(20).map { LiveTarget(path: $0.path, expectation: .owner(.swift)) }
        targets += input.redirects.prefix(5).map { LiveTarget(path: $0.from, expectation: .redirect(to: $0.to)) }
        let staying = try await database.probes.targets(siteID: site.id)
            .filter { $0.owner == .php && $0.expectedOwner == .php && $0.redirectTo == nil && !$0.path.contains("?") }
            .sorted { ($0.path == "/" ? 0 : 1, $0.path.count, $0.path) < ($1.path == "/" ? 0 : 1, $1.path.count, $1.path) }
        targets += staying.prefix(3).map { LiveTarget(path: $0.path, expectation: .owner(.php)) }
        return targets
    }
}

/// Replaces a file the way an editor that cares would: a temporary file beside it with the same
/// mode and owner, then a rename, so Apache never reads half a file.
enum FileWriter {
    static func replace(_ path: String, with text: String, createFolder: Bool = false) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        if createFolder {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            } catch {
                throw InstallError.cannotWrite(folder, error.localizedDescription)
            }
        }
        var existing = stat()
        let exists = stat(path, &existing) == 0
        let temporary = "\(folder)/.\(url.lastPathComponent).cutover-\(UUID().uuidString)"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, exists ? existing.st_mode & 0o7777 : 0o644)
        guard descriptor >= 0 else { throw InstallError.cannotWrite(path, String(cString: strerror(errno))) }
        var failure: String?
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        if written != bytes.count { failure = String(cString: strerror(errno)) }
        if failure == nil, exists { _ = fchown(descriptor, existing.st_uid, existing.st_gid) }
        if failure == nil, exists, fchmod(descriptor, existing.st_mode & 0o7777) != 0 { failure = String(cString: strerror(errno)) }
        if failure == nil, fsync(descriptor) != 0 { failure = String(cString: strerror(errno)) }
        close(descriptor)
        if failure == nil, rename(temporary, path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary)
            throw InstallError.cannotWrite(path, failure)
        }
    }
}
