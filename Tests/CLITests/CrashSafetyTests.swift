import CutoverCore
import CutoverStore
import CutoverTestSupport
import Foundation
import GRDB
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct CrashSafetyTests {
    /// kill -9 in the middle of a crawl: the test holds SQLite's write lock so the crawler cannot
    /// commit, kills it, and checks the old inventory is intact and the crawl shows as interrupted.
    @Test func crawlKilledMidwayLeavesPreviousInventory() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        for index in 0..<2000 { try cli.folder.write("www/page-\(index).php", "v1") }
        #expect(try cli.run("crawl", "--docroot", "www").status == 0)
        let database = try AppDatabase(path: cli.db)
        let site = try await database.sites.named("default")
        let before = try storeCall { try database.inventory.urls(siteID: site.id) }
        // Change the docroot so that a completed crawl would visibly change the inventory.
        for index in 0..<1000 { try FileManager.default.removeItem(atPath: cli.folder.appending("www/page-\(index).php")) }
        try cli.folder.write("www/added.php")

        let process = Process()
        process.executableURL = URL(fileURLWithPath: Subprocess.cutoverBinary)
        // At debug level the crawler says when it starts saving: the event the test waits for.
        process.arguments = ["crawl", "--site", "default", "--log-level", "debug"]
        process.currentDirectoryURL = cli.folder.url
        process.standardOutput = FileHandle.nullDevice
        let log = cli.folder.appending("crawl.log")
        FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))

        let lock = try DatabaseQueue(path: cli.db)
        try process.run()
        // Wait for the crawl row, then take the write lock before the crawler can commit.
        let deadline = Date().addingTimeInterval(20)
        var running = false
        while !running, Date() < deadline {
            running =
                try storeCall { try lock.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM crawls WHERE status = 'running'") ?? 0 } } > 0
            if !running { usleep(5_000) }
        }
        #expect(running)
        try lock.inTransaction(.immediate) { _ in
            // The crawler walks the tree, then tries to commit and waits for this lock.
            var saving = false
            while !saving, Date() < deadline {
                saving = (try? String(contentsOfFile: log, encoding: .utf8))?.contains("saving the inventory") == true
                if !saving { usleep(5_000) }
            }
            #expect(saving, "the crawler never reached its commit")
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return .rollback
        }
        #expect(process.terminationReason == .uncaughtSignal)

        let after = try storeCall { try database.inventory.urls(siteID: site.id) }
        #expect(after == before)
        // The next start notices the dead crawl.
        let status = try #require(try cli.json("status") as? [String: Any])
        let last = try #require(status["lastCrawl"] as? [String: Any])
        #expect(last["status"] as? String == "interrupted")
        // And a new crawl completes normally.
        #expect(try cli.run("crawl").status == 0)
        // The 1,000 retired pages are Swift's now; no probe has seen Swift answer them yet.
        #expect(try storeCall { try database.inventory.summary(siteID: site.id) }.planned == 1000)
    }
}
