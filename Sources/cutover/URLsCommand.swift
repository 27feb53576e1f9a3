import ArgumentParser
import CutoverCore
import CutoverStore
import Foundation

extension Owner: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}

struct URLsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "urls", abstract: "List the site's URLs with their owners.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var siteOptions: SiteOptions

    @Option(name: .long, help: "Only URLs with this owner (php, swift, static).")
    var owner: Owner?

    @Option(name: .long, help: "Only URLs whose path starts with this prefix.")
    var prefix: String?

    @Flag(name: .long, help: "Only URLs whose latest probe disagrees with the expected owner.")
    var drift = false

    @Flag(name: .long, help: "Include static files that are gone from disk.")
    var includeGone = false

    @Option(name: .long, help: "At most this many URLs.")
    var limit: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let database = try global.openDatabase(readOnly: true)
        let site = try siteOptions.resolve(in: database)
        let urls = try database.urls(
            siteID: site.id!,
            query: URLQuery(owner: owner, pathPrefix: prefix, includeGone: includeGone, driftOnly: drift, limit: limit)
        )
        if global.json {
            try Output.json(urls.map(URLView.init))
            return
        }
        for url in urls {
            var flags = url.urlFlags.names
            if url.gone { flags.append("gone") }
            let suffix = flags.isEmpty ? "" : "  [\(flags.joined(separator: ","))]"
            print("\(url.owner.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)) \(url.path)\(suffix)")
        }
    }
}
