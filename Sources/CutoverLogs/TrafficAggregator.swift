import CutoverCore
import CutoverStore

/// Counts parsed log lines by request target in a byte-keyed table (one hash and compare per
/// line), then, once per stretch of log, turns each distinct target into Cutover's canonical
/// path and normalised query (`batch()`): the per-target work runs once per distinct target,
/// not once per line.
final class TrafficAggregator {
    private var targets = ByteKeyTable(capacity: 1 << 16)
    private var counts: [TrafficCounts] = []
    /// Per target and UTC day: key is target index << 24 | day.
    private var days: [Int: TrafficCounts] = [:]
    /// Per target, UTC day and side (Swift or PHP, as the line says): key is
    /// target index << 25 | day << 1 | (1 for Swift).
    private var sides: [Int: SideTally] = [:]
    /// Per target, minute and side, for the pages of running canaries (#29).
    private var canarySamples: [CanaryKey: SideTally] = [:]
    /// Per target: whether its path is a canary's page (worked out once, when first seen).
    private var isCanaryTarget: [Bool] = []
    private var agents = ByteKeyTable(capacity: 1 << 12)
    private var agentIsBot: [Bool] = []
    /// The time used for lines whose format has none.
    let fallbackTime: Int
    /// Paths from `%U` are written decoded by Apache.
    let pathIsDecoded: Bool
    /// Masks visitors' secrets in queries before anything is stored.
    let sensitive: SensitiveQuery
    /// Whether the site has a front controller: mod_rewrite's internal redirect to it is logged
    /// by `%R` as `redirect-handler`, and PHP answered.
    let frontController: Bool
    /// The site's page keys by script (`/index.php` → `page`), and the directory URLs that
    /// answer with a page-key script (`/` → `/index.php`): `/?page=about` is that page too.
    let pages: PageKeyRoutes
    /// The site's own addresses: its requests to itself (a cron, a health check) are no person's.
    let own: OwnAddresses
    /// The pages of the site's running canaries, and the earliest time any of their steps began:
    /// their lines are also counted per minute.
    let canaries: CanaryPages

    private struct CanaryKey: Hashable {
        var target: Int
        var minute: Int
        var swift: Bool
    }

    init(
        fallbackTime: Int,
        pathIsDecoded: Bool = false,
        sensitive: SensitiveQuery = SensitiveQuery(),
        frontController: Bool = false,
        pages: PageKeyRoutes = PageKeyRoutes(),
        own: OwnAddresses = OwnAddresses(),
        canaries: CanaryPages = CanaryPages()
    ) {
        self.own = own
        self.canaries = canaries
        self.fallbackTime = fallbackTime
        self.pathIsDecoded = pathIsDecoded
        self.sensitive = sensitive
        self.frontController = frontController
        self.pages = pages
    }

    var distinctTargets: Int { targets.count }

    /// Counts one request line.
    @inline(__always)
    func add(_ entry: LogEntry, line: UnsafeBufferPointer<UInt8>) {
        let target = UnsafeBufferPointer(rebasing: line[entry.target])
        let (index, inserted) = targets.index(of: target)
        if inserted {
            counts.append(TrafficCounts())
            if !canaries.paths.isEmpty { isCanaryTarget.append(isCanaryPage(target)) }
        }
        let time = entry.time ?? fallbackTime
        let agent = entry.userAgent.map { UnsafeBufferPointer(rebasing: line[$0]) }
        var bot = isBot(agent)
        if !bot, let client = entry.client, own.contains(UnsafeBufferPointer(rebasing: line[client])), !OwnAddresses.isBrowser(agent) {
            bot = true
        }
        let served = Self.servedBy(entry, line: line, frontController: frontController)
        Self.count(&counts[index], entry: entry, time: time, bot: bot, served: served)
        let day = time >= 0 ? time / 86_400 : (time - 86_399) / 86_400
        Self.count(&days[index << 24 | (day & 0xFF_FFFF), default: TrafficCounts()], entry: entry, time: time, bot: bot, served: served)
        if case .some(.some(let owner)) = served, owner == .swift || owner == .php {
            let key = index << 25 | (day & 0xFF_FFFF) << 1 | (owner == .swift ? 1 : 0)
            sides[key, default: SideTally()].count(status: entry.status, microseconds: entry.durationMicroseconds)
            if !canaries.paths.isEmpty, isCanaryTarget[index], time >= canaries.since {
                let minute = CanaryKey(target: index, minute: time / 60, swift: owner == .swift)
                canarySamples[minute, default: SideTally()].count(status: entry.status, microseconds: entry.durationMicroseconds)
            }
        }
    }

    /// Whether a request target's path is one of the running canaries' pages.
    private func isCanaryPage(_ target: UnsafeBufferPointer<UInt8>) -> Bool {
        let pathBytes = target[..<(target.firstIndex(of: UInt8(ascii: "?")) ?? target.endIndex)]
        guard let path = RequestTarget.canonicalPath(pathBytes, alreadyDecoded: pathIsDecoded) else { return false }
        return canaries.paths.contains(path)
    }

    @inline(__always)
    private static func count(_ counts: inout TrafficCounts, entry: LogEntry, time: Int, bot: Bool, served: Owner??) {
        counts.hits += 1
        counts.bytes += entry.bytes
        if time < counts.firstSeen { counts.firstSeen = time }
        if time > counts.lastSeen { counts.lastSeen = time }
        switch entry.status / 100 {
        case 2: counts.status2xx += 1
        case 3: counts.status3xx += 1
        case 4: counts.status4xx += 1
        case 5: counts.status5xx += 1
        default: counts.statusOther += 1
        }
        if bot { counts.botHits += 1 }
        if case .some(let owner) = served {
            counts.attributed += 1
            if owner == .swift { counts.servedSwift += 1 }
            if owner == .php { counts.servedPHP += 1 }
            if !bot {
                counts.humanAttributed += 1
                if owner == .swift { counts.humanServedSwift += 1 }
            }
        }
    }

    /// Who answered, when the line says: `.some(owner)` (nil owner: attributed to neither PHP
    /// nor Swift, e.g. a static file), or `.none` when the format carries no attribution.
    @inline(__always)
    static func servedBy(_ entry: LogEntry, line: UnsafeBufferPointer<UInt8>, frontController: Bool = false) -> Owner?? {
        if let range = entry.ownerHeader {
            let header = line[range]
            if header.elementsEqual("swift".utf8) { return .some(.swift) }
            if header.elementsEqual("php".utf8) { return .some(.php) }
            if header.elementsEqual("static".utf8) { return .some(.static) }
        }
        guard let range = entry.handler else { return .none }
        let handler = line[range]
        if handler.elementsEqual("proxy-server".utf8) { return .some(.swift) }
        // An internal redirect by the app's own rewrite rules: its front controller answered.
        // Elsewhere the log does not say who did, so the line is not attributed.
        if handler.elementsEqual("redirect-handler".utf8) { return frontController ? .some(.php) : .none }
        if handler.count >= 3,
            handler.starts(with: "application/x-httpd-php".utf8) || handler.elementsEqual("php-script".utf8)
                || handler.elementsEqual("php".utf8)
        {
            return .some(.php)
        }
        return .some(nil)
    }

    /// Crawler user agents (`BotList`), cached per distinct agent string. A line without a
    /// user agent (`-`) counts as a bot: browsers always send one.
    @inline(__always)
    private func isBot(_ agent: UnsafeBufferPointer<UInt8>?) -> Bool {
        guard let agent else { return false }
        if agent.isEmpty || (agent.count == 1 && agent[0] == UInt8(ascii: "-")) { return true }
        if agents.count > 50_000 {
            agents.removeAll()
            agentIsBot.removeAll(keepingCapacity: true)
        }
        let (index, inserted) = agents.index(of: agent)
        if inserted { agentIsBot.append(BotList.matches(agent)) }
        return agentIsBot[index]
    }

    /// The counted lines as canonical paths and normalised queries; empties the aggregator.
    /// Targets whose path cannot be made canonical (a malformed `%` escape) are returned in
    /// `unusable`.
    func batch() -> (batch: TrafficBatch, unusable: Int) {
        var batch = TrafficBatch()
        batch.paths.reserveCapacity(targets.count)
        batch.days.reserveCapacity(days.count)
        var unusable = 0
        var pathOfTarget: [String?] = []
        pathOfTarget.reserveCapacity(targets.count)
        // The query page each target requested, if any (`/index.php?page=about`).
        var pageOfTarget: [Int: String] = [:]
        for index in 0..<targets.count {
            let target = targets.key(index)
            let questionMark = target.firstIndex(of: UInt8(ascii: "?"))
            let pathBytes = target[..<(questionMark ?? target.endIndex)]
            guard let path = RequestTarget.canonicalPath(pathBytes, alreadyDecoded: pathIsDecoded) else {
                unusable += counts[index].hits
                pathOfTarget.append(nil)
                continue
            }
            pathOfTarget.append(path)
            batch.paths[path, default: TrafficCounts()].add(counts[index])
            if let questionMark {
                let query = target[(questionMark + 1)...]
                let hits = counts[index].hits
                // A directory URL answered by a page-key script reads its keys as the script does.
                let script = pages.scriptOfDirectory[path]
                let pairs = sensitive.masked(RequestTarget.queryPairs(query), path: script ?? path)
                let normalised = RequestTarget.normalisedQuery(pairs)
                if normalised.utf8.count > RequestTarget.maxQueryBytes {
                    batch.otherQueryHits[path, default: 0] += hits
                } else if !normalised.isEmpty {
                    batch.queries[TrafficBatch.QueryKey(path: path, query: normalised), default: 0] += hits
                }
                let (values, otherKeys) = RequestTarget.phpValues(pairs)
                if let keys = pages.keysOfScript[script ?? path],
                    let (key, value) = values.first(where: { keys.contains($0.key) && $0.value != nil }), let value,
                    let page = QueryPage.url(script: script ?? path, key: key, value: Array(value.utf8))
                {
                    pageOfTarget[index] = page
                    // The script's values name its pages (syncQueryPages): the directory URL's too.
                    if let script { batch.values[TrafficBatch.ValueKey(path: script, key: key, value: value), default: 0] += hits }
                }
                for (key, value) in values {
                    if let value {
                        batch.values[TrafficBatch.ValueKey(path: path, key: key, value: value), default: 0] += hits
                    } else {
                        batch.otherValues[TrafficBatch.ValueKey(path: path, key: key, value: ""), default: 0] += hits
                    }
                }
                if otherKeys > 0 { batch.otherKeyHits[path, default: 0] += hits * otherKeys }
            }
        }
        for (key, dayCounts) in days {
            guard let path = pathOfTarget[key >> 24] else { continue }
            let day = key & 0xFF_FFFF
            let utcDay = day >= 0x80_0000 ? day - 0x100_0000 : day
            var counted = dayCounts
            if let page = pageOfTarget[key >> 24] {
                batch.pageDays[TrafficBatch.DayKey(day: utcDay, path: page), default: TrafficCounts()].add(dayCounts)
                counted.pageHits = dayCounts.hits
                counted.pageHumanHits = dayCounts.hits - dayCounts.botHits
            }
            batch.days[TrafficBatch.DayKey(day: utcDay, path: path), default: TrafficCounts()].add(counted)
        }
        for (key, tally) in sides {
            guard let path = pathOfTarget[key >> 25] else { continue }
            let day = key >> 1 & 0xFF_FFFF
            let side = TrafficBatch.SideKey(path: path, day: day >= 0x80_0000 ? day - 0x100_0000 : day, side: key & 1 == 1 ? .swift : .php)
            batch.sides[side, default: SideTally()].add(tally)
        }
        for (key, tally) in canarySamples {
            guard let path = pathOfTarget[key.target] else { continue }
            batch.canarySamples[TrafficBatch.CanaryKey(path: path, minute: key.minute, side: key.swift ? .swift : .php), default: SideTally()].add(
                tally
            )
        }
        canarySamples.removeAll(keepingCapacity: true)
        isCanaryTarget.removeAll(keepingCapacity: true)
        targets.removeAll()
        counts.removeAll(keepingCapacity: true)
        days.removeAll(keepingCapacity: true)
        sides.removeAll(keepingCapacity: true)
        return (batch, unusable)
    }
}

/// Where a site's query pages are requested: each page-key script's keys, and the directory
/// URLs a page-key script answers (`/` for `/index.php` when it is the DirectoryIndex file).
package struct PageKeyRoutes: Sendable {
    package var keysOfScript: [String: Set<String>] = [:]
    package var scriptOfDirectory: [String: String] = [:]

    package init(pageKeys: [PageKey] = [], directoryURLs: [String: String] = [:]) {
        for pageKey in pageKeys { keysOfScript[pageKey.script, default: []].insert(pageKey.key) }
        for (script, directory) in directoryURLs where keysOfScript[script] != nil { scriptOfDirectory[directory] = script }
    }
}

/// User-agent tokens that mark a crawler, monitor or script (lowercase, matched anywhere in the
/// agent, ignoring case). Short on purpose: the big crawlers and the common HTTP libraries.
package enum BotList {
    package static let tokens = [
        "bot", "crawl", "spider", "slurp", "facebookexternalhit", "mediapartners", "curl/", "wget/", "python-requests",
        "python-urllib", "go-http-client", "java/", "libwww-perl", "okhttp", "httpclient", "headless", "lighthouse", "pingdom",
        "uptime", "monitor", "scanner", "nikto", "sqlmap", "zgrab", "masscan",
    ].map { Array($0.utf8) }

    static func matches(_ agent: UnsafeBufferPointer<UInt8>) -> Bool {
        let lowered = agent.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        for token in tokens where lowered.count >= token.count {
            var start = 0
            while start + token.count <= lowered.count {
                if lowered[start] == token[0], lowered[start..<(start + token.count)].elementsEqual(token) { return true }
                start += 1
            }
        }
        return false
    }
}
