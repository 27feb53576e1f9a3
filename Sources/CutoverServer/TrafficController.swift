import CutoverAPI
import CutoverCore
import CutoverStore
import Foundation
import Hummingbird

/// Traffic from the imported access logs: per path, per day, and the log files read so far.
struct TrafficController {
    let database: AppDatabase
    let cache: ReadCache

    func add(to api: RouterGroup<AppContext>) {
        api.get("sites/:site/traffic") { request, context -> TrafficPageView in
            let site = try await cache.site(context, in: database)
            let parameters = QueryValues(request)
            let limit = try parameters.int("limit", default: 100, range: 1...1000)
            let offset = try parameters.int("offset", default: 0, range: 0...10_000_000)
            let sortText = parameters.text("sort") ?? "hits"
            guard let order = TrafficStore.TrafficOrder(rawValue: sortText) else {
                let names = TrafficStore.TrafficOrder.allCases.map(\.rawValue).joined(separator: ", ")
                throw APIError(.unprocessableContent, "invalid", "'sort' must be one of \(names)")
            }
            var prefix: String? = nil
            if let text = parameters.text("prefix") {
                guard text.hasPrefix("/"), text.utf8.count <= 2048 else {
                    throw APIError(.unprocessableContent, "invalid", "'prefix' must be a URL path starting with '/'")
                }
                prefix = text
            }
            let (rows, total) = try await database.traffic.page(siteID: site.id, order: order, prefix: prefix, limit: limit, offset: offset)
            return TrafficPageView(items: rows.map(TrafficView.init), limit: limit, offset: offset, total: total)
        }
        api.get("sites/:site/traffic/daily") { request, context -> [TrafficDayView] in
            let site = try await cache.site(context, in: database)
            let days = try QueryValues(request).int("days", default: 30, range: 1...3660)
            return try await database.traffic.byDay(siteID: site.id, days: days).map(TrafficDayView.init)
        }
        api.get("sites/:site/traffic/summary") { request, context -> TrafficSummaryView in
            let site = try await cache.site(context, in: database)
            let days = try QueryValues(request).int("orphanDays", default: TrafficSummary.defaultOrphanDays, range: 1...3660)
            return TrafficSummaryView(try await database.traffic.summary(siteID: site.id, orphanDays: days))
        }
        api.get("sites/:site/log-files") { _, context -> [LogFileView] in
            let site = try await cache.site(context, in: database)
            return try await blockingRead { try database.traffic.logFiles(siteID: site.id).map(LogFileView.init) }
        }
    }
}

extension TrafficPageView: ResponseEncodable {}
extension TrafficDayView: ResponseEncodable {}
extension LogFileView: ResponseEncodable {}
extension TrafficSummaryView: ResponseEncodable {}
