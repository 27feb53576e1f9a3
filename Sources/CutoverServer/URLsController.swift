import CutoverAPI
import CutoverCore
import CutoverFleet
import CutoverStore
import Foundation
import Hummingbird

/// A site's URLs: filtered, sorted pages; one URL with its history; flips.
struct URLsController {
    let database: AppDatabase
    let cache: ReadCache

    func add(to api: RouterGroup<AppContext>) {
        api.get("sites/:site/urls") { request, context in
            let site = try await cache.site(context, in: database)
            let parameters = QueryValues(request)
            var query = URLQuery(
                owner: try parameters.owner("owner"),
                pathPrefix: parameters.text("prefix"),
                driftOnly: try parameters.bool("drift") ?? false,
                limit: try parameters.int("limit", default: 100, range: 1...1000),
                offset: try parameters.int("offset", default: 0, range: 0...Int(Int32.max))
            )
            query.plannedOwner = try parameters.owner("planned")
            query.observedOwner = try parameters.owner("observed")
            query.readyToFlip = try parameters.bool("ready")
            if let parity = parameters.text("parity") {
                guard let verdict = PageParity(rawValue: parity) else {
                    throw APIError(
                        .unprocessableContent,
                        "invalid",
                        "'parity' must be one of \(PageParity.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                query.parity = verdict
            }
            query.include = try parameters.bool("include")
            if parameters.text("minHits") != nil {
                query.minHits = try parameters.int("minHits", default: 0, range: 0...Int(Int32.max))
            }
            query.search = parameters.text("q")
            if let sort = parameters.text("sort") {
                guard let value = URLSort(rawValue: sort) else {
                    throw APIError(
                        .unprocessableContent,
                        "invalid",
                        "'sort' must be one of \(URLSort.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                query.sort = value
            }
            if let order = parameters.text("order") {
                guard order == "asc" || order == "desc" else { throw APIError(.unprocessableContent, "invalid", "'order' must be asc or desc") }
                query.descending = order == "desc"
            }
            if let after = parameters.text("after") {
                guard query.sort == .path else { throw APIError(.unprocessableContent, "invalid", "'after' works with sort=path only") }
                query.afterPath = after
            }
            let finalQuery = query
            var countKey = finalQuery
            countKey.limit = nil
            countKey.offset = 0
            countKey.afterPath = nil
            // The total may read every URL of the site (0.1 s at 1,000,000): on GRDB's queues, so
            // the blocking pool stays free for pages.
            let total = try await cache.value(.count(site: site.name, query: countKey)) { [database, countKey] in
                try await database.inventory.count(siteID: site.id, query: countKey)
            }
            return try await blockingRead { [database] in
                var page = URLPageWriter(limit: finalQuery.limit!, wantsCursor: finalQuery.sort == .path)
                try database.inventory.forEachURL(siteID: site.id, query: finalQuery) { try page.append($0) }
                return page.finish(offset: finalQuery.offset, total: total)
            }
        }
        api.get("sites/:site/urls/:id") { _, context in
            let site = try await cache.site(context, in: database)
            guard let id = context.parameters.get("id", as: Int64.self), let detail = try await database.inventory.detail(siteID: site.id, id: id)
            else {
                throw APIError(.notFound, "not_found", "no such URL in site '\(site.name)'")
            }
            return URLDetailView(detail)
        }
        api.post("sites/:site/flips") { request, context in
            let site = try await database.site(context)
            let input = try await request.decode(as: FlipInput.self, context: context)
            let selections = [input.paths.map { URLSelection.paths($0) }, input.prefix.map { .prefix($0) }, input.glob.map { .glob($0) }]
                .compactMap { $0 }
            guard selections.count == 1, input.paths?.isEmpty != true else {
                throw APIError(.unprocessableContent, "invalid", "give exactly one of paths (non-empty), prefix or glob")
            }
            var result = FlipResultView(
                try await database.plan.flip(
                    siteID: site.id,
                    selections[0],
                    to: Owner(input.to),
                    reason: input.reason ?? "",
                    actor: "api",
                    redirectTo: input.redirectTo,
                    force: input.force ?? false,
                    requireParity: input.requireParity ?? false
                )
            )
            // A fleet's nodes follow the plan once it is published: at once when the site asks.
            if !result.changed.isEmpty {
                switch await FleetPublisher(database: database, logger: context.logger).publishIfAsked(site: site) {
                case .published(let outcome): result.published = PublishResultView(outcome)
                case .failed(let reason): result.publishError = reason
                case nil: break
                }
            }
            return result
        }
    }
}

extension FlipResultView: ResponseEncodable {}
extension URLDetailView: ResponseEncodable {}
