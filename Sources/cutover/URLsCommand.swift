import ArgumentParser
import CutoverAPI
import CutoverCore
import CutoverStore
import Foundation

extension URLSort: ExpressibleByArgument {}
extension PageParity: ExpressibleByArgument {}

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

    @Option(name: .long, help: "Only URLs whose latest parity verdict is this (same, different, noisy, error; not-compared: none yet).")
    var parity: PageParity?

    @Flag(name: .long, help: "Only pages ready to flip: Swift answers them and their latest parity verdict is same.")
    var ready = false

    @Option(name: .long, help: "At most this many URLs.")
    var limit: Int?

    @Option(name: .long, help: "Sort by path, owner, status, latency, hits or lastSeen (most first for hits and lastSeen).")
    var sort: URLSort = .path

    @Option(name: .long, help: "Only URLs requested at least this many times in the imported access logs.")
    var minHits: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let minHits, minHits < 0 { throw ValidationError("--min-hits must be 0 or more") }
    }

    func run() async throws {
        let database = try global.openDatabase(readOnly: true)
        let site = try await siteOptions.resolve(in: database)
        var query = URLQuery(owner: owner, pathPrefix: prefix, includeGone: includeGone, driftOnly: drift, limit: limit)
        query.sort = sort
        query.descending = sort == .hits || sort == .lastSeen
        query.minHits = minHits
        query.parity = parity
        if ready { query.readyToFlip = true }
        let siteID = site.id
        let urls = try await database.blocking { [query] in try $0.inventory.views(siteID: siteID, query: query) }
        if global.json {
            try Output.json(urls.map(URLView.init))
            return
        }
        for url in urls {
            var flags = url.flags
            if url.gone { flags.append("gone") }
            let suffix = flags.isEmpty ? "" : "  [\(flags.joined(separator: ","))]"
            let hits = url.hits.map { "  \($0) hits" } ?? ""
            let parity = url.parity.map { "  parity \($0.rawValue)" } ?? (url.swiftAnswers ? "  answers, not compared" : "")
            print("\(url.owner.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)) \(url.path)\(suffix)\(hits)\(parity)")
        }
    }
}
