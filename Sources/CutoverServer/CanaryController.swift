import CutoverAPI
import CutoverCore
import CutoverStore
import Foundation
import Hummingbird

/// A site's canaries (#29): list, start, set the weight, promote or abort. Writes change the plan
/// only, as flips do; `cutover apply` (or the export) puts them live.
struct CanaryController {
    let database: AppDatabase

    func add(to api: RouterGroup<AppContext>) {
        api.get("sites/:site/canaries") { _, context in
            let site = try await database.site(context)
            return try await database.plan.canaries(siteID: site.id).map(CanaryView.init)
        }
        api.post("sites/:site/canaries") { request, context -> EditedResponse<CanaryView> in
            let site = try await database.site(context)
            let input = try await request.decode(as: CanaryInput.self, context: context)
            let selections = [input.paths.map { URLSelection.paths($0) }, input.prefix.map { .prefix($0) }, input.glob.map { .glob($0) }]
                .compactMap { $0 }
            guard selections.count == 1 else { throw APIError(.unprocessableContent, "invalid", "give exactly one of paths, prefix or glob") }
            let canary = try await database.plan.startCanary(
                siteID: site.id,
                name: input.name,
                selections[0],
                steps: input.steps ?? Canary.defaultSteps
            )
            return EditedResponse(status: .created, response: CanaryView(canary))
        }
        api.put("sites/:site/canaries/:name") { request, context in
            let site = try await database.site(context)
            guard let name = context.parameters.get("name") else { throw APIError(.notFound, "not_found", "no canary named") }
            let change = try await request.decode(as: CanaryChange.self, context: context)
            switch (change.weight, change.end) {
            case (let weight?, nil):
                return CanaryView(try await database.plan.setCanaryWeight(siteID: site.id, name: name, weight: weight))
            case (nil, let end?):
                return CanaryView(try await database.plan.endCanary(siteID: site.id, name: name, promote: end == .promote, actor: "api"))
            default:
                throw APIError(.unprocessableContent, "invalid", "give exactly one of weight or end")
            }
        }
    }
}

extension CanaryView {
    init(_ canary: CanaryRecord) {
        self.init(
            createdAt: canary.createdAt,
            name: canary.name,
            pages: canary.pages,
            state: .init(rawValue: canary.state.rawValue) ?? .running,
            steps: canary.steps,
            updatedAt: canary.updatedAt,
            weight: canary.weight
        )
    }
}

extension CanaryView: ResponseEncodable {}
