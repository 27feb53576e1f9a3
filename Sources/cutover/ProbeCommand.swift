import ArgumentParser
import CutoverCore
import CutoverProbe
import CutoverStore
import Foundation

struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Ask the live site who answers each URL, check the fallback, and report drift.",
        discussion: """
            Requests every inventory URL through the site URL (Apache), never following redirects, and a \
            random missing path that must reach the Swift backend. A site with nodes ('cutover site set --node \
            URL') also has each node asked directly with the site's Host, so a node that missed a change is \
            named (node drift). Exits with status 3 when a URL drifted from its expected owner, a node \
            drifted or the fallback is broken, so cron and CI can alert on it.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var siteOptions: SiteOptions

    @Option(name: .long, help: "Requests in flight at once (1-1024).")
    var concurrency = 16

    @Option(name: .long, help: "Seconds before a request counts as timed out.")
    var timeout: Double = 5

    @Option(name: .long, help: "Bytes of each body to read and hash.")
    var bodyCap = 256 * 1024

    @Flag(name: .long, help: "Do not ask the Swift backend directly whether it serves PHP pages already.")
    var noBackendCheck = false

    func run() async throws {
        let database = try global.openDatabase()
        let site = try await siteOptions.resolve(in: database)
        guard timeout.isFinite, timeout > 0 else { throw ValidationError("--timeout must be a positive number of seconds") }
        let configuration = ProbeConfiguration(
            concurrency: concurrency,
            timeout: .milliseconds(Int64(timeout * 1000)),
            bodyCap: bodyCap,
            checkBackend: !noBackendCheck
        )
        let line = ProgressLine()
        let report = try await Prober(database: database, configuration: configuration, logger: global.logger()).probe(site: site) { progress in
            line.update("probing: \(progress.done)/\(progress.total)")
        }
        line.finish()
        if global.json {
            // Written directly, without whitespace: 10,000 results through JSONEncoder's pretty
            // printing cost a tenth of the probe (scripts/bench-apache.py probe).
            FileHandle.standardOutput.write(Data(try report.jsonBytes() + [UInt8(ascii: "\n")]))
        } else {
            printReport(report)
        }
        if report.needsAttention { throw ExitCode(3) }
    }

    func printReport(_ report: ProbeReport) {
        let run = report.run
        print(
            "probe #\(run.id ?? 0): \(run.urlCount) URLs, \(run.driftCount) drifted, \(run.errorCount) without answer, "
                + "\(run.readyCount) PHP pages ready to flip"
        )
        print("fallback: \(report.fallback.healthy ? "ok" : "BROKEN") — \(report.fallback.detail)")
        if run.skippedIncludes + run.skippedDenied > 0 {
            print(
                "not requested: \(run.skippedIncludes) includes unchanged since probed, \(run.skippedDenied) on the site's probe deny-list "
                    + "(requesting a script runs it; see 'cutover site set --probe-skip')"
            )
        }
        if let hint = report.timeoutHint { print("timeouts: \(hint)") }
        for node in report.nodes {
            let export = node.exportID.map { ", export \($0)" } ?? ""
            print(
                "node \(SiteNodes.label(node.node)): \(node.urlCount) URLs, \(node.driftedURLs) drifted, \(node.errorCount) without answer\(export)"
                    + (node.driftCount == 0 ? "" : " — NODE DRIFT")
            )
            for line in node.problems { print("  \(line)") }
        }
        for outcome in report.drifted.prefix(50) {
            let observed = outcome.observation.observedOwner?.rawValue ?? "-"
            print(
                "  drift \(outcome.target.path): expected \(outcome.target.expectedOwner.rawValue), observed \(observed) (\(outcome.observation.status ?? 0))"
            )
        }
        if report.drifted.count > 50 { print("  ... and \(report.drifted.count - 50) more (use --json)") }
        let failures = report.outcomes.filter { $0.observation.errorKind != nil }
        for outcome in failures.prefix(20) {
            print("  no answer \(outcome.target.path): \(outcome.observation.errorKind!.rawValue) \(outcome.observation.errorMessage ?? "")")
        }
        if failures.count > 20 { print("  ... and \(failures.count - 20) more (use --json)") }
    }
}
