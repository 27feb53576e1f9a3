import ArgumentParser
import CutoverCore
import CutoverStore
import Foundation

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
            reload. 'canary promote' flips the pages to Swift; 'canary abort' sends every visitor back to PHP.
            """,
        subcommands: [Start.self, Weight.self, Promote.self, Abort.self, List.self]
    )

    static let applyHint = "now 'cutover apply --form tree|dbm|rewritemap --map-file PATH' (as exported) puts it live without a reload"

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

        func validate() throws {
            guard pages.given == 1 else { throw ValidationError("give URL paths, --prefix or --glob (exactly one of them)") }
            if let steps, steps.split(separator: ",").contains(where: { Int($0.trimmingCharacters(in: .whitespaces)) == nil }) {
                throw ValidationError("--steps must be comma-separated whole numbers such as 1,5,25,50,100")
            }
        }

        func run() async throws {
            let database = try global.openDatabase()
            let site = try await siteOptions.resolve(in: database)
            guard let selection = pages.selection else { throw ValidationError("give URL paths, --prefix or --glob") }
            let weights = steps.map { $0.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } } ?? Canary.defaultSteps
            let canary = try await database.plan.startCanary(siteID: site.id, name: name, selection, steps: weights)
            print(CanaryCommand.describe(canary))
            print("next: 'cutover canary weight \(canary.name) \(canary.steps[0]) --site \(site.name)', then \(CanaryCommand.applyHint)")
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
            let canary = try await database.plan.setCanaryWeight(siteID: site.id, name: name, weight: weight)
            print(CanaryCommand.describe(canary))
            print(CanaryCommand.applyHint)
        }
    }

    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a canary by flipping its pages to Swift for every visitor.")
        @OptionGroup var ending: Ending

        func run() async throws { try await ending.end(promote: true) }
    }

    struct Abort: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a canary by sending every visitor of its pages back to PHP.")
        @OptionGroup var ending: Ending

        func run() async throws { try await ending.end(promote: false) }
    }

    /// What promote and abort share: the canary named, and ending it.
    struct Ending: ParsableArguments {
        @OptionGroup var global: GlobalOptions
        @OptionGroup var siteOptions: SiteOptions
        @Argument(help: "The canary's name.") var name: String

        func end(promote: Bool) async throws {
            let database = try global.openDatabase()
            let site = try await siteOptions.resolve(in: database)
            let actor = ProcessInfo.processInfo.environment["USER"].map { "cli:\($0)" } ?? "cli"
            let canary = try await database.plan.endCanary(siteID: site.id, name: name, promote: promote, actor: actor)
            print(CanaryCommand.describe(canary))
            print(CanaryCommand.applyHint)
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
