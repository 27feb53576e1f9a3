import ArgumentParser
import CutoverAPI
import CutoverCore
import CutoverFleet
import CutoverServer
import CutoverStore
import Foundation

/// Where a flip can send pages: static files are files, never a plan (so `--help` offers only these).
enum FlipTarget: String, CaseIterable, ExpressibleByArgument {
    case swift, php
    var owner: Owner { self == .swift ? .swift : .php }
}

struct FlipCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flip",
        abstract: "Plan pages for Swift (or back to PHP): by path, prefix or glob.",
        discussion: """
            Changes the plan only; 'cutover export' then writes the Apache directives. Each change is \
            recorded as an ownership event with the reason. Static files and unknown URLs are refused.
            Examples: cutover flip /page-1.php --to swift --reason "rewritten in Swift"
                      cutover flip --prefix /blog/ --to swift
                      cutover flip --glob '/shop/*.php' --to php --reason "roll back"
                      cutover flip --prefix /blog/ --to swift --require-parity
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var siteOptions: SiteOptions

    @OptionGroup var pages: PageSelectionOptions

    @Option(name: .customLong("to"), help: "New owner: swift, or php to roll back.")
    var target: FlipTarget
    var to: Owner { target.owner }

    @Option(name: .long, help: "Why; kept in the ownership history.")
    var reason = ""

    @Option(name: .long, help: "The page moves: Apache answers its old URL with a 301 to this path.")
    var redirectTo: String?

    @Flag(
        name: .long,
        help:
            "Allow a route prefix that covers the whole site, the front controller or static files; with --require-parity, flip pages whose parity is not same (needs --reason; the history records it)."
    )
    var force = false

    @Flag(name: .long, help: "Refuse pages whose latest parity verdict is not same (cutover parity), naming them.")
    var requireParity = false

    func validate() throws {
        guard pages.given == 1 else { throw ValidationError("give URL paths, --prefix or --glob (exactly one of them)") }
        if redirectTo != nil, to != .swift { throw ValidationError("--redirect-to goes with --to swift") }
    }

    func run() async throws {
        let database = try global.openDatabase()
        let site = try await siteOptions.resolve(in: database)
        guard let selection = pages.selection else { throw ValidationError("give URL paths, --prefix or --glob") }
        let actor = ProcessInfo.processInfo.environment["USER"].map { "cli:\($0)" } ?? "cli"
        let result = try await database.plan.flip(
            siteID: site.id,
            selection,
            to: to,
            reason: reason,
            actor: actor,
            redirectTo: redirectTo,
            force: force,
            requireParity: requireParity
        )
        // A fleet's nodes follow the plan once it is published: at once when the site asks.
        let publish = result.changed.isEmpty ? nil : await FleetPublisher(database: database, logger: global.logger()).publishIfAsked(site: site)
        if global.json {
            var view = FlipResultView(result)
            switch publish {
            case .published(let outcome): view.published = PublishResultView(outcome)
            case .failed(let reason): view.publishError = reason
            case nil: break
            }
            try Output.json(view)
            return
        }
        for path in result.changed { print("planned \(to.rawValue): \(path)") }
        if !result.unchanged.isEmpty { print("already planned \(to.rawValue): \(result.unchanged.count) URLs") }
        switch publish {
        case .published(let outcome):
            print("published plan version \(outcome.published.version) to the fleet (\(outcome.published.pages) pages): every node's agent follows")
        case .failed(let reason):
            print(
                "the plan is changed here but NOT published to the fleet: \(reason); run 'cutover publish --site \(site.name)' when the database is back"
            )
        case nil:
            if !result.changed.isEmpty { print("next: 'cutover export --site \(site.name) --check' and apply the directives") }
        }
    }
}
