import Crypto
import CutoverCore
import CutoverStore
import Foundation

/// One change of who answers a URL that an export would make, compared with the last probe.
package struct OwnerChangePreview: Sendable, Hashable {
    package var path: String
    /// Nil when Apache answers it itself today (`before` says how).
    package var from: Owner?
    package var to: Owner
    /// What answers today when no owner does: "Apache: 404, no such file", "Apache: no index file".
    package var before: String?

    package init(path: String, from: Owner?, to: Owner, before: String? = nil) {
        self.path = path
        self.from = from
        self.to = to
        self.before = before
    }

    /// `before`, else the owner's name.
    package var beforeText: String { before ?? from?.rawValue ?? "-" }
}

/// Renders, stores, diffs and checks exports, and writes RewriteMap files.
package struct Exporter: Sendable {
    package let database: AppDatabase

    package init(database: AppDatabase) {
        self.database = database
    }

    /// Renders the current plan without storing it.
    @available(*, noasync)
    package func render(site: SiteRecord, form: ExportForm, mapFilePath: String? = nil) throws -> (ExportRecord, RenderedExport) {
        let input = try database.plan.exportInput(site: site, mapFilePath: mapFilePath)
        let rendered = try DirectiveRenderer.render(input, form: form)
        let planJSON = try JSONEncoder.sorted.encode(PlanSnapshot(flips: input.flips, redirects: input.redirects))
        var digest = SHA256()
        digest.update(data: Data(rendered.text.utf8))
        if let map = rendered.mapFile { digest.update(data: Data(map)) }
        let record = ExportRecord(
            siteID: site.id,
            form: form,
            createdAt: database.clock.now(),
            sha256: Hex.encode(digest.finalize()),
            content: rendered.text,
            mapContent: rendered.mapFile.map { Data($0) },
            plan: String(decoding: planJSON, as: UTF8.self)
        )
        return (record, rendered)
    }

    /// Renders the current plan and stores it (identical consecutive exports are stored once);
    /// the text returned carries the stored export's id (`ExportStamp`).
    @available(*, noasync)
    package func export(site: SiteRecord, form: ExportForm, mapFilePath: String? = nil) throws -> (ExportRecord, RenderedExport) {
        var (record, rendered) = try render(site: site, form: form, mapFilePath: mapFilePath)
        record = try database.exports.save(record)
        rendered.text = record.content
        return (record, rendered)
    }

    /// What rendering now would change compared with the newest stored export of the same form.
    @available(*, noasync)
    package func diffAgainstLatest(site: SiteRecord, form: ExportForm, mapFilePath: String? = nil) throws -> ExportDiff {
        let (current, _) = try render(site: site, form: form, mapFilePath: mapFilePath)
        let latest = try database.exports.list(siteID: site.id, form: form, limit: 1).first
        return ExportDiff(
            form: form,
            previousID: latest?.id,
            previousCreatedAt: latest?.createdAt,
            sha256: current.sha256,
            changed: latest?.sha256 != current.sha256,
            diff: Self.diff(from: latest.map { ExportStamp.strip($0.content) } ?? "", to: current.content)
        )
    }

    /// Whether the site's newest stored export of a map form carries the canary rules (nil: none
    /// stored). An export made before the site's first canary has none, so the canary's weights
    /// do nothing until the site is exported again and Apache reloaded once.
    @available(*, noasync)
    package func newestExportHasCanaryRules(site: SiteRecord) throws -> Bool? {
        guard let newest = try database.exports.list(siteID: site.id).first(where: { $0.form.usesMapFile }) else { return nil }
        return newest.content.contains(CanaryTree.suffix)
    }

    /// The current plan as the dbm form's map keys, for a fleet's published route table, and the
    /// flipped pages that cannot be map keys (a query-identified page, a key over
    /// `HashedMapFile.maxKeyBytes`): those stay rules of the export, which needs a reload; and the
    /// running canaries, as each node writes them (`CanaryTree`).
    @available(*, noasync)
    package func hashedMapKeys(site: SiteRecord) throws -> (keys: [[UInt8]], rules: [String], canaries: [CanaryTree.Canary]) {
        let input = try database.plan.exportInput(site: site)
        let (keys, rules) = try RewriteMapForm(hashed: true).split(input.flips)
        return (keys, rules.map(\.path), try CanaryRules.map(site: site.name, canaries: input.canaries).canaries)
    }

    /// Every URL whose answer would change: owners compared with the last probe (or the
    /// inventory when never probed), and, before the first export, what the fallback takes over
    /// from Apache (URLs without a file, the logs' 404s, directories without an index file).
    @available(*, noasync)
    package func preview(site: SiteRecord) throws -> [OwnerChangePreview] {
        var changes = try database.exports.ownerChanges(siteID: site.id).map {
            OwnerChangePreview(path: $0.path, from: $0.observedOwner ?? $0.owner, to: $0.expectedOwner)
        }
        if let takeover = try database.exports.fallbackTakeover(site: site) {
            let listed = Set(changes.map(\.path))
            for url in takeover.urls where !listed.contains(url.path) {
                let before = url.status.map { "Apache: \($0) (last probe)" } ?? "Apache: no such file (404)"
                changes.append(OwnerChangePreview(path: url.path, from: nil, to: .swift, before: before))
            }
            for noise in takeover.noise {
                changes.append(OwnerChangePreview(path: noise.path, from: nil, to: .swift, before: "Apache: 404, requested \(noise.hits) times"))
            }
            for directory in takeover.directories {
                changes.append(
                    OwnerChangePreview(path: directory, from: nil, to: .swift, before: "Apache: no index file (403, 404 or a listing)")
                )
            }
            changes.sort { $0.path < $1.path }
        }
        return changes
    }

    /// How the plan `record` was made from differs from today's (nil: its plan cannot be read).
    @available(*, noasync)
    package func planDifference(of record: ExportRecord) throws -> PlanDifference? {
        guard let plan = try? JSONDecoder().decode(PlanSnapshot.self, from: Data(record.plan.utf8)) else { return nil }
        return try database.plan.difference(siteID: record.siteID, flips: plan.flips.map(\.path), redirects: plan.redirectsByPath)
    }

    /// Makes the plan `record` was made from today's plan again (see `AppDatabase.restorePlan`).
    @available(*, noasync)
    package func restorePlan(of record: ExportRecord, actor: String) throws -> PlanDifference {
        guard let plan = try? JSONDecoder().decode(PlanSnapshot.self, from: Data(record.plan.utf8)) else {
            throw ExportCheckError.cannotWrite("plan of export #\(record.id ?? 0)", "it cannot be read")
        }
        return try database.plan.restore(
            siteID: record.siteID,
            flips: plan.flips.map(\.path),
            redirects: plan.redirectsByPath,
            reason: "restore the plan of export #\(record.id ?? 0)",
            actor: actor
        )
    }

    /// A line diff (`-N` removed, old line N; `+N` added, new line N) between two texts, in the
    /// order of the texts: each removal before the additions that replace it.
    package static func diff(from old: String, to new: String) -> String {
        let oldLines = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let newLines = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var removed = Set<Int>()
        var inserted = Set<Int>()
        for change in newLines.difference(from: oldLines) {
            switch change {
            case .remove(let offset, _, _): removed.insert(offset)
            case .insert(let offset, _, _): inserted.insert(offset)
            }
        }
        var out: [String] = []
        var (oldIndex, newIndex) = (0, 0)
        while oldIndex < oldLines.count || newIndex < newLines.count {
            if removed.contains(oldIndex) {
                out.append("-\(oldIndex + 1): \(oldLines[oldIndex])")
                oldIndex += 1
            } else if inserted.contains(newIndex) {
                out.append("+\(newIndex + 1): \(newLines[newIndex])")
                newIndex += 1
            } else {
                oldIndex += 1
                newIndex += 1
            }
        }
        return out.joined(separator: "\n")
    }

    /// Writes the RewriteMap file atomically (a temporary file in the same folder, then rename),
    /// so Apache never reads half a map. Apache re-reads it when the mtime changes.
    /// Puts a rendered export's map at `path` as its form's `RewriteMap` reads it (the text map
    /// as written, the dbm form's keys as a GNU dbm hash file); atomically either way.
    package static func writeMap(_ rendered: RenderedExport, to path: String) throws {
        // The bucket map first: the export's rules draw from it as soon as they are live.
        if rendered.canaries != nil { try CanaryTree.writeBucketsMap(path) }
        try rendered.form.rules.writeMap(rendered.mapFile ?? [], to: path)
        // The canaries after the flips: a promoted canary's pages are flipped before they leave it.
        if let canaries = rendered.canaries {
            try writeCanaries(canaries, to: path)
        } else if FileManager.default.fileExists(atPath: CanaryTree.pagesFolder(path)) {
            // No canary runs any more, but the config Apache has loaded may still read the
            // folders (no reload since the last canary ended): none left, every visitor on PHP
            // unless the page is flipped.
            try writeCanaries(.none, to: path)
        }
        // An earlier release kept the weights in a dbm map; a config still reading it sends
        // every visitor to PHP without it until the new export is loaded.
        try? FileManager.default.removeItem(atPath: path + ".canaries.dbm")
    }

    /// The weights Apache reads (`CanaryTree`), then the same as text for people.
    package static func writeCanaries(_ map: CanaryMap, to path: String) throws {
        try CanaryTree.write(map.canaries, mapFilePath: path)
        try writeMapFile(map.text, to: path + ".canaries")
    }

    package static func writeMapFile(_ bytes: [UInt8], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try Data(bytes).write(to: temporary)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: temporary.path)
            guard rename(temporary.path, path) == 0 else { throw ExportCheckError.cannotWrite(path, String(cString: strerror(errno))) }
        } catch let error as ExportCheckError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw ExportCheckError.cannotWrite(path, error.localizedDescription)
        }
    }
}

/// The difference between the export that would be rendered now and the newest stored one.
package struct ExportDiff: Sendable, Hashable {
    package var form: ExportForm
    /// The stored export compared with; nil when none of this form was stored yet.
    package var previousID: Int64?
    package var previousCreatedAt: Date?
    /// SHA-256 of what would be rendered now.
    package var sha256: String
    package var changed: Bool
    /// `-N: line` removed, `+N: line` added; the whole text as additions when nothing was stored.
    package var diff: String
}

/// The plan as stored with each export.
package struct PlanSnapshot: Codable, Sendable, Hashable {
    package var flips: [PageFlip]
    package var redirects: [PageRedirect]

    var redirectsByPath: [String: String] {
        Dictionary(redirects.map { ($0.from, $0.to) }, uniquingKeysWith: { first, _ in first })
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
