import AsyncHTTPClient
import CutoverCore
import CutoverExport
import CutoverFleet
import CutoverStore
import CutoverTestSupport
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Testing

/// #28.2/#28.5 from the user's side: a site whose fleet publishes by itself, `cutover serve`, two
/// Apache nodes with the tree export and their agents. A flip through the API reaches both nodes;
/// the fleet view shows each node current with its flip latency, and the fail-safe state when the
/// database is down; the probe of each node agrees.
extension FleetApacheTests {
    func call(_ method: HTTPMethod, _ url: String, body: String? = nil) async throws -> (Int, [String: Any]) {
        try await apiCall(method, url, token: "fleet-token", body: body)
    }

    @Test func aFlipThroughTheAPIIsPublishedToEveryNodeAndTheFleetViewShowsIt() async throws {
        let fleetNodes = try await TwoNodeFleet.start(files: Self.files)
        defer { Task { await fleetNodes.shutdown() } }
        let (postgres, live, node2) = (fleetNodes.postgres, fleetNodes.live, fleetNodes.node2)
        let (nodes, ports) = (fleetNodes.nodes, fleetNodes.ports)
        try await live.configure {
            $0.fleet = FleetSettings(databaseURL: postgres.url, autoPublish: true)
            $0.nodes = nodes.map(\.baseURL)
        }
        // The tree export on both nodes, each with its own folder.
        let folders = [live.docroot.appending("node-1-flips"), live.docroot.appending("node-2-flips")]
        for (apache, folder) in zip(nodes, folders) {
            let (_, rendered) = try storeCall { try Exporter(database: live.database).render(site: live.site, form: .tree, mapFilePath: folder) }
            let include = apache.workDirectory.appending("cutover.conf")
            try rendered.text.write(toFile: include, atomically: true, encoding: .utf8)
            try apache.appendToConfig("Include \"\(include)\"")
            #expect(try await offPool { try apache.configTest() }.status == 0)
        }
        try await offPool { try live.apache.gracefulReload() }
        try await offPool { try node2.start() }

        let port = try FreePort.find()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: Subprocess.cutoverBinary)
        server.arguments = ["serve", "--db", live.docroot.appending("cutover.sqlite"), "--port", String(port), "--public", live.docroot.path]
        server.environment = ["CUTOVER_TOKEN": "fleet-token", "PATH": "/usr/bin:/bin"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { server.terminate() } }
        let base = "http://127.0.0.1:\(port)/api/sites/live"
        var up = false
        for _ in 0..<200 where !up {
            up = (try? await call(.GET, "http://127.0.0.1:\(port)/api/health").0) == 200
            if !up { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(up)

        // Before the first publish: reachable, nothing published, no node.
        var (status, fleet) = try await call(.GET, "\(base)/fleet")
        #expect(status == 200 && fleet["configured"] as? Bool == true && fleet["reachable"] as? Bool == true, "\(fleet)")
        #expect(fleet["version"] == nil && (fleet["nodes"] as? [Any])?.isEmpty == true)
        (status, fleet) = try await call(.POST, "\(base)/fleet/publish")
        #expect(status == 200 && fleet["version"] as? Int == 1, "\(fleet)")

        var agents: [Process] = []
        for (index, folder) in folders.enumerated() {
            agents.append(
                try Self.startAgent(
                    site: "live",
                    map: folder,
                    form: .tree,
                    node: "node-\(index + 1)",
                    database: postgres.url,
                    log: live.docroot.appending("agent-\(index + 1).log")
                )
            )
        }
        defer { for agent in agents where agent.isRunning { agent.terminate() } }
        for folder in folders {
            for _ in 0..<400 where NodeAgent.servedVersion(mapPath: folder, form: .tree) != 1 { try await Task.sleep(for: .milliseconds(25)) }
            #expect(NodeAgent.servedVersion(mapPath: folder, form: .tree) == 1)
        }

        // A flip through the API is published in the same call; both nodes follow, no reload.
        let clock = ContinuousClock()
        let flipStart = clock.now
        var flip: [String: Any]
        (status, flip) = try await call(.POST, "\(base)/flips", body: #"{"paths":["/page-1.php"],"to":"swift","reason":"fleet"}"#)
        #expect(status == 200, "\(flip)")
        #expect((flip["published"] as? [String: Any])?["version"] as? Int == 2, "\(flip)")
        #expect((flip["published"] as? [String: Any])?["canaries"] as? Int == 0, "no canary runs: \(flip)")
        #expect(flip["publishError"] == nil)
        let reached = try await Self.waitUntil(ports, "/page-1.php", answeredBy: "swift", within: .seconds(10))
        #expect(reached != nil, "the flip never reached both nodes")
        // The figure (goal < 1 s) is the benchmark's; here every live suite shares two cores.
        print("fleet: API flip to both nodes on Swift in \(clock.now - flipStart)")

        // The fleet view: both nodes current, each with the time from publish to flips written.
        var current = false
        for _ in 0..<200 where !current {
            fleet = try await call(.GET, "\(base)/fleet").1
            let states = fleet["nodes"] as? [[String: Any]] ?? []
            current = states.count == 2 && states.allSatisfy { $0["current"] as? Bool == true && $0["version"] as? Int == 2 }
            if !current { try await Task.sleep(for: .milliseconds(25)) }
        }
        #expect(current, "\(fleet)")
        let latencies = (fleet["nodes"] as? [[String: Any]] ?? []).compactMap { $0["flipLatencyMs"] as? Int }
        #expect(latencies.count == 2 && latencies.allSatisfy { $0 >= 0 && $0 < 10_000 }, "\(fleet)")
        print("fleet: flip latency per node from the fleet view: \(latencies) ms")

        // The probe asks each node directly: both agree with the plan.
        var report = try await live.probe()
        #expect(report.nodes.count == 2 && report.run.nodeDriftCount == 0, "\(report.nodes.flatMap(\.problems))")

        // The database stopped: the fleet view says so (fail-safe), a flip still lands in the
        // plan and says it was not published, and both nodes keep serving the last plan.
        postgres.stop()
        fleet = try await call(.GET, "\(base)/fleet").1
        #expect(fleet["reachable"] as? Bool == false && (fleet["error"] as? String)?.isEmpty == false, "\(fleet)")
        (status, flip) = try await call(.POST, "\(base)/flips", body: #"{"paths":["/page-2.php"],"to":"swift","reason":"while down"}"#)
        #expect(status == 200 && (flip["changed"] as? [String]) == ["/page-2.php"], "\(flip)")
        #expect((flip["publishError"] as? String)?.isEmpty == false && flip["published"] == nil, "\(flip)")
        for port in ports {
            #expect(try await Self.owner(port: port, "/page-1.php") == "swift")
            #expect(try await Self.owner(port: port, "/page-2.php") == "php")
        }
        // What the probe then says: every node behind the plan on /page-2.php.
        report = try await live.probe()
        #expect(report.nodes.allSatisfy { $0.drifted.map(\.path) == ["/page-2.php"] }, "\(report.nodes.flatMap(\.problems))")

        // Back up: one publish and both nodes catch up.
        try await offPool { try postgres.start() }
        (status, fleet) = try await call(.POST, "\(base)/fleet/publish")
        #expect(status == 200 && fleet["version"] as? Int == 3, "\(fleet)")
        #expect(try await Self.waitUntil(ports, "/page-2.php", answeredBy: "swift", within: .seconds(40)) != nil)

        // A site without a fleet (removed through the API): the view says so, a publish is
        // refused with the reason.
        (status, fleet) = try await call(.PUT, base, body: #"{"fleet":{"databaseURL":""}}"#)
        #expect(status == 200 && fleet["fleet"] == nil, "\(fleet)")
        fleet = try await call(.GET, "\(base)/fleet").1
        #expect(fleet["configured"] as? Bool == false)
        (status, fleet) = try await call(.POST, "\(base)/fleet/publish")
        #expect(status == 422 && (fleet["error"] as? [String: Any])?["message"] as? String != nil, "\(fleet)")
    }
}
