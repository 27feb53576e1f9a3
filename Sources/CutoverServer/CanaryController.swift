import CutoverAPI
import CutoverCore
import CutoverExport
import CutoverFleet
import CutoverStore
import Foundation
import Hummingbird

/// A site's canaries (#29): list, start, show (steps, decisions, the current window judged now),
/// set the weight, pause or resume, promote or abort. Writes change the plan; an automatic
/// canary's map is written by `cutover serve` at its next analysis, any other by `cutover apply`.
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
            guard (input.mapForm == nil) == (input.mapFile == nil) else {
                throw APIError(.unprocessableContent, "invalid", "mapForm and mapFile go together")
            }
            let canary = try await database.plan.startCanary(
                siteID: site.id,
                name: input.name,
                selections[0],
                steps: input.steps ?? Canary.defaultSteps,
                options: CanaryOptions(
                    policy: CanaryPolicy(input.policy),
                    automatic: input.automatic ?? false,
                    map: input.mapForm.flatMap { form in input.mapFile.flatMap { file in ExportForm(rawValue: form.rawValue).map { ($0, file) } } }
                ),
                actor: "api"
            )
            return EditedResponse(status: .created, response: CanaryView(canary))
        }
        api.get("sites/:site/canaries/:name") { _, context in
            let site = try await database.site(context)
            let canary = try await canary(site, context)
            return try await Components.Schemas.CanaryDetail(canary, database: database)
        }
        api.put("sites/:site/canaries/:name") { request, context in
            let site = try await database.site(context)
            let canary = try await canary(site, context)
            let change = try await request.decode(as: CanaryChange.self, context: context)
            let changed: CanaryRecord
            switch (change.weight, change.end, change.paused) {
            case (let weight?, nil, nil):
                changed = try await database.plan.setCanaryWeight(siteID: site.id, name: canary.name, weight: weight, actor: "api")
            case (nil, let end?, nil):
                changed = try await database.plan.endCanary(siteID: site.id, name: canary.name, promote: end == .promote, actor: "api")
            case (nil, nil, let paused?):
                return CanaryView(try await database.plan.pauseCanary(siteID: site.id, name: canary.name, paused: paused, actor: "api"))
            default:
                throw APIError(.unprocessableContent, "invalid", "give exactly one of weight, end or paused")
            }
            // A canary with a map is put live at once (as its analyses do); the change stands
            // either way, and the answer says whether the map was written.
            let publication = await CanaryStepper(database: database, logger: context.logger).publish(changed, site: site)
            var view = CanaryView(changed)
            view.published = publication.published
            view.publishError = publication.error
            return view
        }
    }

    private func canary(_ site: SiteRecord, _ context: AppContext) async throws -> CanaryRecord {
        try await database.plan.canary(siteID: site.id, name: context.parameters.get("name") ?? "")
    }
}

extension CanaryPolicy {
    /// The API's policy: absent fields keep their defaults (checked by `problems` when stored).
    init(_ input: Components.Schemas.CanaryPolicy?) {
        self.init()
        guard let input else { return }
        if let value = input.intervalSeconds { intervalSeconds = value }
        if let value = input.minRequests { minRequests = value }
        if let value = input.maxErrorIncrease { maxErrorIncrease = value }
        if let value = input.latencyConfidence { latencyConfidence = value }
        if let value = input.latencyRatio { latencyRatio = value }
        if let value = input.latencyAllowanceMs { latencyAllowanceMs = value }
        trafficWaitSeconds = input.trafficWaitSeconds
        if let value = input.onLowTraffic { onLowTraffic = LowTraffic(rawValue: value.rawValue) ?? .hold }
    }
}

extension Components.Schemas.CanaryPolicy {
    init(_ policy: CanaryPolicy) {
        self.init(
            intervalSeconds: policy.intervalSeconds,
            latencyAllowanceMs: policy.latencyAllowanceMs,
            latencyConfidence: policy.latencyConfidence,
            latencyRatio: policy.latencyRatio,
            maxErrorIncrease: policy.maxErrorIncrease,
            minRequests: policy.minRequests,
            onLowTraffic: .init(rawValue: policy.onLowTraffic.rawValue),
            trafficWaitSeconds: policy.trafficWaitSeconds
        )
    }
}

extension CanaryView {
    init(_ canary: CanaryRecord) {
        self.init(
            automatic: canary.automatic,
            createdAt: canary.createdAt,
            endedReason: canary.endedReason,
            mapFile: canary.mapPath,
            mapForm: canary.mapForm.flatMap { .init(rawValue: $0) },
            name: canary.name,
            pages: canary.pages,
            paused: canary.paused,
            policy: .init(canary.policy),
            state: .init(rawValue: canary.state.rawValue) ?? .running,
            stepStartedAt: canary.stepStartedAt,
            steps: canary.steps,
            updatedAt: canary.updatedAt,
            weight: canary.weight
        )
    }
}

extension Components.Schemas.CanaryDetail {
    init(_ canary: CanaryRecord, database: AppDatabase) async throws {
        let decisions = try await database.plan.canaryDecisions(canaryID: canary.id)
        var window: Components.Schemas.CanaryWindow?
        if canary.state == .running, let started = canary.stepStartedAt {
            let (swift, php) = try await database.plan.canaryWindow(canaryID: canary.id, since: started)
            let now = database.clock.now()
            let analysis = CanaryAnalysis.judge(
                swift: swift,
                php: php,
                policy: canary.policy,
                parityDifferent: try await database.plan.parityDifferent(canaryID: canary.id),
                stepSeconds: Int(now.timeIntervalSince(started))
            )
            window = .init(
                figures: .init(CanaryFigures(analysis)),
                reasons: analysis.reasons,
                stale: CanaryStaleness.reason(canary, lastDecision: decisions.first?.at, now: now),
                verdict: .init(rawValue: analysis.verdict.rawValue) ?? .waiting
            )
        }
        self.init(
            canary: CanaryView(canary),
            decisions: decisions.map { decision in
                .init(
                    actor: decision.actor,
                    at: decision.at,
                    decision: .init(rawValue: decision.decision.rawValue) ?? .manual,
                    figures: decision.figures.map { .init($0) },
                    reason: decision.reason,
                    weight: decision.weight
                )
            },
            steps: try await database.plan.canarySteps(canaryID: canary.id).map {
                .init(endedAt: $0.endedAt, startedAt: $0.startedAt, weight: $0.weight)
            },
            window: window
        )
    }
}

extension CanaryView: ResponseEncodable {}
extension Components.Schemas.CanaryDetail: ResponseEncodable {}
