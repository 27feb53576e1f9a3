import ArgumentParser
import CutoverCore
import CutoverParity
import CutoverProbe
import CutoverStore
import Foundation

struct ParityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parity",
        abstract: "Compare how Swift and PHP answer each page, through Apache; write fixtures for the Swift app's tests.",
        subcommands: [ParityRunCommand.self, ParityFixturesCommand.self],
        defaultSubcommand: ParityRunCommand.self
    )
}

struct ParityRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Compare how Swift and PHP answer each page, through Apache (the default: 'cutover parity PATHS…').",
        discussion: """
            Fetches each page through the site URL as PHP, then Swift, then PHP again (the X-Cutover-Side \
            header with the site's secret picks the side: the site's export must be live), GET only, and \
            compares the Swift answer with PHP's field by field; fields that differ between the two PHP \
            answers are noise. Pages on the probe's deny-list are never requested. Verdicts: same, \
            different, noisy, error. Exits with status 3 when a page is not the same.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var siteOptions: SiteOptions

    /// None given: every page that is not a static file or an include.
    @OptionGroup var pages: PageSelectionOptions

    @OptionGroup var fetching: ParityFetchOptions

    func run() async throws {
        let configuration = try fetching.configuration(pages)
        let bodyCap = configuration.bodyCap
        let database = try global.openDatabase()
        let site = try await siteOptions.resolve(in: database)
        let selection = pages.selection
        let siteID = site.id
        let records = try await database.blocking { try $0.plan.parityPages(siteID: siteID, selection) }
        let rules = ParityRules.site(site, bodyCap: bodyCap)
        let line = ProgressLine()
        let check = ParityCheck(database: database, configuration: configuration, logger: global.logger("cutover.parity"))
        let report = try await check.check(site: site, pages: records, rules: rules) { done, total in
            line.update("parity: \(done)/\(total)")
        }
        line.finish()
        let ordered = report.outcomes
        if global.json {
            try Output.json(ordered.map(ParityView.init))
        } else {
            print(Self.text(ordered, run: report.run))
        }
        if ordered.contains(where: { $0.result?.verdict != .same }) { throw ExitCode(3) }
    }

    static func text(_ outcomes: [ParityOutcome], run: ParityRunRecord) -> String {
        var counts: [String: Int] = [:]
        var lines: [String] = []
        for outcome in outcomes {
            guard let result = outcome.result else {
                counts["not compared", default: 0] += 1
                lines.append("not compared  \(ConfigText.visible(outcome.path)): \(outcome.notCompared ?? "")")
                continue
            }
            counts[result.verdict.rawValue, default: 0] += 1
            guard result.verdict != .same else { continue }
            lines.append("\(result.verdict.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0)) \(ConfigText.visible(outcome.path))")
            if let reason = result.reason { lines.append("    \(reason)") }
            for difference in result.differences.prefix(10) {
                let php = difference.php.map { "\"\(ConfigText.visible($0))\"" } ?? "(none)"
                let swift = difference.swift.map { "\"\(ConfigText.visible($0))\"" } ?? "(none)"
                lines.append("    \(ConfigText.visible(difference.field)): PHP \(php) | Swift \(swift)")
            }
            if result.differences.count > 10 { lines.append("    … and \(result.differences.count - 10) more") }
        }
        let summary = ["same", "different", "noisy", "error", "not compared"].compactMap { name in counts[name].map { "\($0) \(name)" } }
        var head = ["parity run #\(run.id ?? 0): \(outcomes.count) pages: " + (summary.isEmpty ? "none" : summary.joined(separator: ", "))]
        if !run.siteNoise.isEmpty {
            head.append(
                "noise on every page (it changed by itself on enough pages): " + run.siteNoise.map { ConfigText.visible($0) }.joined(separator: ", ")
            )
        }
        return (head + lines).joined(separator: "\n")
    }
}

/// A page's parity in `--json`.
struct ParityView: Encodable {
    struct Difference: Encodable {
        var field: String
        var php: String?
        var swift: String?
    }

    var path: String
    var verdict: String
    var reason: String?
    var differences: [Difference]
    var noise: [String]
    var hidden: [String: Int]

    init(_ outcome: ParityOutcome) {
        path = outcome.path
        verdict = outcome.result?.verdict.rawValue ?? "not-compared"
        reason = outcome.result?.reason ?? outcome.notCompared
        differences = (outcome.result?.differences ?? []).map { Difference(field: $0.field, php: $0.php, swift: $0.swift) }
        noise = outcome.result?.noise ?? []
        hidden = outcome.result?.hidden ?? [:]
    }
}

/// `cutover parity fixtures`: each page's PHP answer, its noise and the site's rules as one JSON
/// file a Swift test suite loads (`ParityFixture` of the CutoverParity library) to compare its
/// own responses, so a team checks parity in its own CI before it deploys.
struct ParityFixturesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fixtures",
        abstract: "Write each page's PHP answer, noise and rules as fixtures for the Swift app's own tests.",
        discussion: """
            Fetches each page twice as PHP through the site URL with the side header (the export must \
            be live; GET only, never a page on the probe's deny-list); fields that differ between the \
            two answers, and the latest parity run's site-wide noise, are the fixture's noise. Writes \
            DIR/<page>.json per page and DIR/index.json (path -> file). A Set-Cookie keeps its name, \
            not its value. In the Swift app's tests: ParityFixture(json:).compare(response).
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var siteOptions: SiteOptions
    @OptionGroup var pages: PageSelectionOptions

    @Option(name: .long, help: "The folder the fixtures are written to (created when missing).")
    var out: String

    @OptionGroup var fetching: ParityFetchOptions

    func run() async throws {
        let configuration = try fetching.configuration(pages)
        let bodyCap = configuration.bodyCap
        let folder = URL(fileURLWithPath: out, isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let database = try global.openDatabase()
        let site = try await siteOptions.resolve(in: database)
        let selection = pages.selection
        let siteID = site.id
        let records = try await database.blocking { try $0.plan.parityPages(siteID: siteID, selection) }
        let siteNoise = try await database.blocking { try $0.parity.runs(siteID: siteID, limit: 1).first?.siteNoise ?? [] }
        let secret = try await database.sites.sideSecret(site: site)
        let (requested, denied) = ParityRunner.split(records, site: site)
        let line = ProgressLine()
        let made = await ParityRunner(configuration: configuration).fixtures(
            publicURL: site.publicURL,
            secret: secret,
            paths: requested,
            rules: ParityRules.site(site, bodyCap: bodyCap),
            siteNoise: siteNoise,
            credentials: try await database.sites.parityCredentials(site: site)
        ) { done, total in line.update("fixtures: \(done)/\(total)") }
        line.finish()
        var index: [String: String] = [:]
        var failures: [String] = []
        for (path, fixture, failure) in made {
            guard let fixture else {
                failures.append("\(ConfigText.visible(path)): \(failure ?? "not fetched")")
                continue
            }
            let name = Self.fileName(path)
            try fixture.json().write(to: folder.appendingPathComponent(name), options: .atomic)
            index[path] = name
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(index).write(to: folder.appendingPathComponent("index.json"), options: .atomic)
        print("fixtures: \(index.count) pages written to \(folder.path)")
        for page in denied { print("not fetched  \(ConfigText.visible(page.path)): \(ConfigText.visible(page.reason))") }
        for failure in failures { print("error        \(failure)") }
        if !failures.isEmpty { throw ExitCode(3) }
    }

    /// A file name for a page: its path's ASCII letters and digits, and a hash of the whole path so two
    /// paths that differ only in other characters never share a file.
    static func fileName(_ path: String) -> String {
        var slug = String(path.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) && $0.isASCII ? Character($0) : "_" })
        slug = String(slug.trimmingCharacters(in: CharacterSet(charactersIn: "_")).prefix(80))
        // FNV-1a over the path's bytes: stable from run to run, so a regenerated folder diffs.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in path.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return (slug.isEmpty ? "root" : slug) + "-" + String(hash, radix: 16) + ".json"
    }
}

/// How parity and its fixtures fetch: pages at once, the timeout, the body cap.
struct ParityFetchOptions: ParsableArguments {
    @Option(name: .long, help: "Pages fetched at once (1-1024).")
    var concurrency = 8

    @Option(name: .long, help: "Seconds before a request counts as timed out.")
    var timeout: Double = 10

    @Option(name: .long, help: "Bytes of each body read and compared.")
    var bodyCap = 2 << 20

    /// The fetch configuration, after checking these and that at most one page selection is given.
    func configuration(_ pages: PageSelectionOptions) throws -> ProbeConfiguration {
        guard pages.given <= 1 else { throw ValidationError("give URL paths, --prefix or --glob (at most one of them)") }
        guard timeout.isFinite, timeout > 0 else { throw ValidationError("--timeout must be a positive number of seconds") }
        let configuration = ProbeConfiguration(concurrency: concurrency, timeout: .milliseconds(Int64(timeout * 1000)), bodyCap: bodyCap)
        let problems = configuration.problems()
        guard problems.isEmpty else { throw ValidationError(problems.joined(separator: "; ")) }
        return configuration
    }
}
