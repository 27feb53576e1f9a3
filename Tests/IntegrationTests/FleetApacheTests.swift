import CutoverCore
import CutoverExport
import CutoverFleet
import CutoverStore
import CutoverTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

/// The fleet form (#28), live: a PostgreSQL started here, two Apache nodes on two loopback
/// ports (children as www-data) each with the dbm export and its own map, and one node agent
/// per node following the published plan.
@Suite(.enabled(if: Integration.enabled && (Integration.isCI || PostgresServer.installed)), .serialized)
struct FleetApacheTests {
    static let files = [
        "index.php": "<?php echo 'php home';",
        "page-1.php": "<?php echo 'php one';",
        "page-2.php": "<?php echo 'php two';",
        "style.css": "body{}",
    ]

    let quiet: Logger = {
        var logger = Logger(label: "fleet-test")
        logger.logLevel = .critical
        return logger
    }()

    /// Who answered `path` on the node listening on `port`.
    static func owner(port: Int, _ path: String) async throws -> String {
        let answer = try await RawHTTP.send(port: port, method: "GET", path: path)
        if answer.headers[RecordingBackend.markerHeader.lowercased()] == "swift" || answer.headers[RecordingBackend.markerHeader] == "swift" {
            return "swift"
        }
        return answer.status == 200 && answer.body.hasPrefix("php") ? "php" : "status \(answer.status): \(answer.body.prefix(80))"
    }

    /// Polls until every node answers `path` from `owner`; returns how long that took.
    static func waitUntil(_ ports: [Int], _ path: String, answeredBy owner: String, within limit: Duration) async throws -> Duration? {
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < limit {
            var all = true
            for port in ports where try await Self.owner(port: port, path) != owner { all = false }
            if all { return clock.now - start }
            try await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    /// A `cutover node-agent` process, as on a real node (and off this test process's few
    /// threads, which every other live suite shares).
    static func startAgent(site: String, map: String, form: ExportForm, node: String, database: String, log: String) throws -> Process {
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: Subprocess.cutoverBinary)
        agent.arguments = [
            "node-agent", "--site", site, "--map-file", map, "--form", form.rawValue, "--node", node, "--database-url", database, "--poll", "0.5",
        ]
        FileManager.default.createFile(atPath: log, contents: nil)
        agent.standardOutput = FileHandle(forWritingAtPath: log)
        agent.standardError = FileHandle(forWritingAtPath: log)
        agent.standardInput = FileHandle.nullDevice
        try agent.run()
        return agent
    }

    /// Median and p99 of `count` sequential requests for a PHP page over fresh connections, in ms.
    static func latency(port: Int, _ path: String, count: Int = 200) async throws -> (median: Double, p99: Double) {
        var times: [Double] = []
        let clock = ContinuousClock()
        for _ in 0..<count {
            let start = clock.now
            let answer = try await RawHTTP.send(port: port, method: "GET", path: path)
            #expect(answer.status == 200 && answer.body.hasPrefix("php"), "\(answer.status) \(answer.body)")
            let elapsed = clock.now - start
            times.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
        }
        times.sort()
        return (times[times.count / 2], times[min(times.count - 1, Int(Double(times.count) * 0.99))])
    }

    @Test func twoNodesFollowThePublishedPlanWithoutReloadAndWithoutTheDatabase() async throws {
        let fleetNodes = try await TwoNodeFleet.start(files: Self.files)
        defer { Task { await fleetNodes.shutdown() } }
        let (postgres, live, node2) = (fleetNodes.postgres, fleetNodes.live, fleetNodes.node2)
        let (nodes, ports) = (fleetNodes.nodes, fleetNodes.ports)
        // Node 1 reads a gdbm map (the dbm form), node 2 a folder of marker files (the tree form).
        let maps = [live.docroot.appending("node-1.gdbm"), live.docroot.appending("node-2-flips")]
        let forms: [ExportForm] = [.dbm, .tree]
        let fleet = try FleetDatabase.parse(url: postgres.url, environment: [:], passwordFile: nil)
        let site = live.site.settings.name

        func publish(_ fleet: FleetDatabase = fleet) async throws -> RouteTable.Published {
            let connection = try await fleet.connect(logger: quiet)
            defer { Task { try? await connection.close() } }
            let table = RouteTable(connection: connection, logger: quiet, statementTimeout: fleet.statementTimeout)
            try await table.createSchema()
            let (keys, rules, _) = try storeCall { try Exporter(database: live.database).hashedMapKeys(site: live.site) }
            #expect(rules.isEmpty)
            return try await table.publish(site: site, keys: keys)
        }
        func nodeStates() async throws -> [RouteTable.NodeState] {
            let connection = try await fleet.connect(logger: quiet)
            defer { Task { try? await connection.close() } }
            return try await RouteTable(connection: connection, logger: quiet).nodes(site: site)
        }

        #expect(try await publish().version == 1)
        var agents: [Process] = []
        for (index, map) in maps.enumerated() {
            agents.append(
                try Self.startAgent(
                    site: site,
                    map: map,
                    form: forms[index],
                    node: "node-\(index + 1)",
                    database: postgres.url,
                    log: live.docroot.appending("agent-\(index + 1).log")
                )
            )
        }
        defer { for agent in agents where agent.isRunning { agent.terminate() } }
        for (map, form) in zip(maps, forms) {
            var waited = 0
            while NodeAgent.servedVersion(mapPath: map, form: form) != 1, waited < 1000 {
                try await Task.sleep(for: .milliseconds(10))
                waited += 1
            }
            #expect(NodeAgent.servedVersion(mapPath: map, form: form) == 1, "\(map)")
        }
        // The dbm export on each node, naming its own map; node 2 starts with it.
        for ((apache, map), form) in zip(zip(nodes, maps), forms) {
            let (_, rendered) = try storeCall { try Exporter(database: live.database).render(site: live.site, form: form, mapFilePath: map) }
            let include = apache.workDirectory.appending("cutover.conf")
            try rendered.text.write(toFile: include, atomically: true, encoding: .utf8)
            try apache.appendToConfig("Include \"\(include)\"")
            #expect(try await offPool { try apache.configTest() }.status == 0)
        }
        try await offPool { try live.apache.gracefulReload() }
        try await offPool { try node2.start() }
        for port in ports { #expect(try await Self.owner(port: port, "/page-1.php") == "php") }
        let reloads = nodes.map { $0.log().components(separatedBy: "Graceful restart").count }

        // A flip reaches both nodes within a second, no reload.
        _ = try await live.database.plan.flip(siteID: live.site.id, .paths(["/page-1.php"]), to: .swift, reason: "fleet flip")
        let clock = ContinuousClock()
        let publishStart = clock.now
        let flipped = try await publish()
        let publishTime = clock.now - publishStart
        #expect(flipped == RouteTable.Published(version: 2, pages: 1, added: 1, removed: 0, changed: true))
        // From the commit to both nodes answering from Swift. The figure (goal < 1 s) is the
        // benchmark's (scripts/bench-apache.py fleet); here every live suite shares two cores,
        // so the ceiling only tells a flip that arrives from one that never does.
        let flipLatency = try await Self.waitUntil(ports, "/page-1.php", answeredBy: "swift", within: .seconds(10))
        #expect(flipLatency != nil, "the flip never reached both nodes")
        for port in ports { #expect(try await Self.owner(port: port, "/page-2.php") == "php") }
        print("fleet: publish took \(publishTime); then both nodes on Swift after \(flipLatency.map { "\($0)" } ?? "none")")
        // Publishing the same plan again changes nothing and wakes no one.
        #expect(try await publish().changed == false)

        // Roll back: both back to PHP.
        _ = try await live.database.plan.flip(siteID: live.site.id, .paths(["/page-1.php"]), to: .php, reason: "roll back")
        #expect(try await publish().version == 3)
        #expect(try await Self.waitUntil(ports, "/page-1.php", answeredBy: "php", within: .seconds(1)) != nil)
        #expect(nodes.map { $0.log().components(separatedBy: "Graceful restart").count } == reloads)
        // Each agent reports right after writing its map.
        var states = try await nodeStates()
        for _ in 0..<100 where !states.allSatisfy({ $0.version == 3 }) {
            try await Task.sleep(for: .milliseconds(50))
            states = try await nodeStates()
        }
        #expect(states.map(\.node) == ["node-1", "node-2"])
        #expect(states.allSatisfy { $0.version == 3 }, "\(states)")

        // A publish racing 1,000 requests: each page answered by its owner in the old or the new
        // plan — never an error, never PHP's page-2 going anywhere else.
        _ = try await live.database.plan.flip(siteID: live.site.id, .paths(["/page-1.php"]), to: .swift, reason: "race")
        let racing = Task {
            var answers: [String: Int] = [:]
            for index in 0..<1000 {
                let path = index % 2 == 0 ? "/page-1.php" : "/page-2.php"
                let owner = try await Self.owner(port: ports[index % 2 == 0 ? 0 : 1], path)
                answers["\(path) \(owner)", default: 0] += 1
            }
            return answers
        }
        for _ in 0..<4 {
            _ = try await publish()
            try await live.database.plan.flip(siteID: live.site.id, .paths(["/page-1.php"]), to: .php, reason: "race back")
            _ = try await publish()
            try await live.database.plan.flip(siteID: live.site.id, .paths(["/page-1.php"]), to: .swift, reason: "race again")
        }
        _ = try await publish()
        let answers = try await racing.value
        #expect(Set(answers.keys).isSubset(of: ["/page-1.php php", "/page-1.php swift", "/page-2.php php"]), "\(answers)")
        #expect(answers.values.reduce(0, +) == 1000)
        #expect(try await Self.waitUntil(ports, "/page-1.php", answeredBy: "swift", within: .seconds(1)) != nil)

        // The database stopped, then frozen (accepts connections, answers nothing), then slow:
        // Apache never asks it, so PHP answers as fast as before and flipped pages stay flipped.
        let baseline = try await ports.asyncMap { try await Self.latency(port: $0, "/page-2.php") }
        postgres.stop()
        let whileStopped = try await ports.asyncMap { try await Self.latency(port: $0, "/page-2.php") }
        for port in ports { #expect(try await Self.owner(port: port, "/page-1.php") == "swift") }
        try await offPool { try postgres.start() }
        postgres.freeze(true)
        let whileFrozen = try await ports.asyncMap { try await Self.latency(port: $0, "/page-2.php") }
        let frozenStart = clock.now
        var impatient = fleet
        (impatient.connectTimeout, impatient.statementTimeout) = (.seconds(2), .seconds(2))
        await #expect(throws: FleetError.self) { _ = try await publish(impatient) }
        let publishFailure = clock.now - frozenStart
        #expect(publishFailure < .seconds(10), "a publish against a frozen database gives up within its timeouts (\(publishFailure))")
        postgres.freeze(false)
        // Slow: it answers, but the plan's tables are locked by another session, so every read
        // of the plan waits (the agents' polls, a publish) until the lock goes.
        let locker = try await fleet.connect(logger: quiet)
        try await locker.query("BEGIN", logger: quiet)
        try await locker.query("LOCK TABLE cutover_plan, cutover_route IN ACCESS EXCLUSIVE MODE", logger: quiet)
        let whileSlow = try await ports.asyncMap { try await Self.latency(port: $0, "/page-2.php") }
        for port in ports { #expect(try await Self.owner(port: port, "/page-1.php") == "swift") }
        await #expect(throws: FleetError.self) { _ = try await publish(impatient) }
        try await locker.query("ROLLBACK", logger: quiet)
        try await locker.close()
        print(
            "(median, p99) ms of a PHP page per node — database up: \(baseline), stopped: \(whileStopped), frozen: \(whileFrozen), "
                + "slow (plan locked): \(whileSlow); publish gave up after \(publishFailure)"
        )
        // The goal is +50 ms at p99 (measured by the benchmark, on a quiet machine). Here the
        // median must hold it, and p99 must not show a database wait (mod_dbd's was 2 s).
        for (index, port) in ports.enumerated() {
            for outage in [whileStopped[index], whileFrozen[index], whileSlow[index]] {
                #expect(outage.median <= baseline[index].median + 50, "node on \(port): \(outage) against \(baseline[index])")
                #expect(outage.p99 <= baseline[index].p99 + 500, "node on \(port): \(outage) against \(baseline[index])")
            }
        }

        // Back up: the agents reconnect by themselves and apply the next publish.
        _ = try await live.database.plan.flip(siteID: live.site.id, .paths(["/page-1.php"]), to: .php, reason: "after the outage")
        let recovered = try await publish()
        #expect(try await Self.waitUntil(ports, "/page-1.php", answeredBy: "php", within: .seconds(40)) != nil)
        // The tree form writes its version after the markers: the page may flip a moment before.
        for (map, form) in zip(maps, forms) {
            for _ in 0..<200 where NodeAgent.servedVersion(mapPath: map, form: form) != recovered.version {
                try await Task.sleep(for: .milliseconds(25))
            }
            #expect(NodeAgent.servedVersion(mapPath: map, form: form) == recovered.version, "\(form)")
        }

        // A node whose agent stopped falls behind, and the nodes list says so.
        agents[1].terminate()
        agents[1].waitUntilExit()
        _ = try await live.database.plan.flip(siteID: live.site.id, .paths(["/page-2.php"]), to: .swift, reason: "node 2 is gone")
        let latest = try await publish()
        #expect(try await Self.waitUntil([ports[0]], "/page-2.php", answeredBy: "swift", within: .seconds(1)) != nil)
        #expect(try await Self.owner(port: ports[1], "/page-2.php") == "php")
        states = try await nodeStates()
        for _ in 0..<100 where states.first(where: { $0.node == "node-1" })?.version != latest.version {
            try await Task.sleep(for: .milliseconds(50))
            states = try await nodeStates()
        }
        #expect(states.first { $0.node == "node-1" }?.version == latest.version)
        #expect(states.first { $0.node == "node-2" }?.version == recovered.version)
    }

    /// Keys are bytes (a path may hold any byte Apache passes), sites never see each other's
    /// plans, and a publish counts what it added and removed.
    @Test func theRouteTableKeepsBytesAndSitesApart() async throws {
        let postgres = try PostgresServer()
        defer { postgres.shutdown() }
        try await offPool { try postgres.start() }
        let fleet = try FleetDatabase.parse(url: postgres.url, environment: [:], passwordFile: nil)
        let connection = try await fleet.connect(logger: quiet)
        defer { Task { try? await connection.close() } }
        let table = RouteTable(connection: connection, logger: quiet)
        try await table.createSchema()
        try await table.createSchema()  // twice is fine
        let keys: [[UInt8]] = [Array("/caf\u{E9}.php".utf8), [0x2F, 0xFF, 0x00, 0x2E], Array("/a b.php".utf8), Array("/x%25.php".utf8)]
        #expect(try await table.version(site: "one") == nil)
        #expect(try await table.plan(site: "one") == nil)
        #expect(try await table.publish(site: "one", keys: keys) == .init(version: 1, pages: 4, added: 4, removed: 0, changed: true))
        #expect(try await table.publish(site: "two", keys: [Array("/other.php".utf8)]).version == 1)
        let plan = try #require(try await table.plan(site: "one"))
        #expect(plan.version == 1 && Set(plan.keys) == Set(keys))
        #expect(
            try await table.publish(site: "one", keys: Array(keys.prefix(2)) + [Array("/new.php".utf8)])
                == .init(version: 2, pages: 3, added: 1, removed: 2, changed: true)
        )
        #expect(try await table.publish(site: "one", keys: []) == .init(version: 3, pages: 0, added: 0, removed: 3, changed: true))
        #expect(try await table.plan(site: "one") == RouteTable.Plan(version: 3, keys: []))
        #expect(try await table.plan(site: "two")?.keys == [Array("/other.php".utf8)])

        // Canaries (#29) travel with the plan: a weight change is a new version, the same
        // canaries (in any order) are not, and ending one is.
        let cart = CanaryTree.Canary(name: "cart", weight: 25, keys: [Array("/cart.php".utf8), [0x2F, 0xFF]])
        let blog = CanaryTree.Canary(name: "blog", weight: 0, keys: [Array("/blog/".utf8)])
        #expect(
            try await table.publish(site: "one", keys: [], canaries: [cart, blog])
                == .init(version: 4, pages: 0, added: 0, removed: 0, changed: true, canaries: 2)
        )
        let reversed = CanaryTree.Canary(name: "cart", weight: 25, keys: cart.keys.reversed())
        #expect(try await table.publish(site: "one", keys: [], canaries: [blog, reversed]).changed == false)
        var raised = cart
        raised.weight = 50
        #expect(try await table.publish(site: "one", keys: [], canaries: [raised, blog]).version == 5)
        let withCanaries = try #require(try await table.plan(site: "one"))
        #expect(withCanaries.canaries.map(\.name) == ["blog", "cart"] && withCanaries.canaries.last?.weight == 50)
        #expect(Set(withCanaries.canaries.last?.keys ?? []) == Set(cart.keys))
        #expect(try await table.publish(site: "one", keys: [], canaries: [blog]).version == 6)
        #expect(try await table.plan(site: "one")?.canaries == [blog])
        #expect(try await table.plan(site: "two")?.canaries == [], "sites never see each other's canaries")
    }

    @Test func aDatabaseThatNeverAnswersFailsAPublishWithinTheConnectTimeout() async throws {
        let hole = try BlackHoleListener()
        defer { hole.stop() }
        let fleet = try FleetDatabase.parse(
            url: "postgres://cutover@127.0.0.1:\(hole.port)/routes?connect_timeout=1",
            environment: [:],
            passwordFile: nil
        )
        let clock = ContinuousClock()
        let start = clock.now
        do {
            _ = try await fleet.connect(logger: quiet)
            Issue.record("connected to a black hole")
        } catch let error as FleetError {
            guard case .unreachable(let place, _) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(place.contains("127.0.0.1:\(hole.port)"))
        }
        #expect(clock.now - start < .seconds(3))
        #expect(hole.accepted >= 1)
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for element in self { out.append(try await transform(element)) }
        return out
    }
}
