import CutoverCore
import Foundation
import GRDB

/// Which URLs a flip applies to.
package enum URLSelection: Sendable, Hashable {
    /// Exact URL paths (any form: `/old page.php` or `/old%20page.php`).
    case paths([String])
    /// Every page whose path starts with this prefix.
    case prefix(String)
    /// Every page whose path matches a shell glob (`*`, `?`, `[...]`) over the canonical path.
    case glob(String)
}

package enum PlanError: Error, CustomStringConvertible, Equatable {
    case unknownURL(String)
    case staticFile(String)
    case noPHPFile(String)
    case nothingSelected(String)
    case invalidPath(String)
    case invalidTarget(Owner)
    case reasonTooLong(Int)
    /// A route prefix that would send the whole site, static files or the front controller to Swift.
    case prefixNeedsForce(prefix: String, covers: String)
    case redirectNeedsSwift
    /// Flipping with parity required: these pages' latest verdicts are not `same` (nil: never compared).
    case parityNotSame([UnprovenPage])
    /// `force` overrides a parity refusal only with a reason, which the ownership history keeps.
    case forceNeedsReason

    package var description: String {
        switch self {
        case .unknownURL(let path) where path.contains("?"):
            "unknown URL '\(path)': a URL with a query is a page only when its script has a page key (cutover site set SITE --page-key /doku.php=id), and the script is in the inventory"
        case .unknownURL(let path): "unknown URL '\(path)': it is not in the inventory (run 'cutover crawl' first?)"
        case .staticFile(let path): "'\(path)' is a static file: only pages (php or swift) can be flipped"
        case .noPHPFile(let path): "'\(path)' has no PHP file any more: it can only be served by Swift"
        case .nothingSelected(let what): "no page matches \(what)"
        case .invalidPath(let path): "'\(path)' is not a URL path (it must start with '/', and each '%' must begin an escape such as %20)"
        case .invalidTarget(let owner): "pages can be flipped to swift or php, not \(owner.rawValue)"
        case .reasonTooLong(let count): "the reason has \(count) characters; at most \(PlanStore.maxReasonLength) are kept"
        case .prefixNeedsForce(let prefix, let covers):
            "the route prefix '\(ConfigText.visible(prefix))' covers \(covers): every URL below it would reach Swift, files included; "
                + "if that is meant, flip again with force (--force) and a reason (--reason)"
        case .redirectNeedsSwift: "a redirect (redirectTo) goes with a flip to swift"
        case .parityNotSame(let pages):
            "parity is required and \(pages.count) \(pages.count == 1 ? "page is" : "pages are") not the same as PHP in their latest parity run: "
                + pages.prefix(20).map { "\(ConfigText.visible($0.path)) (\($0.verdict?.rawValue ?? "not compared"))" }.joined(separator: ", ")
                + (pages.count > 20 ? ", … and \(pages.count - 20) more" : "")
                + "; run 'cutover parity' after fixing them, or flip with force (--force) and a reason (--reason) to override"
        case .forceNeedsReason: "force (--force) overrides parity only with a reason (--reason), kept in the ownership history"
        }
    }
}

/// A page a flip that requires parity refuses: its latest verdict, nil when never compared.
package struct UnprovenPage: Sendable, Hashable {
    package var path: String
    package var verdict: PageParity?
}

/// The result of a flip: which URLs changed their planned owner.
package struct FlipResult: Sendable, Hashable {
    package var changed: [String]
    package var unchanged: [String]
}

extension PlanStore {
    /// Plans `selection` for `target` (swift, or php to roll back), recording an ownership event
    /// per changed URL. A URL and the directory URL answered by the same file move together.
    /// Refuses unknown URLs, static files, and php for pages whose file is gone; all or nothing.
    @discardableResult
    package func flip(
        siteID: SiteID,
        _ selection: URLSelection,
        to target: Owner,
        reason: String,
        actor: String = "cli",
        redirectTo: String? = nil,
        force: Bool = false,
        requireParity: Bool = false
    ) async throws -> FlipResult {
        let redirect = try Self.checkFlip(target: target, reason: reason, redirectTo: redirectTo)
        if requireParity, force, reason.trimmingCharacters(in: .whitespaces).isEmpty { throw PlanError.forceNeedsReason }
        let now = clock.now()
        return try await writer.write { db in
            try Self.flip(
                db,
                siteID: siteID,
                selection,
                to: target,
                reason: reason,
                actor: actor,
                redirect: redirect,
                force: force,
                requireParity: requireParity,
                at: now
            )
        }
    }

    /// The flip's own values, checked before any database work; returns the canonical redirect.
    static func checkFlip(target: Owner, reason: String, redirectTo: String?) throws -> String? {
        guard target != .static else { throw PlanError.invalidTarget(target) }
        guard reason.count <= Self.maxReasonLength else { throw PlanError.reasonTooLong(reason.count) }
        if redirectTo != nil, target != .swift { throw PlanError.redirectNeedsSwift }
        return try redirectTo.map { value -> String in
            // Refused, not re-encoded: a control character has no place in a Location (#23).
            guard let canonical = PathEncoding.canonical(value), value.utf8.count <= 2048,
                PathEncoding.decode(value)?.contains(where: { $0 < 0x20 || $0 == 0x7F }) == false
            else { throw PlanError.invalidPath(value) }
            return canonical
        }
    }

    /// What a route prefix would take from PHP besides its routes: the whole site, the front
    /// controller itself, static files. Nil when it covers none of them.
    static func routeCoverage(_ db: Database, siteID: SiteID, prefix: String) throws -> String? {
        var covered: [String] = []
        if prefix == "/" { covered.append("the whole site") }
        if let script = try String.fetchOne(db, sql: "SELECT front_controller FROM sites WHERE id = ?", arguments: [siteID]),
            script.hasPrefix(prefix)
        {
            covered.append("the front controller \(script)")
        }
        let statics =
            try Int.fetchOne(
                db,
                sql: "SELECT count(*) FROM urls WHERE site_id = ? AND owner = 'static' AND gone = 0 AND substr(path, 1, ?) = ?",
                arguments: [siteID, prefix.utf8.count, prefix]
            ) ?? 0
        if statics > 0 { covered.append("\(statics) static files") }
        return covered.isEmpty ? nil : covered.joined(separator: ", ")
    }

    static func flip(
        _ db: Database,
        siteID: SiteID,
        _ selection: URLSelection,
        to target: Owner,
        reason: String,
        actor: String,
        redirect: String?,
        force: Bool = false,
        requireParity: Bool = false,
        at now: Date
    ) throws -> FlipResult {
        do {
            // On a front-controller site a prefix is a route: every URL below it, known or not.
            let frontController = try InventoryRules.missingOwner(db, siteID: siteID) == .php
            var routes: [String] = []
            var unchangedRoutes: [String] = []
            // A prefix with a query (`/index.php?page=`) selects query-identified pages, no route.
            if frontController, case .prefix(let prefix) = selection, !prefix.contains("?") {
                // The prefix becomes a rule pattern over the path as Apache maps it: '..' and '//'
                // resolved (a rule for '/blog/../' could never match), no control characters.
                guard let canonical = PathEncoding.resolved(prefix), canonical.utf8.count <= 2048 else { throw PlanError.invalidPath(prefix) }
                if target == .swift, !force || reason.trimmingCharacters(in: .whitespaces).isEmpty,
                    let covers = try routeCoverage(db, siteID: siteID, prefix: canonical)
                {
                    throw PlanError.prefixNeedsForce(prefix: canonical, covers: covers)
                }
                if try planRoutePrefix(db, siteID: siteID, prefix: canonical, to: target, at: now) {
                    routes.append(canonical + "*")
                } else {
                    unchangedRoutes.append(canonical + "*")
                }
            }
            let pages: [URLRecord]
            do {
                pages = try Self.select(db, siteID: siteID, selection)
            } catch PlanError.nothingSelected where !(routes + unchangedRoutes).isEmpty {
                pages = []
            }
            // Whole groups: '/about/' and '/about/index.php' are the same file.
            var byID: [Int64: URLRecord] = [:]
            for page in pages { byID[page.id] = page }
            // A query-identified page shares its script's file but is a page of its own.
            // One scan for every selected file (a query per page was quadratic: 55,000 pages
            // took minutes), the files passed as one JSON array.
            let files = Set(pages.filter { !$0.urlFlags.contains(.queryPage) }.compactMap(\.filePath)).sorted()
            if !files.isEmpty {
                let list = String(decoding: try JSONEncoder().encode(files), as: UTF8.self)
                let siblings = try URLRecord.filter(URLRecord.Columns.siteID == siteID)
                    .filter(sql: "file_path IN (SELECT value FROM json_each(?))", arguments: [list])
                    .fetchAll(db)
                for sibling in siblings where !sibling.urlFlags.contains(.queryPage) { byID[sibling.id] = sibling }
            }
            // A URL without a file can go back to PHP only where a front controller answers it.
            if target == .php,
                let orphan = byID.values.sorted(by: { $0.path < $1.path }).first(where: { ($0.filePath == nil && !frontController) || $0.gone })
            {
                throw PlanError.noPHPFile(orphan.path)
            }
            // Parity gates the pages selected (parity compares them as selected; a directory URL
            // that moves with its file is not asked for a second run) and only those that move to
            // Swift now: a page already planned there stays.
            var overridden: [Int64: PageParity?] = [:]
            if requireParity, target == .swift {
                let unproven = pages.sorted(by: { $0.path < $1.path })
                    .filter { $0.parity != .same && !($0.expectedOwner == .swift && $0.plannedOwner == .swift) }
                if !unproven.isEmpty {
                    guard force else { throw PlanError.parityNotSame(unproven.map { UnprovenPage(path: $0.path, verdict: $0.parity) }) }
                    for page in unproven { overridden[page.id] = page.parity }
                }
            }
            var result = FlipResult(changed: routes, unchanged: unchangedRoutes)
            // The reason is stored once for the whole operation; each changed URL's event refers to it.
            var operationID: Int64?
            func operation() throws -> Int64 {
                if let operationID { return operationID }
                try db.execute(
                    sql: "INSERT INTO flip_operations (site_id, at, actor, reason) VALUES (?, ?, ?, ?)",
                    arguments: [siteID, now, actor, reason.isEmpty ? "no reason given" : reason]
                )
                operationID = db.lastInsertedRowID
                return db.lastInsertedRowID
            }
            for var url in byID.values.sorted(by: { $0.path < $1.path }) {
                let before = url.expectedOwner
                let newRedirect = target == .swift ? (redirect ?? url.redirectTo) : nil
                if before == target && url.plannedOwner == target && url.redirectTo == newRedirect {
                    result.unchanged.append(url.path)
                    continue
                }
                url.plannedOwner = target
                url.redirectTo = newRedirect
                // Someone planned it: a page, whatever the logs said (`markNeverPages`).
                url.flags &= ~URLFlags.neverAPage.rawValue
                try url.update(db)
                try OwnershipEventRecord(
                    id: nil,
                    urlID: url.id,
                    fromOwner: before,
                    toOwner: target,
                    at: now,
                    reason: overridden[url.id].map { "planned; parity overridden (latest verdict: \($0?.rawValue ?? "not compared"))" } ?? "planned",
                    actor: actor,
                    operationID: try operation()
                ).insert(db)
                result.changed.append(url.path)
            }
            return result
        }
    }

    /// The pages parity compares: `selection`'s (as a flip selects them), or every page that is
    /// not a static file or an include; in path order.
    @available(*, noasync)
    package func parityPages(siteID: SiteID, _ selection: URLSelection?) throws -> [URLRecord] {
        try writer.write { db in
            if let selection { return try Self.select(db, siteID: siteID, selection).sorted { $0.path < $1.path } }
            return try URLRecord.filter(
                URLRecord.Columns.siteID == siteID && URLRecord.Columns.gone == false && URLRecord.Columns.owner != Owner.static
            ).order(URLRecord.Columns.path).fetchAll(db).filter { !$0.urlFlags.contains(.include) }
        }
    }

    /// The longest flip reason accepted (characters): a reason is a note, not a document.
    package static let maxReasonLength = 1000

    static func select(_ db: Database, siteID: SiteID, _ selection: URLSelection) throws -> [URLRecord] {
        let pages = URLRecord.filter(URLRecord.Columns.siteID == siteID && URLRecord.Columns.gone == false)
        switch selection {
        case .paths(let paths):
            var found: [URLRecord] = []
            for path in paths {
                // `/doku.php?id=start`: a page of a declared page key, added on first use.
                let query = path.contains("?")
                guard let canonical = query ? QueryPage.canonical(path) : PathEncoding.canonical(path) else { throw PlanError.invalidPath(path) }
                let known = try pages.filter(URLRecord.Columns.path == canonical).fetchOne(db)
                guard let url = try known ?? (query ? InventoryRules.addQueryPage(db, siteID: siteID, url: canonical) : nil) else {
                    throw PlanError.unknownURL(path)
                }
                guard url.owner != .static else { throw PlanError.staticFile(path) }
                found.append(url)
            }
            return found
        case .prefix(let prefix):
            guard let canonical = prefix.contains("?") ? QueryPage.canonicalPrefix(prefix) : PathEncoding.canonical(prefix) else {
                throw PlanError.invalidPath(prefix)
            }
            let found = try pages.filter(URLRecord.Columns.owner != Owner.static)
                .filter(URLRecord.Columns.path.like(InventoryRules.likePrefix(canonical), escape: "\\")).fetchAll(db)
            if found.isEmpty { throw PlanError.nothingSelected("prefix '\(prefix)'") }
            return found
        case .glob(let pattern):
            let found = try pages.filter(URLRecord.Columns.owner != Owner.static).filter(sql: "path GLOB ?", arguments: [pattern]).fetchAll(db)
            if found.isEmpty { throw PlanError.nothingSelected("glob '\(pattern)'") }
            return found
        }
    }

    /// The plan as the renderer needs it: pages planned for Swift whose PHP file is still on
    /// disk (the fallback already covers the others), and redirects.
    @available(*, noasync)
    package func exportInput(site: SiteRecord, mapFilePath: String? = nil) throws -> ExportInput {
        try writer.read { db in try Self.exportInput(db, site: site, mapFilePath: mapFilePath) }
    }

    static func exportInput(_ db: Database, site: SiteRecord, mapFilePath: String? = nil) throws -> ExportInput {
        do {
            let rows = try URLRecord.filter(
                URLRecord.Columns.siteID == site.id && URLRecord.Columns.gone == false && Column("planned_owner") == Owner.swift
            ).order(URLRecord.Columns.path).fetchAll(db)
            // On a front-controller site URLs without a file are PHP's routes: they need rules too.
            let routes = site.routingFrontController != nil
            let flips = rows.filter { $0.owner == .php && ($0.filePath != nil || routes) && $0.redirectTo == nil }.map { PageFlip(path: $0.path) }
            let redirects = rows.compactMap { url in url.redirectTo.map { PageRedirect(from: url.path, to: $0) } }
            var input = ExportInput(
                settings: site.settings,
                flips: flips,
                redirects: redirects,
                mapFilePath: mapFilePath,
                htaccess: try CrawlStore.htaccessFiles(db, siteID: site.id),
                prefixes: try PlanStore.routePrefixes(db, siteID: site.id),
                scriptDirectories: try InventoryStore.pageKeyDirectoryURLs(db, site: site),
                directoriesToSwift: site.sendsDirectoriesToSwift,
                sideSecret: try SiteStore.sideSecret(db, siteID: site.id)
            )
            input.canaries = try canaryRoutes(db, siteID: site.id)
            return input
        }
    }
}

/// How a stored plan (the flips and redirects an export was made from) differs from today's.
package struct PlanDifference: Sendable, Hashable, Codable {
    /// Flipped to Swift then, not now.
    package var toSwift: [String] = []
    /// Flipped to Swift now, not then.
    package var toPHP: [String] = []
    /// Redirects then (`from`), absent or different now.
    package var redirects: [String] = []
    /// URLs of that plan the inventory no longer has.
    package var missing: [String] = []

    package var isEmpty: Bool { toSwift.isEmpty && toPHP.isEmpty && redirects.isEmpty }
}

extension PlanStore {
    /// What restoring a stored plan (`flips`, `redirects` as `from -> to`) would change today.
    @available(*, noasync)
    package func difference(siteID: SiteID, flips: [String], redirects: [String: String]) throws -> PlanDifference {
        try writer.read { db in try Self.planDifference(db, siteID: siteID, flips: flips, redirects: redirects) }
    }

    static func planDifference(_ db: Database, siteID: SiteID, flips: [String], redirects: [String: String]) throws -> PlanDifference {
        let site = try SiteRecord.fetchOne(db, key: siteID)
        guard let site else { throw StoreError.unknownSite("#\(siteID)") }
        let current = try exportInput(db, site: site)
        let currentFlips = Set(current.flips.map(\.path))
        var currentRedirects: [String: String] = [:]
        for redirect in current.redirects { currentRedirects[redirect.from] = redirect.to }
        var difference = PlanDifference()
        func exists(_ path: String) throws -> Bool {
            try URLRecord.filter(URLRecord.Columns.siteID == siteID && URLRecord.Columns.path == path && URLRecord.Columns.gone == false)
                .fetchCount(db) > 0
        }
        for path in Set(flips).subtracting(currentFlips).sorted() {
            if try exists(path) { difference.toSwift.append(path) } else { difference.missing.append(path) }
        }
        difference.toPHP = currentFlips.subtracting(flips).subtracting(redirects.keys).sorted()
        for (from, to) in redirects.sorted(by: { $0.key < $1.key }) where currentRedirects[from] != to {
            if try exists(from) { difference.redirects.append(from) } else { difference.missing.append(from) }
        }
        difference.toPHP += currentRedirects.keys.filter { redirects[$0] == nil && !flips.contains($0) }.sorted()
        return difference
    }

    /// Makes a stored plan today's plan again, in one transaction: its flips and redirects to
    /// Swift, today's other flips back to PHP (each an ownership event with `reason`). URLs the
    /// inventory no longer has are left out (`missing`).
    @available(*, noasync)
    package func restore(
        siteID: SiteID,
        flips: [String],
        redirects: [String: String],
        reason: String,
        actor: String
    ) throws
        -> PlanDifference
    {
        let now = clock.now()
        return try writer.write { db in
            let difference = try Self.planDifference(db, siteID: siteID, flips: flips, redirects: redirects)
            if !difference.toPHP.isEmpty {
                _ = try Self.flip(db, siteID: siteID, .paths(difference.toPHP), to: .php, reason: reason, actor: actor, redirect: nil, at: now)
            }
            if !difference.toSwift.isEmpty {
                _ = try Self.flip(db, siteID: siteID, .paths(difference.toSwift), to: .swift, reason: reason, actor: actor, redirect: nil, at: now)
            }
            for from in difference.redirects {
                let redirect = try Self.checkFlip(target: .swift, reason: reason, redirectTo: redirects[from])
                _ = try Self.flip(db, siteID: siteID, .paths([from]), to: .swift, reason: reason, actor: actor, redirect: redirect, at: now)
            }
            return difference
        }
    }
}

extension PlanError: ReportedError {
    package var kind: ErrorKind {
        switch self {
        case .unknownURL: .notFound
        case .parityNotSame: .conflict
        default: .invalid
        }
    }
}
