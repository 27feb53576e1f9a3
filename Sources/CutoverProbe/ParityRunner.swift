import CutoverCore
import CutoverParity
import CutoverStore
import Synchronization

/// A page's parity, or why it was not compared.
package struct ParityOutcome: Sendable {
    package var path: String
    /// Nil when the page was not requested (`notCompared` says why).
    package var result: ParityResult?
    package var notCompared: String?
    /// SHA-256 of each side's body as read (up to the cap), hex; nil when the side was not read.
    package var phpHash: String? = nil
    package var swiftHash: String? = nil
}

/// Parity through Apache (#27.2): each page is fetched through the site's public URL as **PHP,
/// then Swift, then PHP again** (`X-Cutover-Side` with the site's secret picks the side, so
/// Apache's own headers, rewrites and modules are in the path of both), and the Swift answer is
/// compared with the first PHP one; the second PHP answer marks the fields that change by
/// themselves, and its order catches values that change with time.
///
/// GET only; bodies read up to the probe's cap; at most `concurrency` pages at once, each
/// worker on its own kept-alive connection as the probe's. `User-Agent: cutover-parity/1`
/// (BotList's "cutover-" entries leave it out of people's traffic). A failed fetch is retried
/// once when the server closed a kept-alive connection; otherwise the page's verdict is `error`.
package final class ParityRunner: Sendable {
    package static let userAgent = "cutover-parity/1"

    let configuration: ProbeConfiguration
    let observer: HTTPObserver

    package init(configuration: ProbeConfiguration) {
        self.configuration = configuration
        observer = HTTPObserver(configuration: configuration)
    }

    /// Compares `pages` of `site` through its public URL; pages on the probe's deny-list are
    /// never requested (requesting a URL runs its script: cron, installers) and say so. Outcomes
    /// in the pages' order.
    package func run(
        site: SiteRecord,
        pages: [URLRecord],
        secret: String,
        rules: ParityRules,
        credentials: [ParityCredential] = [],
        progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }
    ) async -> [ParityOutcome] {
        var outcomes: [String: ParityOutcome] = [:]
        let (requested, denied) = Self.split(pages, site: site)
        for page in denied { outcomes[page.path] = ParityOutcome(path: page.path, notCompared: page.reason) }
        for outcome in await run(
            publicURL: site.publicURL,
            secret: secret,
            paths: requested,
            rules: rules,
            credentials: credentials,
            progress: progress
        ) {
            outcomes[outcome.path] = outcome
        }
        return pages.compactMap { outcomes[$0.path] }
    }

    package func run(
        publicURL: String,
        secret: String,
        paths: [String],
        rules: ParityRules,
        credentials: [ParityCredential] = [],
        progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }
    ) async -> [ParityOutcome] {
        guard let origin = await ProbeOrigin(baseURL: publicURL)?.resolved() else {
            return paths.map { ParityOutcome(path: $0, result: .failed("the site's public URL is not an http(s) URL")) }
        }
        let compared = await each(paths, origin: origin, progress: progress) { path, session in
            await Self.compare(
                path,
                origin: origin,
                secret: secret,
                rules: rules,
                headers: ParityCredential.headers(for: path, in: credentials),
                session: session
            )
        }
        return zip(paths, compared).map { path, compared in
            ParityOutcome(
                path: path,
                result: compared.map { $0.result } ?? .failed("cancelled"),
                notCompared: compared?.notCompared,
                phpHash: compared?.phpHash,
                swiftHash: compared?.swiftHash
            )
        }
    }

    /// The pages parity may request, and those on the site's deny-list with the reason: requesting
    /// a URL runs its script (cron, installers), for parity and its fixtures alike.
    package static func split(_ pages: [URLRecord], site: SiteRecord) -> (requested: [String], denied: [(path: String, reason: String)]) {
        var requested: [String] = []
        var denied: [(path: String, reason: String)] = []
        for page in pages {
            if let glob = ProbeSkip.match(page.path, globs: site.probeSkip) {
                denied.append((page.path, "on the probe's deny-list (\(glob))"))
            } else {
                requested.append(page.path)
            }
        }
        return (requested, denied)
    }

    /// Fixtures for the Swift app's own tests (#27.7): each page fetched as PHP twice through
    /// the site's public URL with the side header; the fields that differ between the two answers
    /// (and `siteNoise`) are the fixture's noise. A page that cannot be fetched has its reason.
    package func fixtures(
        publicURL: String,
        secret: String,
        paths: [String],
        rules: ParityRules,
        siteNoise: [String],
        credentials: [ParityCredential] = [],
        progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }
    ) async -> [(path: String, fixture: ParityFixture?, failure: String?)] {
        guard let origin = await ProbeOrigin(baseURL: publicURL)?.resolved() else {
            return paths.map { ($0, nil, "the site's public URL is not an http(s) URL") }
        }
        let made = await each(paths, origin: origin, progress: progress) { path, session -> Result<ParityFixture, FetchFailure> in
            var answers: [ParityResponse] = []
            for _ in 0..<2 {
                let headers = ParityCredential.headers(for: path, in: credentials)
                switch await Self.fetch(path, side: .php, origin: origin, secret: secret, headers: headers, session: session) {
                case .success(let (answer, _)):
                    guard answer.values("X-Cutover-Handler").first != "proxy-server" else {
                        return .failure(
                            FetchFailure(
                                reason: "php side not reached (the Swift backend answered): is an export of this site with the side header live?"
                            )
                        )
                    }
                    answers.append(answer)
                case .failure(let failure): return .failure(failure)
                }
            }
            let noise = Parity.compare(php: answers[0], swift: answers[1], rules: rules).differences.map(\.field)
            return .success(ParityFixture(path: path, php: answers[0], noise: Array(Set(noise).union(siteNoise)), rules: rules))
        }
        return zip(paths, made).map { path, made in
            switch made {
            case .success(let fixture): (path, fixture, nil)
            case .failure(let failure): (path, nil, failure.reason)
            case nil: (path, nil, "cancelled")
            }
        }
    }

    /// Runs `work` for each path with at most `concurrency` at once, each worker on its own
    /// kept-alive connection pulling from a shared cursor; results in the paths' order.
    private func each<T: Sendable>(
        _ paths: [String],
        origin: ProbeOrigin,
        progress: @escaping @Sendable (Int, Int) -> Void,
        work: @escaping @Sendable (String, ProbeSession) async -> T
    ) async -> [T?] {
        let board = Board<T>(count: paths.count)
        let workers = min(configuration.concurrency, max(paths.count, 1))
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                let session = observer.session(worker, tls: origin.tls)
                group.addTask {
                    while let index = board.claim(), !Task.isCancelled {
                        let value = await work(paths[index], session)
                        progress(board.store(value, at: index), paths.count)
                    }
                    await session.close()
                }
            }
        }
        return board.results
    }

    /// The workers' shared cursor and results.
    final class Board<T: Sendable>: Sendable {
        private let count: Int
        private let next = Mutex(0)
        private let stored: Mutex<(results: [T?], done: Int)>

        init(count: Int) {
            self.count = count
            stored = Mutex(([T?](repeating: nil, count: count), 0))
        }

        /// The next page's index, or nil when none is left.
        func claim() -> Int? {
            next.withLock { value -> Int? in
                guard value < count else { return nil }
                defer { value += 1 }
                return value
            }
        }

        /// Stores a result; returns how many are done.
        func store(_ result: T, at index: Int) -> Int {
            stored.withLock { board in
                board.results[index] = result
                board.done += 1
                return board.done
            }
        }

        var results: [T?] { stored.withLock { $0.results } }
    }

    /// One page's comparison and the hashes of the bodies it read.
    struct Compared: Sendable {
        /// Nil when the page was not compared (`notCompared` says why).
        var result: ParityResult?
        var notCompared: String? = nil
        var phpHash: String? = nil
        var swiftHash: String? = nil
    }

    /// `headers`: the site's parity credentials for this path (sent to both sides, never logged).
    static func compare(
        _ path: String,
        origin: ProbeOrigin,
        secret: String,
        rules: ParityRules,
        headers: [(String, String)] = [],
        session: ProbeSession
    ) async -> Compared {
        var answers: [ParityResponse] = []
        var hashes: [String] = []
        for side in [SideHeader.Side.php, .swift, .php] {
            switch await fetch(path, side: side, origin: origin, secret: secret, headers: headers, session: session) {
            case .success(let (answer, hash)):
                // Without a live export that honours the header, both "sides" are one: every page
                // would compare as the same. The owner marker says who really answered.
                let proxied = answer.values("X-Cutover-Handler").first == "proxy-server"
                guard proxied == (side == .swift) else {
                    return Compared(
                        result: .failed(
                            "\(side.rawValue) side not reached (answered by \(answer.values("X-Cutover-Handler").first ?? "an unmarked handler")): "
                                + "is an export of this site with the side header live? (cutover install)"
                        )
                    )
                }
                // A page PHP answers GET with 405 needs another method: parity sends GET only, ever.
                if side == .php, answers.isEmpty, answer.status == 405 {
                    let allowed = answer.values("Allow").first.map { " (Allow: \($0))" } ?? ""
                    return Compared(
                        result: nil,
                        notCompared: "PHP answers GET with 405\(allowed): the page needs another method, and parity sends only GET"
                    )
                }
                answers.append(answer)
                hashes.append(hash)
            case .failure(let failure):
                return Compared(result: .failed(failure.reason), phpHash: hashes.first, swiftHash: hashes.count > 1 ? hashes[1] : nil)
            }
        }
        return Compared(
            result: Parity.compare(php: answers[0], swift: answers[1], phpAgain: answers[2], rules: rules),
            phpHash: hashes[0],
            swiftHash: hashes[1]
        )
    }

    struct FetchFailure: Error {
        var reason: String
    }

    static func fetch(
        _ path: String,
        side: SideHeader.Side,
        origin: ProbeOrigin,
        secret: String,
        headers: [(String, String)] = [],
        session: ProbeSession
    ) async -> Result<(ParityResponse, String), FetchFailure> {
        var attempt = 0
        while true {
            attempt += 1
            do {
                let answer = try await session.get(
                    path,
                    from: origin,
                    userAgent: userAgent,
                    extraHeaders: [(SideHeader.name, SideHeader.value(side, secret: secret))] + headers,
                    keepsBody: true
                )
                let response = ParityResponse(
                    status: Int(answer.head.status.code),
                    headers: answer.head.headers.map { ParityResponse.Header($0.name, $0.value) },
                    body: answer.body,
                    truncated: answer.truncated
                )
                return .success((response, answer.hash))
            } catch {
                let (kind, message) = HTTPObserver.classify(error)
                // Once, as HTTP clients retry an idempotent request on a kept-alive connection the server closed.
                if kind == .reset, attempt == 1 { continue }
                return .failure(FetchFailure(reason: "\(side.rawValue) side: \(message)"))
            }
        }
    }
}
