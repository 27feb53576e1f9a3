import CutoverCore
import CutoverExport
import CutoverProbe
import CutoverStore
import CutoverTestSupport
import Foundation
import Testing

/// #28.4 on two real Apache nodes serving one docroot: the probe asks each node directly with the
/// site's Host, and a node left on a stale file export is named, by URL and by export.
@Suite(.enabled(if: Integration.enabled, "needs apache2 and libapache2-mod-php (always runs when CI=true)"))
struct NodeDriftApacheTests {
    static let files = [
        "index.php": "<?php echo 'php home';",
        "contact.php": "<?php echo 'php contact';",
        "about.php": "<?php echo 'php about';",
    ]

    /// Stores the site's vhost export and puts it live on `nodes` only (each its own include).
    func apply(_ live: LiveSite, on nodes: [ApacheServer]) async throws -> Int64 {
        let (record, rendered) = try storeCall { try Exporter(database: live.database).export(site: live.site, form: .vhost) }
        for apache in nodes {
            let include = apache.workDirectory.appending("cutover.conf")
            let firstTime = !FileManager.default.fileExists(atPath: include)
            try rendered.text.write(toFile: include, atomically: true, encoding: .utf8)
            if firstTime { try apache.appendToConfig("Include \"\(include)\"") }
            #expect(try await offPool { try apache.configTest() }.status == 0)
            try await offPool { try apache.gracefulReload() }
        }
        return try #require(record.id)
    }

    @Test func aNodeLeftOnAStaleExportIsNamedByURLAndByExport() async throws {
        let live = try await LiveSite(files: Self.files, directoryConfig: "")
        defer { Task { await live.shutdown() } }
        let node2 = try ApacheServer(docroot: live.htdocs)
        defer { node2.shutdown() }
        try await offPool { try node2.start() }
        try await live.crawl()
        // The public URL is node 1 (as a balancer might pick it); both nodes are listed.
        try await live.configure { $0.nodes = [live.apache.baseURL, node2.baseURL] }
        let first = try await apply(live, on: [live.apache, node2])

        var report = try await live.probe()
        #expect(report.nodes.map(\.node) == [live.apache.baseURL, node2.baseURL])
        #expect(report.nodes.allSatisfy { $0.driftCount == 0 && $0.exportID == first && $0.urlCount == report.run.urlCount })
        #expect(report.run.nodeDriftCount == 0)
        #expect(!report.needsAttention)

        // The flip reaches node 1 only: the public URL agrees, node 2 still serves PHP.
        _ = try await live.database.plan.flip(siteID: live.site.id, .paths(["/contact.php"]), to: .swift, reason: "port")
        let second = try await apply(live, on: [live.apache])
        report = try await live.probe()
        #expect(report.drifted.isEmpty, "the public URL reaches node 1, which has the flip")
        let stale = try #require(report.nodes.last)
        #expect(report.nodes.first?.driftCount == 0)
        #expect(stale.exportID == first && stale.expectedExportID == second, "one node each way: the newer export is the reference")
        #expect(stale.drifted.map(\.path) == ["/contact.php"])
        #expect(stale.drifted.first?.observedOwner == .php && stale.drifted.first?.expectedOwner == .swift)
        #expect(stale.problems.contains("node \(SiteNodes.label(node2.baseURL)) serves export \(first), the others \(second)"))
        #expect(stale.problems.contains("node \(SiteNodes.label(node2.baseURL)) still serves php for /contact.php (expected swift)"))
        #expect(report.run.nodeDriftCount == 2, "the URL and the stale export")
        #expect(report.needsAttention)

        // What the API and status read: the latest finished probe's node summaries.
        let progress = try await live.database.inventory.progress(of: live.site)
        #expect(progress.nodes.map(\.driftedURLs) == [0, 1])
        #expect(progress.lastProbe?.nodeDriftCount == 2)

        // The CLI names the node and exits 3, for cron.
        let cli = try await Subprocess.run(Subprocess.cutoverBinary, ["probe", "--site", "live", "--db", live.docroot.appending("cutover.sqlite")])
        #expect(cli.status == 3, "\(cli.stdout)\(cli.stderr)")
        #expect(cli.stdout.contains("node \(SiteNodes.label(node2.baseURL)) still serves php for /contact.php"), "\(cli.stdout)")

        // Node 2 catches up: no node drift, both on the newest export.
        #expect(try await apply(live, on: [node2]) == second, "the same plan is the same export")
        report = try await live.probe()
        #expect(report.run.nodeDriftCount == 0, "\(report.nodes.flatMap(\.problems))")
        #expect(report.nodes.allSatisfy { $0.exportID == second })
        #expect(!report.needsAttention)

        // A node that is down is unanswered, not drifted, and does not hide the others.
        node2.stop()
        report = try await live.probe(ProbeConfiguration(timeout: .seconds(5)))
        #expect(report.nodes.last?.errorCount == report.run.urlCount)
        #expect(report.nodes.last?.driftedURLs == 0)
        #expect(report.run.driftCount == 0)
    }

    @Test func threeNodesNameTheOneOnAnotherExport() async throws {
        let live = try await LiveSite(files: Self.files, directoryConfig: "")
        defer { Task { await live.shutdown() } }
        let others = try [ApacheServer(docroot: live.htdocs), ApacheServer(docroot: live.htdocs)]
        defer { for node in others { node.shutdown() } }
        for node in others { try await offPool { try node.start() } }
        try await live.crawl()
        try await live.configure { $0.nodes = [live.apache.baseURL] + others.map(\.baseURL) }
        let first = try await apply(live, on: [live.apache] + others)
        // A change that moves no page (a new export all the same): node 3 misses the reload.
        _ = try await live.database.plan.flip(siteID: live.site.id, .paths(["/about.php"]), to: .swift, reason: "port")
        let second = try await apply(live, on: [live.apache, others[0]])
        let report = try await live.probe()
        let behind = try #require(report.nodes.last)
        #expect(behind.exportID == first && behind.expectedExportID == second)
        #expect(behind.problems.first == "node \(SiteNodes.label(others[1].baseURL)) serves export \(first), the others \(second)")
        #expect(report.nodes.dropLast().allSatisfy { $0.driftCount == 0 })
        #expect(report.run.nodeDriftCount == 2, "the stale export and /about.php")
    }
}
