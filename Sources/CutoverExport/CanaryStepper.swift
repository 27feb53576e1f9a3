import CutoverCore
import CutoverStore
import Foundation

/// One analysis of a running canary and what followed (#29): the next weight, a hold, a wait, or
/// a rollback to 0 %, written to the canary's map so Apache follows without a reload.
package struct CanaryStepOutcome: Sendable {
    package var canary: CanaryRecord
    package var analysis: CanaryAnalysis?
    package var decision: CanaryDecision.Kind
    package var reason: String
    package var weightBefore: Int
    /// The map written (nil when the weight did not change or the canary has no map).
    package var published: String?
    package var publishError: String?
}

/// Where a canary's change was put live: its map, its site's fleet.
package struct CanaryPublication: Sendable, Equatable {
    /// The canary's map written (nil: it names none, or writing failed).
    package var map: String?
    package var mapError: String?
    /// The plan version published to the site's fleet (nil: the site does not publish by itself,
    /// or publishing failed).
    package var fleetVersion: Int64?
    package var fleetError: String?

    package init() {}

    /// What was put live, for people and the API: the map's path, the fleet's plan version.
    package var published: String? {
        let parts = [map, fleetVersion.map { "fleet plan version \($0)" }].compactMap { $0 }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    package var error: String? {
        let parts = [mapError, fleetError.map { "fleet publish: \($0)" }].compactMap { $0 }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}

/// Analyses a running canary over its current step's window (the imported access logs' samples
/// of both sides, the pages' parity verdicts) and acts on the verdict: pass → the next step (past
/// the last: promoted, an ordinary flip), fail → rolled back (aborted at 0 %), waiting/hold →
/// recorded. Weights are written to the canary's map by the service itself, as `cutover apply`,
/// and published to the site's fleet when it publishes by itself (`fleet`).
package struct CanaryStepper: Sendable {
    let database: AppDatabase
    /// Publishes the plan, canaries included, to the site's fleet after a change: the plan
    /// version published, or why not; (nil, nil) when the site does not publish by itself. Set
    /// where the fleet's library is at hand (`CanaryStepper(database:logger:)`); nil: no fleet.
    package var fleet: (@Sendable (SiteRecord) async -> (version: Int64?, error: String?))?

    package init(database: AppDatabase) { self.database = database }

    package func step(site: SiteRecord, name: String, actor: String = "schedule") async throws -> CanaryStepOutcome {
        let canary = try await database.plan.canary(siteID: site.id, name: name)
        guard canary.state == .running else { throw CanaryError.notRunning(name, canary.state) }
        let now = database.clock.now()
        let started = canary.stepStartedAt ?? canary.updatedAt
        let stepSeconds = max(0, Int(now.timeIntervalSince(started)))
        var outcome = CanaryStepOutcome(canary: canary, analysis: nil, decision: .wait, reason: "", weightBefore: canary.weight)

        // A canary at 0 % has nothing to compare: its first step starts it.
        if canary.weight == 0 {
            guard !canary.paused, let first = canary.steps.first else {
                return try await hold(outcome, site: site, reason: "paused at 0 %", actor: actor)
            }
            outcome.canary = try await database.plan.setCanaryWeight(
                siteID: site.id,
                name: name,
                weight: first,
                decision: .promote,
                reason: "first step: 0 → \(first) %",
                actor: actor
            )
            outcome.decision = .promote
            outcome.reason = "first step: 0 → \(first) %"
            return await publish(outcome, site: site)
        }

        let (swift, php) = try await database.plan.canaryWindow(canaryID: canary.id, since: started)
        let different = try await database.plan.parityDifferent(canaryID: canary.id)
        let analysis = CanaryAnalysis.judge(swift: swift, php: php, policy: canary.policy, parityDifferent: different, stepSeconds: stepSeconds)
        outcome.analysis = analysis
        let figures = CanaryFigures(analysis)
        switch analysis.verdict {
        case .fail:
            let reason = "rolled back at \(canary.weight) %: \(analysis.reason)"
            outcome.canary = try await database.plan.endCanary(
                siteID: site.id,
                name: name,
                promote: false,
                actor: actor,
                decision: .rollback,
                reason: reason,
                figures: figures
            )
            outcome.decision = .rollback
            outcome.reason = reason
            return await publish(outcome, site: site)
        case .waiting:
            return try await record(outcome, site: site, decision: .wait, reason: analysis.reason, figures: figures, actor: actor)
        case .hold:
            return try await record(outcome, site: site, decision: .hold, reason: analysis.reason, figures: figures, actor: actor)
        case .pass:
            if canary.paused {
                return try await record(outcome, site: site, decision: .hold, reason: "paused; \(analysis.reason)", figures: figures, actor: actor)
            }
            if stepSeconds < canary.policy.intervalSeconds {
                let reason = "at \(canary.weight) % for \(stepSeconds) s of \(canary.policy.intervalSeconds) s; \(analysis.reason)"
                return try await record(outcome, site: site, decision: .wait, reason: reason, figures: figures, actor: actor)
            }
            if let next = canary.steps.first(where: { $0 > canary.weight }) {
                let reason = "\(canary.weight) → \(next) %: \(analysis.reason)"
                outcome.canary = try await database.plan.setCanaryWeight(
                    siteID: site.id,
                    name: name,
                    weight: next,
                    decision: .promote,
                    reason: reason,
                    figures: figures,
                    actor: actor
                )
                outcome.decision = .promote
                outcome.reason = reason
            } else {
                let reason = "promoted after every step (\(canary.steps.map(String.init).joined(separator: "→")) %): \(analysis.reason)"
                outcome.canary = try await database.plan.endCanary(
                    siteID: site.id,
                    name: name,
                    promote: true,
                    actor: actor,
                    decision: .promote,
                    reason: reason,
                    figures: figures
                )
                outcome.decision = .promote
                outcome.reason = reason
            }
            return await publish(outcome, site: site)
        }
    }

    private func record(
        _ outcome: CanaryStepOutcome,
        site: SiteRecord,
        decision: CanaryDecision.Kind,
        reason: String,
        figures: CanaryFigures?,
        actor: String
    ) async throws -> CanaryStepOutcome {
        var outcome = outcome
        try await database.plan.recordCanaryDecision(
            siteID: site.id,
            name: outcome.canary.name,
            decision: decision,
            reason: reason,
            figures: figures,
            actor: actor
        )
        outcome.decision = decision
        outcome.reason = reason
        return outcome
    }

    private func hold(_ outcome: CanaryStepOutcome, site: SiteRecord, reason: String, actor: String) async throws -> CanaryStepOutcome {
        try await record(outcome, site: site, decision: .hold, reason: reason, figures: nil, actor: actor)
    }

    /// Writes the canary's map (the whole plan of its form, as `cutover apply`): Apache follows
    /// without a reload. A failure is reported, the plan stands.
    private func publish(_ outcome: CanaryStepOutcome, site: SiteRecord) async -> CanaryStepOutcome {
        var outcome = outcome
        let publication = await publish(outcome.canary, site: site)
        (outcome.published, outcome.publishError) = (publication.published, publication.error)
        return outcome
    }

    /// Writes the map of a canary that names one (after a person's weight, promotion or abort
    /// too), then publishes to the site's fleet when it publishes by itself: what was written,
    /// or why not; (nil, nil) when neither applies.
    package func publish(_ canary: CanaryRecord, site: SiteRecord) async -> CanaryPublication {
        var publication = CanaryPublication()
        (publication.map, publication.mapError) = await writeMap(canary, site: site)
        if let fleet { (publication.fleetVersion, publication.fleetError) = await fleet(site) }
        return publication
    }

    private func writeMap(_ canary: CanaryRecord, site: SiteRecord) async -> (published: String?, error: String?) {
        guard let formName = canary.mapForm, let path = canary.mapPath else { return (nil, nil) }
        do {
            guard let form = ExportForm(rawValue: formName), form.usesMapFile else { throw CanaryError.automaticNeedsMap }
            try await database.blocking { database in
                let (_, rendered) = try Exporter(database: database).export(site: site, form: form, mapFilePath: path)
                try Exporter.writeMap(rendered, to: path)
            }
            return (path, nil)
        } catch {
            return (nil, "\(error)")
        }
    }
}
