import ArgumentParser
import CutoverCore
import CutoverInstall
import CutoverStore
import Foundation

struct InstallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Put the site's export live inside the <VirtualHost> that serves it; verify, or roll back.",
        discussion: """
            Run as root on the Apache host. Finds the <VirtualHost> whose name or alias and port match the \
            site URL (apache2ctl -S; https means 443), writes the current export (vhost form) to Cutover's \
            file, adds one Include of it inside that vhost (once), runs Apache's config test, reloads \
            gracefully, then checks on fresh connections that answers carry the new export's id and that \
            flipped pages, the fallback and a few PHP pages answer as planned. When anything fails, every \
            file is put back and Apache reloaded again. Run it again after each flip: it only rewrites \
            Cutover's file. Refuses when no vhost, several, or only a redirecting one match \
            (--vhost FILE:LINE picks one). Exit status: 0 live and verified, 1 nothing changed, 4 rolled back.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var siteOptions: SiteOptions

    @Option(name: .long, help: "The <VirtualHost> to use, as FILE:LINE from `apache2ctl -S`, when the site URL does not pick one.")
    var vhost: String?

    @Option(
        name: .long,
        help: "Cutover's file that the vhost includes (default: $APACHE_CONFDIR/cutover/SITE.conf, i.e. /etc/apache2/cutover/SITE.conf)."
    )
    var includeFile: String?

    @Option(name: .long, help: "Debian's apache2ctl (it reads APACHE_CONFDIR and envvars like the service does).")
    var apachectl = "/usr/sbin/apache2ctl"

    @Option(name: .long, help: "Seconds to wait for answers of the new export after the reload.")
    var verifySeconds = 10.0

    @Flag(name: .long, help: "Show the vhost chosen and the lines that would be added; change nothing.")
    var dryRun = false

    func validate() throws {
        guard (0.5...120).contains(verifySeconds) else { throw ValidationError("--verify-seconds must be between 0.5 and 120") }
    }

    func run() async throws {
        let database = try global.openDatabase()
        let site = try await siteOptions.resolve(in: database)
        var installer = Installer(database: database, control: ApacheControl(binary: apachectl), logger: global.logger("cutover.install"))
        installer.verifyTimeout = .milliseconds(Int64(verifySeconds * 1000))
        let include = includeFile.map(absolutePath) ?? Installer.defaultIncludeFile(site: site.name)
        let report: InstallReport
        do {
            report = try await installer.install(site: site, includeFile: include, pick: vhost, dryRun: dryRun)
        } catch let error as InstallError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            if case .verificationFailed = error { throw ExitCode(4) }
            throw ExitCode(1)
        }
        if global.json { return try Output.json(report) }
        print(
            "<VirtualHost> \(report.virtualHost) serves \(site.publicURL)"
                + (report.virtualHostFile != report.virtualHost.split(separator: ":").dropLast().joined(separator: ":")
                    ? " (file \(report.virtualHostFile))" : "")
        )
        for alias in report.aliasesFromVirtualHost {
            print(
                "\(report.dryRun ? "would take" : "took") the vhost's Alias \(alias.urlPath) -> \(alias.directory) into the site's settings: the next crawl walks it"
            )
        }
        if let lines = report.addedLines {
            print((report.dryRun ? "would add" : "added") + " at line \(report.addedAtLine - 1) of \(report.virtualHostFile):")
            for line in lines { print("  + \(line)") }
        } else {
            print("the vhost already includes \(report.includeFile) (line \(report.addedAtLine))")
        }
        if report.dryRun {
            print(
                report.includeChanged
                    ? "would write the current export to \(report.includeFile)" : "\(report.includeFile) already holds the current export"
            )
            print("then: apache2ctl configtest, apache2ctl graceful, and a live check of the answers")
            return
        }
        print("wrote export #\(report.exportID ?? 0) to \(report.includeFile); Apache accepted it and reloaded")
        for check in report.checks { print("  ok \(check.path): \(check.detail)") }
        print("live and verified: \(report.checks.count) URLs answered as export #\(report.exportID ?? 0) says")
    }
}
