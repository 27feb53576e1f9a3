import CutoverCore
import CutoverCrawl
import CutoverTestSupport
import Foundation
import GRDB
import Logging
import Testing

@testable import CutoverProbe
@testable import CutoverStore

/// Every way a server can fail becomes a recorded result; the run always finishes.
@Suite struct BadNetworkTests {
    func site(publicURL: String, backendURL: String, files: [String]) async throws -> (AppDatabase, SiteRecord, TemporaryDirectory) {
        let folder = try TemporaryDirectory(prefix: "badnet")
        for file in files { try folder.write("htdocs/\(file)", "x") }
        let database = try AppDatabase(writer: DatabaseQueue())
        let site = try await database.sites.add(
            SiteSettings(name: "bad", docroot: folder.appending("htdocs"), publicURL: publicURL, backendURL: backendURL)
        )
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        try storeCall { try Crawler(database: database, logger: logger).crawl(site: site) }
        return (database, site, folder)
    }

    func probe(_ database: AppDatabase, _ site: SiteRecord, timeout: Duration = .seconds(4)) async throws -> ProbeReport {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return try await Prober(
            database: database,
            configuration: ProbeConfiguration(concurrency: 4, timeout: timeout, bodyCap: 64 * 1024),
            logger: logger
        ).probe(site: site)
    }

    @Test func misbehavingServerResultsAreRecorded() async throws {
        let server = try MisbehavingServer()
        defer { server.stop() }
        let (database, site, folder) = try await site(
            publicURL: server.baseURL,
            backendURL: server.baseURL,
            files: ["slow.html", "reset.html", "big.html", "loop.html", "garbage.html", "fine.html"]
        )
        defer { folder.remove() }
        let report = try await probe(database, site)
        let byPath = Dictionary(uniqueKeysWithValues: report.outcomes.map { ($0.target.path, $0.observation) })
        // Cut at its 4 s deadline (a timeout, not the 200 the slow server sends after 10 s), and
        // not before it; asked once more, as every timeout is. No upper bound on the time: every
        // live suite shares 2 cores in CI.
        #expect(byPath["/slow.html"]?.errorKind == .timeout)
        #expect(report.outcomes.first { $0.target.path == "/slow.html" }?.retried == true)
        let waited = byPath["/slow.html"]?.latencyMilliseconds ?? 0
        #expect(waited >= 3_900, "\(waited) ms")
        #expect(byPath["/reset.html"]?.errorKind == .reset)
        #expect(byPath["/garbage.html"]?.errorKind == .invalidResponse)
        #expect(byPath["/loop.html"]?.status == 302)
        #expect(byPath["/loop.html"]?.location == "/loop.html")
        #expect(byPath["/loop.html"]?.errorKind == nil)
        let big = try #require(byPath["/big.html"])
        #expect(big.status == 200)
        #expect(big.bodyTruncated)
        #expect(big.contentLength == 1 << 20)
        #expect(big.bodyHash?.count == 64)
        #expect(byPath["/fine.html"]?.status == 200)
        #expect(report.run.errorCount == 3)
        let stored = try #require(try storeCall { try database.inventory.url(siteID: site.id, path: "/slow.html") })
        #expect(stored.lastError?.hasPrefix("timeout") == true)
    }

    /// The probe's own HTTP/1.1 client on answers a general-purpose client would smooth over.
    @Test func edgeCasesOfHTTPAreObservedAsTheyAre() async throws {
        let server = try MisbehavingServer()
        defer { server.stop() }
        let (database, site, folder) = try await site(
            publicURL: server.baseURL + "/",
            backendURL: server.baseURL,
            files: ["short.html", "hints.html", "eof.txt", "fine.html"]
        )
        defer { folder.remove() }
        let report = try await probe(database, site)
        let byPath = Dictionary(uniqueKeysWithValues: report.outcomes.map { ($0.target.path, $0.observation) })
        #expect(byPath["/short.html"]?.errorKind == .reset)
        #expect(byPath["/short.html"]?.errorMessage == "the body ended before its announced length")
        #expect(byPath["/hints.html"]?.status == 200)
        #expect(byPath["/hints.html"]?.contentLength == 5)
        let eof = try #require(byPath["/eof.txt"])
        #expect(eof.status == 200)
        #expect(eof.errorKind == nil)
        #expect(eof.contentLength == Int64("until the end".utf8.count))
        #expect(eof.contentType == "text/plain")
        #expect(byPath["/fine.html"]?.status == 200)
    }

    @Test func anHTTPSSiteWhosePortSpeaksPlainHTTPIsATLSError() async throws {
        let server = try MisbehavingServer()
        defer { server.stop() }
        let (database, site, folder) = try await site(
            publicURL: "https://127.0.0.1:\(server.port)",
            backendURL: server.baseURL,
            files: ["fine.html"]
        )
        defer { folder.remove() }
        let report = try await probe(database, site)
        #expect(report.outcomes.map(\.observation.errorKind) == [.tls])
        #expect(report.outcomes.first?.observation.errorMessage?.hasPrefix("TLS handshake failed") == true)
        #expect(!report.fallback.healthy && report.fallback.status == nil)
    }

    @Test func aServerSilentInTheTLSHandshakeIsCutAtTheTimeout() async throws {
        // Listens and never accepts: the kernel completes TCP connections, nobody speaks TLS.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) == 0 && getsockname(listener, $0, &length) == 0 }
        }
        #expect(bound && listen(listener, 16) == 0)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let observer = HTTPObserver(configuration: ProbeConfiguration(concurrency: 1, timeout: .seconds(1)))
        let session = observer.session(0, tls: true)
        let origin = try #require(await ProbeOrigin(baseURL: "https://127.0.0.1:\(port)")?.resolved())
        let observation = await observer.observe("/", at: origin, fingerprint: OwnerFingerprint(), session: session)
        await session.close()
        #expect(observation.errorKind == .tls)
        #expect(observation.errorMessage == "TLS handshake failed: no handshake within the timeout")
    }

    @Test func aTargetThatCannotGoOnARequestLineIsNeverSent() async throws {
        let server = try MisbehavingServer()
        defer { server.stop() }
        let observer = HTTPObserver(configuration: ProbeConfiguration(concurrency: 1, timeout: .seconds(4)))
        let session = observer.session(0, tls: false)
        let origin = try #require(await ProbeOrigin(baseURL: server.baseURL)?.resolved())
        for target in ["/a b", "/x\r\nX-Injected: 1", "relative", "/caf\u{E9}"] {
            let observation = await observer.observe(target, at: origin, fingerprint: OwnerFingerprint(), session: session)
            #expect(observation.errorKind == .other, "\(target)")
            #expect(observation.errorMessage == "the path cannot be sent on a request line")
        }
        #expect(await observer.observe("/fine.html", at: origin, fingerprint: OwnerFingerprint(), session: session).status == 200)
        await session.close()
        #expect(server.requestCount == 1)
    }

    @Test func aNameIsResolvedOncePerRunAndAFailureIsAnObservation() async throws {
        let server = try MisbehavingServer()
        defer { server.stop() }
        let observer = HTTPObserver(configuration: ProbeConfiguration(concurrency: 1, timeout: .seconds(4)))
        let session = observer.session(0, tls: false)
        let named = try #require(await ProbeOrigin(baseURL: "http://localhost:\(server.port)")?.resolved())
        #expect(named.address != nil && named.hostHeader == "localhost:\(server.port)")
        let nowhere = try #require(await ProbeOrigin(baseURL: "http://no-such-host.invalid")?.resolved())
        #expect(nowhere.address == nil)
        let failed = await observer.observe("/fine.html", at: nowhere, fingerprint: OwnerFingerprint(), session: session)
        #expect(failed.errorKind == .other)
        #expect(failed.errorMessage?.hasPrefix("name resolution failed for no-such-host.invalid") == true)
        if named.address?.protocol == .inet {  // this server listens on 127.0.0.1 only
            #expect(await observer.observe("/fine.html", at: named, fingerprint: OwnerFingerprint(), session: session).status == 200)
        }
        await session.close()
    }

    @Test func baseURLsAreParsedOnceWithTheirPathAndHost() throws {
        let shop = try #require(ProbeOrigin(baseURL: "https://Example.org/shop/"))
        #expect(shop.tls && shop.port == 443 && shop.basePath == "/shop" && shop.hostHeader == "example.org")
        let v6 = try #require(ProbeOrigin(baseURL: "http://[::1]:8080"))
        #expect(v6.host == "::1" && v6.port == 8080 && v6.basePath == "" && v6.hostHeader == "[::1]:8080")
        #expect(ProbeOrigin(baseURL: "ftp://example.org") == nil)
        #expect(ProbeOrigin(baseURL: "/relative") == nil)
    }

    @Test func refusedConnectionsAreRecordedQuickly() async throws {
        let closed = try FreePort.find()
        let (database, site, folder) = try await site(
            publicURL: "http://127.0.0.1:\(closed)",
            backendURL: "http://127.0.0.1:\(closed)",
            files: ["a.php", "b.html"]
        )
        defer { folder.remove() }
        let report = try await probe(database, site, timeout: .seconds(5))
        // Recorded as refused, not as a timeout: the kind says it was not the 5 s timeout that ended
        // the request (a bound on the latency measured wall time of a loaded CI machine and failed there).
        #expect(report.outcomes.allSatisfy { $0.observation.errorKind == .refused })
        #expect(!report.fallback.healthy)
        #expect(report.fallback.detail.contains("refused"))
        #expect(report.run.status == .succeeded)
    }

    @Test func historyIsPrunedToTheRetention() async throws {
        let server = try MisbehavingServer()
        defer { server.stop() }
        let (database, site, folder) = try await site(publicURL: server.baseURL, backendURL: server.baseURL, files: ["fine.html"])
        defer { folder.remove() }
        var settings = site.settings
        settings.probeRetention = 2
        let limited = try await database.sites.save(settings)
        for _ in 0..<4 { _ = try await probe(database, limited) }
        #expect(try storeCall { try database.probes.runs(siteID: site.id) }.count == 2)
        let url = try #require(try storeCall { try database.inventory.url(siteID: site.id, path: "/fine.html") })
        #expect(try storeCall { try database.probes.history(urlID: url.id) }.count == 2)
    }

    /// Results are saved in batches during a run; a run that does not finish leaves none behind.
    @Test func unfinishedRunsLeaveNoResults() async throws {
        let server = try MisbehavingServer()
        defer { server.stop() }
        let (database, site, folder) = try await site(publicURL: server.baseURL, backendURL: server.baseURL, files: ["fine.html", "slow.html"])
        defer { folder.remove() }
        let siteID = site.id
        let targets = try await database.probes.targets(siteID: siteID)
        func saved(_ run: ProbeRunRecord) throws -> Int {
            try database.writer.read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM probe_results WHERE run_id = ?", arguments: [run.id])!
            }
        }
        let outcomes = targets.map { ProbeOutcome(target: $0, observation: ProbeObservation(status: 200, observedOwner: .static)) }

        // A run that fails drops what it had saved; the URLs keep their previous state.
        let failing = try await database.probes.beginRun(siteID: siteID, concurrency: 1)
        try await database.probes.saveResults(runID: failing.id!, outcomes)
        #expect(try saved(failing) == 2)
        #expect(try storeCall { try database.probes.history(urlID: targets[0].urlID) }.isEmpty)  // not published while running
        try await database.probes.failRun(failing, error: "test")
        #expect(try saved(failing) == 0)
        #expect(try storeCall { try database.inventory.url(siteID: siteID, path: "/fine.html") }?.lastStatus == nil)

        // A run whose process died: its results go when the next process opens the database.
        let dead = try await database.probes.beginRun(siteID: siteID, concurrency: 1)
        try await database.probes.saveResults(runID: dead.id!, outcomes)
        try await database.writer.write { db in
            try db.execute(sql: "UPDATE probe_runs SET pid = 4194305 WHERE id = ?", arguments: [dead.id])  // above pid_max
        }
        #expect(try await offPool { try database.recoverInterruptedRuns() } == 1)
        #expect(try saved(dead) == 0)
        #expect(try storeCall { try database.probes.runs(siteID: siteID) }.first { $0.id == dead.id }?.status == .interrupted)

        // A probe cancelled while /slow.html is pending is recorded as failed, with no results.
        let probing = Task { try await probe(database, site, timeout: .seconds(20)) }
        // An event, not a guess: with every live suite in one process on 2 cores, a probe took 18 s to
        // reach its first request (a site read waited 9 s for the pool, a connect 3 s for its loop).
        #expect(await server.slowRequestArrived(within: 60))
        let clock = ContinuousClock()
        let cancelledAt = clock.now
        probing.cancel()
        await #expect(throws: CancellationError.self) { try await probing.value }
        // The pending request is cancelled, not waited for: /slow answers 10 s after it arrived,
        // so anything sooner was a cancellation (a CI machine running every live suite at once
        // took 9.0 s).
        #expect(clock.now - cancelledAt < .seconds(10))
        let cancelled = try #require(try storeCall { try database.probes.runs(siteID: siteID) }.first)
        #expect(cancelled.status == .failed)
        #expect(cancelled.error == "cancelled")
        #expect(try saved(cancelled) == 0)
        #expect(try storeCall { try database.inventory.url(siteID: siteID, path: "/fine.html") }?.lastStatus == nil)
    }
}
