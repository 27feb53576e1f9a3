import CutoverAPI
import CutoverStore
import Hummingbird

/// A site's parity runs and each run's page results (runs are started as `parity` jobs).
struct ParityController {
    let database: AppDatabase
    let cache: ReadCache

    func add(to api: RouterGroup<AppContext>) {
        api.get("sites/:site/parity/runs") { _, context in
            let site = try await cache.site(context, in: database)
            return try await blockingRead { try database.parity.runs(siteID: site.id) }.map(ParityRunView.init)
        }
        api.get("sites/:site/parity/runs/:id") { _, context in
            let site = try await cache.site(context, in: database)
            guard let id = context.parameters.get("id", as: Int64.self),
                let (run, results) = try await blockingRead({ () -> (ParityRunRecord, [(path: String, result: ParityResultRecord)])? in
                    guard let run = try database.parity.run(id: id, siteID: site.id) else { return nil }
                    return (run, try database.parity.results(runID: id))
                })
            else {
                throw APIError(.notFound, "not_found", "no such parity run for site '\(site.name)'")
            }
            return ParityRunDetailView(run, results)
        }
    }
}

extension ParityRunView: ResponseEncodable {}
extension ParityRunDetailView: ResponseEncodable {}
