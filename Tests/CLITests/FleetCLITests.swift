import CutoverTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `cutover publish` and `cutover node-agent` as an operator runs them, against a PostgreSQL
/// started here: the JSON summary, the nodes list and its exit status, and the refusals.
@Suite(.enabled(if: Integration.isCI || PostgresServer.installed), .serialized)
struct FleetCLITests {
    @Test func publishAndAnAgentProcessAndTheNodesList() async throws {
        let postgres = try PostgresServer()
        defer { postgres.shutdown() }
        try await offPool { try postgres.start() }
        let cli = try CLI()
        defer { cli.cleanup() }
        for page in ["a", "b", "c"] { try cli.folder.write("www/\(page).php", "<?php echo '\(page)';") }
        #expect(try await cli.exec("site", "add", "s", "--docroot", "www", "--db", cli.db).status == 0)
        #expect(try await cli.exec("crawl", "--site", "s", "--db", cli.db).status == 0)
        #expect(try await cli.exec("flip", "--db", cli.db, "--site", "s", "/a.php", "--to", "swift", "--reason", "first").status == 0)

        // Before any publish, the nodes list is empty, not an error about missing tables.
        let none = try await cli.exec("publish", "--nodes", "--site", "s", "--database-url", postgres.url, "--db", cli.db)
        #expect(
            none.status == 0 && none.stdout.contains("plan version none") && none.stdout.contains("no node agent has reported yet"),
            "\(none.stdout)\(none.stderr)"
        )

        let first = try await cli.execJSON("publish", "--site", "s", "--database-url", postgres.url, "--db", cli.db) as? [String: Any]
        #expect(first?["version"] as? Int == 1)
        #expect(first?["pages"] as? Int == 1)
        #expect(first?["changed"] as? Bool == true)
        let again = try await cli.exec("publish", "--site", "s", "--database-url", postgres.url, "--db", cli.db)
        #expect(again.status == 0 && again.stdout.contains("already published"), "\(again.stdout)\(again.stderr)")

        // The agent, as its own process, writes the node's map and reports in.
        let map = cli.folder.appending("node.gdbm")
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: Subprocess.cutoverBinary)
        agent.arguments = ["node-agent", "--site", "s", "--map-file", map, "--node", "web-1", "--database-url", postgres.url, "--poll", "0.2"]
        let agentLog = cli.folder.appending("agent.log")
        FileManager.default.createFile(atPath: agentLog, contents: nil)
        agent.standardOutput = FileHandle(forWritingAtPath: agentLog)
        agent.standardError = FileHandle(forWritingAtPath: agentLog)
        try agent.run()
        defer { if agent.isRunning { agent.terminate() } }
        func nodes() async throws -> (status: Int32, json: [String: Any]) {
            let result = try await cli.exec("publish", "--nodes", "--site", "s", "--database-url", postgres.url, "--db", cli.db, "--json")
            return (result.status, (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any] ?? [:])
        }
        var listed: (status: Int32, json: [String: Any]) = (0, [:])
        for _ in 0..<100 {
            listed = try await nodes()
            if ((listed.json["nodes"] as? [[String: Any]]) ?? []).contains(where: { $0["node"] as? String == "web-1" }) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let web1 = (listed.json["nodes"] as? [[String: Any]])?.first
        #expect(web1?["node"] as? String == "web-1" && web1?["version"] as? Int == 1 && web1?["current"] as? Bool == true, "\(listed.json)")
        #expect(listed.status == 0)
        #expect(FileManager.default.fileExists(atPath: map))

        // The agent stops; the next plan leaves its node behind, and the list says so (exit 3).
        agent.terminate()
        agent.waitUntilExit()
        #expect(try await cli.exec("flip", "--db", cli.db, "--site", "s", "/b.php", "--to", "swift", "--reason", "second").status == 0)
        let second = try await cli.execJSON("publish", "--site", "s", "--database-url", postgres.url, "--db", cli.db) as? [String: Any]
        #expect(second?["version"] as? Int == 2)
        let behind = try await cli.exec("publish", "--nodes", "--site", "s", "--database-url", postgres.url, "--db", cli.db)
        #expect(behind.status == 3 && behind.stdout.contains("web-1: plan version 1") && behind.stdout.contains("BEHIND"), "\(behind.stdout)")
        let log = (try? String(contentsOfFile: agentLog, encoding: .utf8)) ?? ""
        #expect(log.contains("now holds plan version 1"), "\(log)")
        #expect(!log.contains("password"), "\(log)")
    }

    @Test func refusalsAreClearAndQuick() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try cli.folder.write("www/a.php", "<?php echo 1;")
        #expect(try await cli.exec("site", "add", "s", "--docroot", "www", "--db", cli.db).status == 0)
        let password = try await cli.exec("publish", "--site", "s", "--database-url", "postgres://u:hunter2@127.0.0.1/x", "--db", cli.db)
        #expect(password.status != 0 && password.stderr.contains("--password-file") && !password.stderr.contains("hunter2"), "\(password.stderr)")
        let missingFile = try await cli.exec("publish", "--site", "s", "--password-file", "/nonexistent/pw", "--db", cli.db)
        #expect(missingFile.status != 0 && missingFile.stderr.contains("password file"), "\(missingFile.stderr)")
        let closedPort = try FreePort.find()
        let refused = try await cli.exec(
            "publish",
            "--site",
            "s",
            "--database-url",
            "postgres://u@127.0.0.1:\(closedPort)/x?connect_timeout=1",
            "--db",
            cli.db
        )
        #expect(refused.status != 0 && refused.stderr.contains("cannot connect to postgres u@127.0.0.1:\(closedPort)/x"), "\(refused.stderr)")
        let agent = try await cli.exec("node-agent", "--site", "s", "--map-file", "m.gdbm", "--poll", "0")
        #expect(agent.status != 0 && agent.stderr.contains("--poll"), "\(agent.stderr)")
    }
}
