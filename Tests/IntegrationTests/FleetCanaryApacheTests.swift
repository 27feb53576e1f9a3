import CutoverCore
import CutoverExport
import CutoverFleet
import CutoverStore
import CutoverTestSupport
import Foundation
import Logging
import Testing

/// A canary on a fleet (#28 + #29), live: PostgreSQL started here, two Apache nodes (the dbm form
/// and the tree form), one node agent each. A weight change made through Cutover is published
/// with the plan, and every node's Apache follows it without a reload — not only the machine
/// Cutover runs on.
@Suite(.enabled(if: Integration.enabled && (Integration.isCI || PostgresServer.installed)), .serialized)
struct FleetCanaryApacheTests {
    static let files = ["index.php": "<?php echo 'php home';", "page-1.php": "<?php echo 'php one';", "page-2.php": "<?php echo 'php two';"]

    /// Who answers `path` on `port` for a visitor whose cohort bucket is `bucket`.
    static func owner(port: Int, _ path: String, bucket: Int) async throws -> String {
        let answer = try await RawHTTP.send(port: port, method: "GET", path: path, headers: ["Cookie": "\(Canary.cookie)=\(bucket)"])
        if answer.headers[RecordingBackend.markerHeader.lowercased()] == "swift" { return "swift" }
        return answer.status == 200 && answer.body.hasPrefix("php") ? "php" : "status \(answer.status): \(answer.body.prefix(80))"
    }

    /// Polls until every node gives a visitor of each bucket its expected side.
    static func waitUntil(_ ports: [Int], _ path: String, _ expected: [Int: String]) async throws -> Bool {
        for _ in 0..<400 {
            var all = true
            for port in ports {
                for (bucket, side) in expected where try await owner(port: port, path, bucket: bucket) != side { all = false }
            }
            if all { return true }
            try await Task.sleep(for: .milliseconds(25))
        }
        return false
    }

    @Test func aCanarysWeightReachesEveryNodeWithoutReload() async throws {
        let fleetNodes = try await TwoNodeFleet.start(files: Self.files)
        defer { Task { await fleetNodes.shutdown() } }
        let (postgres, live, node2) = (fleetNodes.postgres, fleetNodes.live, fleetNodes.node2)
        let (nodes, ports) = (fleetNodes.nodes, fleetNodes.ports)
        var site = try await live.configure { $0.fleet = FleetSettings(databaseURL: postgres.url, autoPublish: true) }
        // The canary runs before the export: its rules are part of the config each node loads.
        _ = try await live.database.plan.startCanary(siteID: site.id, name: "cart", .paths(["/page-2.php"]), actor: "test")
        let maps = [live.docroot.appending("node-1.gdbm"), live.docroot.appending("node-2-flips")]
        let forms: [ExportForm] = [.dbm, .tree]
        for ((apache, map), form) in zip(zip(nodes, maps), forms) {
            let (_, rendered) = try storeCall { try Exporter(database: live.database).render(site: site, form: form, mapFilePath: map) }
            #expect(rendered.text.contains("\(map).canary-pages%{REQUEST_URI}.cutover-canary"), "\(rendered.text)")
            let include = apache.workDirectory.appending("cutover.conf")
            try rendered.text.write(toFile: include, atomically: true, encoding: .utf8)
            try apache.appendToConfig("Include \"\(include)\"")
        }
        let stepper = CanaryStepper(database: live.database, logger: Logger(label: "fleet-canary-test"))
        // Starting publishes nothing; the first weight change publishes the plan with the canary.
        var canary = try await live.database.plan.setCanaryWeight(siteID: site.id, name: "cart", weight: 0, actor: "test")
        var publication = await stepper.publish(canary, site: site)
        #expect(publication.fleetVersion == 1 && publication.error == nil, "\(publication)")
        var agents: [Process] = []
        for (index, (map, form)) in zip(maps, forms).enumerated() {
            agents.append(
                try FleetApacheTests.startAgent(
                    site: site.name,
                    map: map,
                    form: form,
                    node: "node-\(index + 1)",
                    database: postgres.url,
                    log: live.docroot.appending("agent-\(index + 1).log")
                )
            )
        }
        defer { for agent in agents where agent.isRunning { agent.terminate() } }
        for map in maps {
            for _ in 0..<400 where CanaryTree.servedVersion(map) != "1" { try await Task.sleep(for: .milliseconds(25)) }
            #expect(CanaryTree.servedVersion(map) == "1", "\(map)")
        }
        try await offPool { try live.apache.gracefulReload() }
        try await offPool { try node2.start() }
        let reloads = nodes.map { $0.log().components(separatedBy: "Graceful restart").count }
        #expect(try await Self.waitUntil(ports, "/page-2.php", [0: "php", 99: "php"]))

        // 50 %: on every node, the visitors below 50 reach Swift, the others stay on PHP.
        canary = try await live.database.plan.setCanaryWeight(siteID: site.id, name: "cart", weight: 50, actor: "test")
        publication = await stepper.publish(canary, site: site)
        #expect(publication.fleetVersion == 2 && publication.published == "fleet plan version 2", "\(publication)")
        #expect(
            try await Self.waitUntil(ports, "/page-2.php", [0: "swift", 49: "swift", 50: "php", 99: "php"]),
            "weight 50 never reached both nodes"
        )
        for port in ports { #expect(try await Self.owner(port: port, "/page-1.php", bucket: 0) == "php", "a page in no canary") }

        // Rolled back: every visitor on PHP on every node.
        canary = try await live.database.plan.endCanary(siteID: site.id, name: "cart", promote: false, actor: "test")
        publication = await stepper.publish(canary, site: site)
        #expect(publication.fleetVersion == 3, "\(publication)")
        #expect(try await Self.waitUntil(ports, "/page-2.php", [0: "php", 49: "php"]), "the rollback never reached both nodes")
        #expect(nodes.map { $0.log().components(separatedBy: "Graceful restart").count } == reloads, "no reload")

        // A site that does not publish by itself: the change stands, the fleet is left alone.
        site = try await live.configure { $0.fleet?.autoPublish = false }
        canary = try await live.database.plan.startCanary(siteID: site.id, name: "again", .paths(["/page-2.php"]), actor: "test")
        canary = try await live.database.plan.setCanaryWeight(siteID: site.id, name: "again", weight: 100, actor: "test")
        publication = await stepper.publish(canary, site: site)
        #expect(publication.fleetVersion == nil && publication.error == nil, "\(publication)")
        for port in ports { #expect(try await Self.owner(port: port, "/page-2.php", bucket: 0) == "php") }
    }
}
