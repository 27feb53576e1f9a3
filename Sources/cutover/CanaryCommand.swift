import ArgumentParser
import CutoverCore
import CutoverExport
import CutoverFleet
import CutoverStore
import Foundation
import Logging

/// `cutover canary`: progressive flips (#29) — a share of visitors reaches Swift for a set of pages.
struct CanaryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "canary",
        abstract: "Send a share of a set of pages' visitors to Swift, then more, then all (progressive flips).",
        discussion: """
            A canary starts at 0 %; 'canary weight' sets the share of visitors Apache sends to Swift for its pages. Each \
            visitor draws a bucket once (the cutover_cohort cookie) and is on Swift where the weight is above it, so a \
            visit never switches sides and raising the weight only moves visitors from PHP to Swift. Testers reach Swift \
            at any weight with the side header (cutover site side-secret). Needs a map form (tree, dbm or rewritemap): \
            after each change, 'cutover apply --form F --map-file P' rewrites the weights and Apache follows without a \
            reload. 'canary promote' flips the pages to Swift; 'canary abort' sends every visitor back to PHP. \
            With --auto (and --map-file, --form) 'cutover serve' analyses it every interval from the imported access \
            logs (Swift against PHP over the same window: 5xx rate, latency) and steps it, holds it or rolls it back, \
            writing the weights itself; 'canary check' does one such analysis now.
            """,
        subcommands: [Start.self, Weight.self, Promote.self, Abort.self, Pause.self, Resume.self, Check.self, Show.self, List.self]
    )

    static let applyHint = "now 'cutover apply --form tree|dbm|rewritemap --map-file PATH' (as exported) puts it live without a reload"

    /// Writes the map of a canary that names one (and says so), or says how to put it live.
    static func published(_ canary: CanaryRecord, site: SiteRecord, database: AppDatabase, logger: Logger) async throws {
        let publication = await CanaryStepper(database: database, logger: logger).publish(canary, site: site)
        if let path = publication.map { print("wrote \(path): Apache follows without a reload") }
        if let version = publication.fleetVersion {
            print("published plan version \(version) to the site's fleet: its nodes follow without a reload")
        }
        if let error = publication.error {
            FileHandle.standardError.write(
                Data("error: the plan changed but the map was not written: \(ConfigText.visible(error, limit: 1000))\n".utf8)
            )
            throw ExitCode.failure
        }
        if publication.map == nil && publication.fleetVersion == nil { print(applyHint) }
    }

    static var actor: String { ProcessInfo.processInfo.environment["USER"].map { "cli:\($0)" } ?? "cli" }

    static func describe(_ canary: CanaryRecord) -> String {
        "canary \(canary.name): \(canary.state.rawValue), \(canary.weight) % of visitors on Swift, \(canary.pages.count) URLs, steps "
            + canary.steps.map { "\($0)" }.joined(separator: "→")
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start a canary at 0 % over pages by path, prefix or glob.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var siteOptions: SiteOptions
        @Argument(help: "The canary's name (letters, digits, '-', '_', '.').") var name: String
        @OptionGroup var pages: PageSelectionOptions
        @Option(name: .long, help: "The weights it goes through, comma-separated (default 1,5,25,50,100).") var steps: String?
        @Flag(name: .long, help: "Step it automatically: 'cutover serve' analyses each interval and promotes, holds or rolls back.")
        var auto = false
        @Option(name: .long, help: "The map file (or tree folder) its weights are written to, as for 'cutover apply'.") var mapFile: String?
        @Option(name: .long, help: "The map's form: rewritemap, dbm or tree.") var form: ExportForm?
        @Option(name: .long, help: "Time at each step between analyses: 30s, 10m, 1h (default 10m).") var interval: String?
        @Option(name: .long, help: "Requests each side needs in a step's window before it is judged (default 50).") var minRequests: Int?
        @Option(name: .long, help: "Percentage points Swift's 5xx rate may exceed PHP's (default 1).") var maxErrorIncrease: Double?
        @Option(name: .long, help: "How many times PHP's p95 Swift's may be (default 1.5).") var latencyRatio: Double?
        @Option(name: .long, help: "Milliseconds Swift's p95 may exceed PHP's whatever the ratio (default 50).") var latencyAllowance: Double?
        @Option(name: .long, help: "After this long without enough traffic at a step: --on-low-traffic (default: wait).") var trafficWait: String?
        @Option(name: .long, help: "hold or promote, once --traffic-wait has passed (default hold).") var onLowTraffic: CanaryPolicy.LowTraffic?

        func validate() throws {
            guard pages.given == 1 else { throw ValidationError("give URL paths, --prefix or --glob (exactly one of them)") }
            if let steps, steps.split(separator: ",").contains(where: { Int($0.trimmingCharacters(in: .whitespaces)) == nil }) {
                throw ValidationError("--steps must be comma-separated whole numbers such as 1,5,25,50,100")
            }
            if (mapFile == nil) != (form == nil) { throw ValidationError("--map-file and --form go together") }
            if let form, !form.usesMapFile { throw ValidationError("--form must be rewritemap, dbm or tree (a map the service can rewrite)") }
            if auto, mapFile == nil { throw ValidationError("--auto needs --map-file and --form: the service writes the weights itself") }
            for (name, text) in [("--interval", interval), ("--traffic-wait", trafficWait)] {
                if let text, Interval.seconds(text) == nil {
                    throw ValidationError("\(name) must be a number followed by s, m, h or d (such as 10m)")
                }
            }
        }

        var options: CanaryOptions {
            var policy = CanaryPolicy()
            if let interval { policy.intervalSeconds = Interval.seconds(interval) ?? policy.intervalSeconds }
            if let minRequests { policy.minRequests = minRequests }
            if let maxErrorIncrease { policy.maxErrorIncrease = maxErrorIncrease }
            if let latencyRatio { policy.latencyRatio = latencyRatio }
            if let latencyAllowance { policy.latencyAllowanceMs = latencyAllowance }
            if let trafficWait { policy.trafficWaitSeconds = Interval.seconds(trafficWait) }
            if let onLowTraffic { policy.onLowTraffic = onLowTraffic }
            return CanaryOptions(policy: policy, automatic: auto, map: form.flatMap { form in mapFile.map { (form, absolutePath($0)) } })
        }

        func run() async throws {
            let database = try global.openDatabase()
            let site = try await siteOptions.resolve(in: database)
            guard let selection = pages.selection else { throw ValidationError("give URL paths, --prefix or --glob") }
            let weights = steps.map { $0.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } } ?? Canary.defaultSteps
            let canary = try await database.plan.startCanary(
                siteID: site.id,
                name: name,
                selection,
                steps: weights,
                options: options,
                actor: CanaryCommand.actor
            )
            print(CanaryCommand.describe(canary))
            if try await database.blocking({ try Exporter(database: $0).newestExportHasCanaryRules(site: site) }) == false {
                print(
                    "the site's newest export has no canary rules (it was made before its first canary): export it again and reload Apache once; after that, weights need no reload"
                )
            }
            if canary.automatic {
                print(
                    "'cutover serve' steps it every \(Interval.text(canary.policy.intervalSeconds)) from the imported access logs; 'cutover canary check \(canary.name)' analyses now"
                )
            } else {
                print("next: 'cutover canary weight \(canary.name) \(canary.steps[0]) --site \(site.name)', then \(CanaryCommand.applyHint)")
            }
        }
    }

    struct Weight: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set the share of visitors (0-100 %) a running canary sends to Swift.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var siteOptions: SiteOptions
        @Argument(help: "The canary's name.") var name: String
        @Argument(help: "Share of visitors on Swift, 0-100.") var weight: Int

        func run() async throws {
            let database = try global.openDatabase()
            let site = try await siteOptions.resolve(in: database)
            let canary = try await database.plan.setCanaryWeight(siteID: site.id, name: name, weight: weight, actor: CanaryCommand.actor)
            print(CanaryCommand.describe(canary))
            try await CanaryCommand.published(canary, site: site, database: database, logger: global.logger())
        }
    }

    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a canary by flipping its pages to Swift for every visitor.")
        @OptionGroup var canary: Named

        func run() async throws { try await canary.end(promote: true) }
    }

    struct Abort: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a canary by sending every visitor of its pages back to PHP.")
        @OptionGroup var canary: Named

        func run() async throws { try await canary.end(promote: false) }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Keep a canary at its weight: analyses go on, no automatic step.")
        @OptionGroup var canary: Named

        func run() async throws { try await canary.set(paused: true) }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Let a paused canary step again.")
        @OptionGroup var canary: Named

        func run() async throws { try await canary.set(paused: false) }
    }

    /// What promote, abort, pause and resume share: the canary named, and what they change.
    struct Named: ParsableArguments {
        @OptionGroup var global: GlobalOptions
        @OptionGroup var siteOptions: SiteOptions
        @Argument(help: "The canary's name.") var name: String

        func end(promote: Bool) async throws {
            let database = try global.openDatabase()
            let site = try await siteOptions.resolve(in: database)
            let canary = try await database.plan.endCanary(siteID: site.id, name: name, promote: promote, actor: CanaryCommand.actor)
            print(CanaryCommand.describe(canary))
            try await CanaryCommand.published(canary, site: site, database: database, logger: global.logger())
        }

        func set(paused: Bool) async throws {
            let database = try global.openDatabase()
            let site = try await siteOptions.resolve(in: database)
            let canary = try await database.plan.pauseCanary(siteID: site.id, name: name, paused: paused, actor: CanaryCommand.actor)
            print(CanaryCommand.describe(canary))
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Analyse a running canary now and act: the next step, hold, wait, or roll back to 0 %.",
            discussion: """
                Compares what Swift and PHP answered for the canary's pages since its weight last changed, from the \
                access logs imported so far ('cutover logs'), as 'cutover serve' does every interval for --auto canaries. \
                A canary with a map writes its new weights there. Exit 3 when it was rolled back.
                """
        )
        @OptionGroup var global: GlobalOptions
        @OptionGroup var siteOptions: SiteOptions
        @Argument(help: "The canary's name.") var name: String

        func run() async throws {
            let database = try global.openDatabase()
            let site = try await siteOptions.resolve(in: database)
            let outcome = try await CanaryStepper(database: database, logger: global.logger()).step(
                site: site,
                name: name,
                actor: CanaryCommand.actor
            )
            print("\(outcome.decision.rawValue): \(outcome.reason)")
            print(CanaryCommand.describe(outcome.canary))
            if let path = outcome.published { print("wrote \(path)") }
            if let error = outcome.publishError {
                FileHandle.standardError.write(Data("error: the weights were not written: \(ConfigText.visible(error, limit: 1000))\n".utf8))
                throw ExitCode.failure
            }
            // Run from cron without 'cutover serve': what the step notified is sent now.
            _ = await WebhookCommand.deliverDue(database, logger: global.logger())
            if outcome.decision == .rollback { throw ExitCode(3) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A canary's steps and decisions, newest first, and its current window.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var siteOptions: SiteOptions
        @Argument(help: "The canary's name.") var name: String

        func run() async throws {
            let database = try global.openDatabase(readOnly: true)
            let site = try await siteOptions.resolve(in: database)
            let canary = try await database.plan.canary(siteID: site.id, name: name)
            print(CanaryCommand.describe(canary))
            if let reason = canary.endedReason { print("ended: \(reason)") }
            if canary.state == .running, let started = canary.stepStartedAt {
                let (swift, php) = try await database.plan.canaryWindow(canaryID: canary.id, since: started)
                let different = try await database.plan.parityDifferent(canaryID: canary.id)
                let analysis = CanaryAnalysis.judge(swift: swift, php: php, policy: canary.policy, parityDifferent: different)
                print("at \(canary.weight) % since \(Output.date(started)): \(analysis.verdict.rawValue): \(analysis.reason)")
            }
            let decisions = try await database.plan.canaryDecisions(canaryID: canary.id, limit: 50)
            if let stale = CanaryStaleness.reason(canary, lastDecision: decisions.first?.at, now: database.clock.now()) { print(stale) }
            for decision in decisions {
                print("\(Output.date(decision.at))  \(decision.weight) %  \(decision.decision.rawValue)  \(decision.reason)  (\(decision.actor))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the site's canaries, newest first.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var siteOptions: SiteOptions

        func run() async throws {
            let database = try global.openDatabase(readOnly: true)
            let site = try await siteOptions.resolve(in: database)
            let canaries = try await database.plan.canaries(siteID: site.id)
            if canaries.isEmpty { print("no canaries: 'cutover canary start NAME PATHS… --site \(site.name)'") }
            for canary in canaries { print(CanaryCommand.describe(canary)) }
        }
    }
}

extension CanaryPolicy.LowTraffic: ExpressibleByArgument {}
