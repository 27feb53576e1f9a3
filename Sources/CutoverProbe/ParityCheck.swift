import CutoverCore
import CutoverParity
import CutoverStore
import Foundation
import Logging

/// The outcome of a stored parity run.
package struct ParityReport: Sendable {
    package var run: ParityRunRecord
    /// In the pages' order, site-wide noise applied.
    package var outcomes: [ParityOutcome]
}

/// Runs parity over a site's pages through Apache (`ParityRunner`), holds fields that were noise
/// on enough pages as noise everywhere, and stores the run: each page's verdict, differences,
/// noise and body hashes, with the probe's retention. What `cutover parity`, the `parity` job
/// and the scheduled step share.
package struct ParityCheck: Sendable {
    package let database: AppDatabase
    package let configuration: ProbeConfiguration
    package let logger: Logger

    package init(database: AppDatabase, configuration: ProbeConfiguration, logger: Logger) {
        self.database = database
        self.configuration = configuration
        self.logger = logger
    }

    package func check(
        site: SiteRecord,
        pages: [URLRecord],
        rules: ParityRules,
        progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws -> ParityReport {
        let problems = configuration.problems()
        guard problems.isEmpty else { throw ProbeError.invalidConfiguration(problems) }
        let secret = try await database.sites.sideSecret(site: site)
        let credentials = try await database.sites.parityCredentials(site: site)
        let run = try await database.parity.beginRun(siteID: site.id, concurrency: configuration.concurrency)
        var logger = logger
        logger[metadataKey: "site"] = .string(site.name)
        logger[metadataKey: "parity"] = .stringConvertible(run.id ?? 0)
        do {
            var outcomes = await ParityRunner(configuration: configuration).run(
                site: site,
                pages: pages,
                secret: secret,
                rules: rules,
                credentials: credentials,
                progress: progress
            )
            try Task.checkCancellation()
            let siteNoise = Parity.siteNoise(outcomes.compactMap(\.result), rules: rules)
            for index in outcomes.indices {
                outcomes[index].result = outcomes[index].result?.applyingSiteNoise(siteNoise)
            }
            let ids = Dictionary(pages.map { ($0.path, $0.id) }, uniquingKeysWith: { first, _ in first })
            let records = outcomes.compactMap { outcome in ids[outcome.path].map { Self.record(outcome, urlID: $0) } }
            let finished = try await database.parity.finishRun(
                run,
                results: records,
                siteNoise: siteNoise.sorted(),
                retention: site.probeRetention
            )
            logger.info(
                "parity finished",
                metadata: [
                    "pages": .stringConvertible(finished.urlCount), "same": .stringConvertible(finished.sameCount),
                    "different": .stringConvertible(finished.differentCount), "errors": .stringConvertible(finished.errorCount),
                ]
            )
            return ParityReport(run: finished, outcomes: outcomes)
        } catch {
            let message = error is CancellationError ? "cancelled" : String(describing: error)
            // In a task of its own: GRDB's async write refuses to start in a cancelled task.
            let database = database
            await Task { try? await database.parity.failRun(run, error: message) }.value
            throw error
        }
    }

    /// A page's outcome as stored.
    static func record(_ outcome: ParityOutcome, urlID: Int64) -> ParityResultRecord {
        guard let result = outcome.result else {
            return ParityResultRecord(urlID: urlID, verdict: .notCompared, reason: outcome.notCompared)
        }
        return ParityResultRecord(
            urlID: urlID,
            verdict: PageParity(result.verdict),
            reason: result.reason,
            differences: result.differences.map { ParityFieldDifference(field: $0.field, php: $0.php, swift: $0.swift) },
            noise: result.noise,
            hidden: result.hidden,
            fields: result.fields,
            phpHash: outcome.phpHash,
            swiftHash: outcome.swiftHash
        )
    }
}

extension PageParity {
    package init(_ verdict: ParityVerdict) {
        switch verdict {
        case .same: self = .same
        case .different: self = .different
        case .noisy: self = .noisy
        case .error: self = .error
        }
    }
}

extension ParityRules {
    /// The rules a site's parity runs use: its ignore rules, masks and site-wide noise
    /// thresholds (`site set --parity-…`), its public URL as the origin a `Location` is relative
    /// to, bodies compared up to `bodyCap` (what was read).
    package static func site(_ site: SiteRecord, bodyCap: Int) -> ParityRules {
        var rules = ParityRules()
        rules.siteOrigin = site.publicURL
        rules.maxBodyBytes = bodyCap
        rules.ignore = site.parity.ignore
        rules.masks = site.parity.masks
        rules.siteNoiseShare = site.parity.siteNoiseShare
        rules.siteNoiseMinimum = site.parity.siteNoiseMinimum
        return rules
    }
}
