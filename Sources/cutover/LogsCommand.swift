import ArgumentParser
import CutoverAPI
import CutoverCore
import CutoverLogs
import CutoverStore
import Foundation

struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Import Apache access logs and show the traffic per URL.",
        subcommands: [LogsImportCommand.self, LogsShowCommand.self, LogsSummaryCommand.self, LogsResetCommand.self]
    )
}

struct LogsImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Count the requests of access logs per URL (incremental: a file is read from where the last import stopped).",
        discussion: """
            FORMAT is Apache's own LogFormat string as written in the config (quotes included or not), or a preset: \
            \(LogFormat.presets.keys.sorted().joined(separator: ", ")). Gzip files (rotated logs) are read directly. \
            A rotated file (access.log -> access.log.1 -> access.log.2.gz) is recognised by its first bytes and never counted twice. \
            '-' reads standard input whole, every time.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var siteOptions: SiteOptions

    @Option(name: .long, help: "LogFormat string or preset name (default: the site's accessLogFormat).")
    var format: String?

    @Option(name: .long, help: "Virtual host whose lines count when the format has %v or %V (repeatable; default: the site URL's host).")
    var vhost: [String] = []

    @Argument(help: "Log files ('-' for standard input).")
    var files: [String]

    func run() async throws {
        if let format {
            do {
                _ = try LogFormat(format)
            } catch {
                throw ValidationError(error.description)
            }
        }
        let database = try global.openDatabase()
        let site = try await siteOptions.resolve(in: database)
        // The same format as the site's scheduled logs job, unless told otherwise.
        let logFormat = try LogFormat(format ?? site.accessLogFormat)
        let importer = LogImporter(database: database, site: site, format: logFormat, hosts: vhost, logger: global.logger())
        var reports: [LogFileReport] = []
        var failures: [String] = []
        for file in files {
            do {
                let path = file == "-" ? file : absolutePath(file)
                reports.append(try await database.blocking { _ in try importer.importFile(path) })
            } catch {
                failures.append("\(error)")
            }
        }
        if global.json {
            try Output.json(LogImportReport(site: site.name, files: reports, errors: failures))
        } else {
            for report in reports { print(Self.describe(report, frontController: site.frontController)) }
        }
        for failure in failures {
            FileHandle.standardError.write(Data("error: \(ConfigText.visible(failure, limit: 1000))\n".utf8))
        }
        if !failures.isEmpty { throw ExitCode.failure }
    }

    /// `frontController`: the site's, whose routes the requested URLs without a file are.
    static func describe(_ report: LogFileReport, frontController: String? = nil) -> String {
        let name = ConfigText.visible(report.path, limit: 1000)
        switch report.outcome {
        case .empty:
            return "\(name): empty, nothing to import"
        case .upToDate where report.lines == 0:
            return "\(name): nothing new (\(ConfigText.visible(report.recognised, limit: 1000)))"
        default:
            var lines = [
                "\(name): \(report.lines) lines, \(report.requests) requests counted (\(ConfigText.visible(report.recognised, limit: 1000)))"
            ]
            if report.badLines > 0 {
                lines.append("  \(report.badLines) bad lines skipped, first:")
                for bad in report.firstBadLines {
                    lines.append("    line \(bad.line): \(bad.reason): \(ConfigText.visible(bad.text, limit: 120))")
                }
            }
            if report.noTargetLines > 0 { lines.append("  \(report.noTargetLines) lines name no URL path ('-', '*', not HTTP)") }
            if report.unusablePaths > 0 { lines.append("  \(report.unusablePaths) requests with a malformed path skipped") }
            if report.otherHostLines > 0 {
                let hosts = report.otherHosts.sorted { $0.value > $1.value }.prefix(5).map { "\(ConfigText.visible($0.key)) (\($0.value))" }
                lines.append("  \(report.otherHostLines) lines for other virtual hosts skipped: \(hosts.joined(separator: ", "))")
            }
            if report.urlsAdded > 0 {
                let owner = frontController.map { "routes of the front controller \($0), PHP's" } ?? "owned by the Swift fallback"
                lines.append("  \(report.urlsAdded) requested URLs without a file added to the inventory (\(owner))")
            }
            if report.tailRequests > 0 {
                lines.append(
                    "  \(report.tailRequests) requests to rarely requested paths counted in the day summaries of the tail (estimated, not one row each)"
                )
            }
            if report.probeLines > 0 { lines.append("  \(report.probeLines) requests of Cutover's own probes left out") }
            if report.partialLastLine { lines.append("  the last line has no newline yet: left for the next import") }
            return lines.joined(separator: "\n")
        }
    }
}

struct LogsResetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset",
        abstract: "Forget how far a log file was read, so the next import reads it from the start.",
        discussion: """
            Only for a file whose imports counted nothing (a wrong --format or --vhost before imports refused such stretches): \
            a file that counted requests is refused, since reading it again would count them twice.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var siteOptions: SiteOptions

    @Argument(help: "The log file, as it was imported.")
    var file: String

    func run() async throws {
        let database = try global.openDatabase()
        let site = try await siteOptions.resolve(in: database)
        let siteID = site.id
        let path = absolutePath(file)
        let rows = try await database.blocking { try $0.traffic.resetLogFile(siteID: siteID, path: path) }
        print(
            "\(ConfigText.visible(absolutePath(file), limit: 1000)): forgotten (\(rows.map(\.lines).reduce(0, +)) lines read, none counted); the next import reads it from the start"
        )
    }
}

struct LogImportReport: Encodable {
    var site: String
    var files: [LogFileReport]
    var errors: [String]
}

struct LogsShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "The most requested URL paths of a site, or one path's query strings and query values."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var siteOptions: SiteOptions

    @Option(name: .long, help: "How many paths.")
    var limit = 20

    @Option(name: .long, help: "Show this URL path's queries and query values.")
    var path: String?

    func run() async throws {
        let database = try global.openDatabase(readOnly: true)
        let site = try await siteOptions.resolve(in: database)
        let siteID = site.id
        guard let path else {
            let limit = max(1, min(limit, 10_000))
            let rows = try await database.blocking { try $0.traffic.top(siteID: siteID, limit: limit) }
            if global.json {
                try Output.json(rows.map(TrafficView.init))
                return
            }
            for row in rows {
                let counts = row.counts
                print("\(counts.hits)\t\(counts.hits - counts.botHits) human\t\(ConfigText.visible(row.path, limit: 1000))")
            }
            return
        }
        guard let canonical = PathEncoding.canonical(path),
            let (row, queries, values) = try await database.blocking({ database in
                try database.traffic.row(siteID: siteID, path: canonical).map { row in
                    (
                        row, try database.traffic.queries(siteID: siteID, path: canonical),
                        try database.traffic.queryValues(siteID: siteID, path: canonical)
                    )
                }
            })
        else {
            throw ValidationError("no traffic recorded for \(ConfigText.visible(path))")
        }
        if global.json {
            try Output.json(
                TrafficDetail(
                    traffic: TrafficView(row),
                    queries: queries.map { .init(query: $0.query, hits: $0.hits) },
                    values: values.map(QueryValueView.init)
                )
            )
            return
        }
        print("\(ConfigText.visible(row.path, limit: 1000)): \(row.counts.hits) hits, \(row.counts.botHits) from bots")
        for query in queries { print("  ?\(ConfigText.visible(query.query, limit: 1000))\t\(query.hits)") }
        if row.otherQueryHits > 0 { print("  (other queries)\t\(row.otherQueryHits)") }
        for value in values {
            print("  \(ConfigText.visible(value.key))=\(value.value.map { ConfigText.visible($0) } ?? "(other values)")\t\(value.hits)")
        }
    }
}

struct TrafficDetail: Encodable {
    struct Query: Encodable {
        var query: String
        var hits: Int
    }

    var traffic: TrafficView
    var queries: [Query]
    var values: [QueryValueView]
}

struct LogsSummaryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "What the imported logs say: Swift's share of page requests, what to port next, orphans, includes, noise."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var siteOptions: SiteOptions

    @Option(name: .long, help: "A PHP page with no request in this many days is an orphan.")
    var orphanDays = TrafficSummary.defaultOrphanDays

    func validate() throws {
        guard (1...3660).contains(orphanDays) else { throw ValidationError("--orphan-days must be from 1 to 3660") }
    }

    func run() async throws {
        let database = try global.openDatabase(readOnly: true)
        let site = try await siteOptions.resolve(in: database)
        let siteID = site.id
        let summary = try await database.traffic.summary(siteID: siteID, orphanDays: orphanDays)
        if global.json {
            try Output.json(TrafficSummaryView(summary))
            return
        }
        guard let from = summary.logsFrom, let to = summary.logsTo else {
            print("no access log imported for \(site.name) yet (cutover logs import)")
            return
        }
        print("logs cover \(from) to \(to)")
        for share in [summary.last7, summary.last30] {
            let percent = share.percentOnSwift.map { String(format: "%.1f %%", $0) } ?? "-"
            print(
                "last \(share.days) days: \(percent) of \(share.pageHits) page requests served by Swift "
                    + "(attributed by the log: \(share.byLog), by the latest probe: \(share.byProbe), by the inventory: \(share.byPlan))"
            )
            let human = share.humanPercentOnSwift.map { String(format: "%.1f %%", $0) } ?? "-"
            print("  people only (bots left out): \(human) of \(share.humanPageHits) page requests")
        }
        if !summary.portNext.isEmpty {
            print("port next (PHP pages by human requests, last 30 days):")
            for page in summary.portNext { print("  \(page.humanHits)\t\(ConfigText.visible(page.path, limit: 1000))") }
        }
        print("orphans (PHP pages with no request in \(summary.orphanDays) days): \(summary.orphanCount)")
        for path in summary.orphans { print("  \(ConfigText.visible(path, limit: 1000))") }
        print("includes (.php never requested, answering an error): \(summary.includeCount)")
        print("noise (requested, no file, only 4xx): \(summary.noiseCount) paths, \(summary.noiseHits) requests")
        for page in summary.noise.prefix(5) { print("  \(page.hits)\t\(ConfigText.visible(page.path, limit: 1000))") }
        let tail = summary.tail
        if tail.requests > 0 {
            print(
                "tail (paths without exact rows, last 30 days): \(tail.requests) requests, \(tail.clientErrorRequests) of them 4xx; "
                    + "per path estimated within ±\(tail.bound)"
            )
            for path in tail.paths.prefix(5) {
                print("  ≈\(path.hits)\t\(ConfigText.visible(path.path, limit: 1000))\t(certainly \(path.certain), on \(path.days) days)")
            }
        }
        for suggestion in summary.pageKeySuggestions {
            let values = suggestion.topValues.map { ConfigText.visible($0.value ?? "", limit: 60) }.joined(separator: ", ")
            print(
                "page key? \(ConfigText.visible(suggestion.script, limit: 1000))=\(suggestion.key): \(suggestion.distinctValues) values in "
                    + "\(suggestion.keyHits) of \(suggestion.scriptHits) requests (\(values)); declare it with 'cutover site set \(site.name) --page-key \(suggestion.script)=\(suggestion.key)'"
            )
        }
    }
}
