import CutoverAPI
import CutoverCore
import CutoverServer
import CutoverStore
import CutoverTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The access-log settings, the `logs` job and the traffic routes, on a real SQLite file and
/// real log files.
@Suite struct TrafficRouteTests {
    static func line(_ path: String, day: Int, agent: String = "Mozilla/5.0") -> String {
        String(format: "192.0.2.7 - - [%02d/Nov/2026:10:00:00 +0000] \"GET %@ HTTP/1.1\" 200 10 \"-\" \"%@\"\n", day, path, agent)
    }

    @Test func logsJobImportsTheConfiguredFilesAndTheRoutesShowTraffic() async throws {
        let fixture = try await ServerFixture()
        defer { fixture.cleanup() }
        let logs = fixture.folder.appending("logs")
        try fixture.folder.write("logs/access.log.1", Self.line("/page-1.php", day: 1) + Self.line("/page-1.php", day: 2, agent: "bingbot/2.0"))
        try fixture.folder.write("logs/access.log", Self.line("/page-2.php?id=x&utm_source=a", day: 3) + Self.line("/page-1.php", day: 3))
        try await fixture.test { client in
            // Without configured logs the job fails with the reason.
            var firstID = 0
            try await client.execute(uri: "/api/sites/demo/jobs", method: .post, headers: authorized, body: json(#"{"kind":"logs"}"#)) {
                response throws in
                #expect(response.status == .accepted)
                firstID = try decode(response)["id"] as? Int ?? 0
            }
            let finished = await fixture.jobs.wait(for: firstID)
            #expect(finished?.state == .failed && finished?.error?.contains("no access logs configured") == true)

            for bad in [#"{"accessLogs":["relative/access.log"]}"#, #"{"accessLogFormat":"%h %J %r"}"#] {
                try await client.execute(uri: "/api/sites/demo", method: .put, headers: authorized, body: json(bad)) { response throws in
                    #expect(response.status == .unprocessableContent, "\(bad)")
                }
            }
            let settings = #"{"accessLogs":["\#(logs)/access.log*"],"accessLogFormat":"combined"}"#
            try await client.execute(uri: "/api/sites/demo", method: .put, headers: authorized, body: json(settings)) { response throws in
                #expect(response.status == .ok)
                #expect(try decode(response)["accessLogs"] as? [String] == ["\(logs)/access.log*"])
            }
            var jobID = 0
            try await client.execute(uri: "/api/sites/demo/jobs", method: .post, headers: authorized, body: json(#"{"kind":"logs"}"#)) {
                response throws in
                #expect(response.status == .accepted)
                jobID = try decode(response)["id"] as? Int ?? 0
            }
            let job = await fixture.jobs.wait(for: jobID)
            #expect(job?.state == .succeeded && job?.done == 2 && job?.total == 2)

            try await client.execute(uri: "/api/sites/demo/traffic?sort=humanHits", method: .get) { response throws in
                #expect(response.status == .ok)
                let page = try JSONDecoder.api.decode(TrafficPageView.self, from: Data(buffer: response.body))
                #expect(page.total == 2)
                #expect(page.items.map(\.path) == ["/page-1.php", "/page-2.php"])
                #expect(page.items[0].hits == 3 && page.items[0].humanHits == 2)
            }
            try await client.execute(uri: "/api/sites/demo/traffic?prefix=/page-2&limit=1", method: .get) { response throws in
                let page = try JSONDecoder.api.decode(TrafficPageView.self, from: Data(buffer: response.body))
                #expect(page.items.map(\.path) == ["/page-2.php"] && page.total == 1)
            }
            // The requested URLs joined the inventory (no crawl ran); their detail shows the traffic.
            let siteID = try await fixture.database.sites.named("demo").id
            let page2 = try #require(try storeCall { try fixture.database.inventory.url(siteID: siteID, path: "/page-2.php") })
            try await client.execute(uri: "/api/sites/demo/urls/\(page2.id)", method: .get) { response throws in
                let detail = try decode(response)
                #expect((detail["url"] as? [String: Any])?["flags"] as? [String] == ["log"])
                #expect((detail["traffic"] as? [String: Any])?["hits"] as? Int == 1)
                let values = detail["queryValues"] as? [[String: Any]]
                #expect(values?.map { "\($0["key"] ?? "")=\($0["value"] ?? "")" } == ["id=x"], "\(values ?? [])")
            }
            try await client.execute(uri: "/api/sites/demo/log-files", method: .get) { response throws in
                let files = try JSONDecoder.api.decode([LogFileView].self, from: Data(buffer: response.body))
                #expect(Set(files.map(\.path)) == ["\(logs)/access.log", "\(logs)/access.log.1"])
                #expect(files.allSatisfy { $0.offset == $0.size && $0.lines == 2 })
            }
            // The URL table sorts and filters by requests; URLs no log line named come last.
            for (order, paths) in [("desc", ["/page-1.php", "/page-2.php"]), ("asc", ["/page-2.php", "/page-1.php"])] {
                try await client.execute(uri: "/api/sites/demo/urls?sort=hits&order=\(order)", method: .get) { response throws in
                    let items = try #require(try decode(response)["items"] as? [[String: Any]])
                    #expect(items.map { $0["path"] as? String } == paths)
                    #expect(items.first { $0["path"] as? String == "/page-1.php" }?["lastSeen"] as? String == "2026-11-03T10:00:00Z")
                }
            }
            try await client.execute(uri: "/api/sites/demo/urls?minHits=2&sort=lastSeen", method: .get) { response throws in
                let page = try decode(response)
                #expect((page["items"] as? [[String: Any]])?.map { $0["path"] as? String } == ["/page-1.php"] && page["total"] as? Int == 1)
            }
            try await client.execute(uri: "/api/sites/demo/traffic/summary", method: .get) { response throws in
                #expect(response.status == .ok)
                let summary = try JSONDecoder.api.decode(TrafficSummaryView.self, from: Data(buffer: response.body))
                #expect(summary.logsFrom == "2026-11-01" && summary.logsTo == "2026-11-03")
            }
            for (uri, status) in [
                ("/api/sites/demo/traffic?sort=size", HTTPResponse.Status.unprocessableContent),
                ("/api/sites/demo/traffic?limit=0", .unprocessableContent),
                ("/api/sites/demo/traffic?prefix=x", .unprocessableContent), ("/api/sites/demo/traffic/daily?days=0", .unprocessableContent),
                ("/api/sites/demo/traffic/summary?orphanDays=x", .unprocessableContent),
                ("/api/sites/demo/urls?minHits=-1", .unprocessableContent), ("/api/sites/demo/urls?sort=humanHits", .unprocessableContent),
                ("/api/sites/nope/traffic", .notFound), ("/api/sites/nope/log-files", .notFound),
            ] {
                try await client.execute(uri: uri, method: .get) { response throws in
                    #expect(response.status == status, "\(uri)")
                    #expect(try errorCode(response) != nil, "\(uri)")
                }
            }
        }
    }

    /// Finding 5 and 6 of #23: a site's `accessLogs` is untrusted text; the logs job reads only
    /// regular files under the server's log roots (the fixture's folder here), never /etc or /proc.
    @Test func theLogsJobReadsOnlyUnderTheLogRoots() async throws {
        let fixture = try await ServerFixture()
        defer { fixture.cleanup() }
        try fixture.folder.write("logs/access.log", Self.line("/page-1.php", day: 1))
        let outside = try TemporaryDirectory(prefix: "outside-roots")
        defer { outside.remove() }
        try outside.write("secret.log", Self.line("/page-2.php", day: 1))
        try FileManager.default.createSymbolicLink(
            atPath: fixture.folder.appending("logs/link.log"),
            withDestinationPath: outside.appending("secret.log")
        )
        try await fixture.test { client in
            let logs = [fixture.folder.appending("logs/*.log"), "/etc/passw*", "/proc/kmsg", outside.appending("*.log")]
            let body = try JSONSerialization.data(withJSONObject: ["accessLogs": logs])
            try await client.execute(uri: "/api/sites/demo", method: .put, headers: authorized, body: ByteBuffer(bytes: body)) { response throws in
                #expect(response.status == .ok)
            }
            var jobID = 0
            try await client.execute(uri: "/api/sites/demo/jobs", method: .post, headers: authorized, body: json(#"{"kind":"logs"}"#)) {
                response throws in
                jobID = try decode(response)["id"] as? Int ?? 0
            }
            let job = await fixture.jobs.wait(for: jobID)
            #expect(job?.state == .failed)
            let error = job?.error ?? ""
            for refused in ["/etc/passwd", "/proc/kmsg", outside.appending("secret.log"), fixture.folder.appending("logs/link.log")] {
                #expect(error.contains("\(refused): outside the log roots"), "\(refused): \(error)")
            }
            try await client.execute(uri: "/api/sites/demo/log-files", method: .get) { response throws in
                let text = String(buffer: response.body)
                #expect(text.contains("access.log") && !text.contains("passwd") && !text.contains("kmsg") && !text.contains("secret"), "\(text)")
            }
        }
        let site = try await fixture.database.sites.named("demo")
        #expect(try storeCall { try fixture.database.traffic.row(siteID: site.id, path: "/page-1.php") }?.counts.hits == 1)
        #expect(try storeCall { try fixture.database.traffic.row(siteID: site.id, path: "/page-2.php") } == nil)
    }

    /// The log's tail through the API: a flood's requests counted per day and shown as
    /// estimates with their bound, and a path that earns rows a day later says since when.
    @Test func theTailAndRowsEarnedLaterReachTheAPI() async throws {
        let fixture = try await ServerFixture()
        defer { fixture.cleanup() }
        try await fixture.crawl()
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "dd/MMM/yyyy:HH:mm:ss Z"
        let today = Int(Date().timeIntervalSince1970) / 86_400
        func line(_ path: String, daysAgo: Int, second: Int, status: Int = 200) -> String {
            let time = formatter.string(from: Date(timeIntervalSince1970: Double((today - daysAgo) * 86_400 + 3_600 + second)))
            return "192.0.2.7 - - [\(time)] \"GET \(path) HTTP/1.1\" \(status) 10 \"-\" \"Mozilla/5.0\"\n"
        }
        let nextDay = line("/later", daysAgo: 1, second: 0) + line("/later", daysAgo: 1, second: 1)
        var text = (0..<3_000).map { line("/scan/\($0).php", daysAgo: 2, second: $0, status: 404) }.joined()
        text += (0..<5).map { line("/page-1.php", daysAgo: 2, second: 3_000 + $0) }.joined()
        // Three requests at the end of a busy day: certain, not above N/K = 3.
        text += (0..<3).map { line("/later", daysAgo: 2, second: 3_010 + $0) }.joined()
        try fixture.folder.write("logs/access.log", text)
        let logs = fixture.folder.appending("logs")
        try await fixture.test { client in
            let settings = #"{"accessLogs":["\#(logs)/access.log"],"accessLogFormat":"combined"}"#
            try await client.execute(uri: "/api/sites/demo", method: .put, headers: authorized, body: json(settings)) { response throws in
                #expect(response.status == .ok)
            }
            func importLogs() async throws {
                var jobID = 0
                try await client.execute(uri: "/api/sites/demo/jobs", method: .post, headers: authorized, body: json(#"{"kind":"logs"}"#)) {
                    response throws in jobID = try decode(response)["id"] as? Int ?? 0
                }
                #expect(await fixture.jobs.wait(for: jobID)?.state == .succeeded)
            }
            try await importLogs()
            try await client.execute(uri: "/api/sites/demo/traffic/summary", method: .get) { response throws in
                let summary = try JSONDecoder.api.decode(TrafficSummaryView.self, from: Data(buffer: response.body))
                #expect(summary.tail.requests == 3_003 && summary.tail.clientErrorRequests == 3_000 && summary.tail.days == 1)
                #expect(summary.tail.bound == 3)
                let later = try #require(summary.tail.paths.first)
                #expect(later.path == "/later" && later.certain == 3 && later.hits >= 3 && later.hits - 3 <= 3)
                #expect(summary.noiseCount == 0, "the flood is in the tail, not in rows")
            }
            try await client.execute(uri: "/api/sites/demo/traffic/daily?days=7", method: .get) { response throws in
                let days = try JSONDecoder.api.decode([TrafficDayView].self, from: Data(buffer: response.body))
                #expect(days.map(\.hits) == [3_008] && days.map(\.tailHits) == [3_003])
            }
            try await client.execute(uri: "/api/sites/demo/traffic", method: .get) { response throws in
                let page = try JSONDecoder.api.decode(TrafficPageView.self, from: Data(buffer: response.body))
                #expect(page.items.map(\.path) == ["/page-1.php"] && page.items.first?.hits == 5 && page.items.first?.exactSince == nil)
            }

            // The next day the path is requested again: it earns rows that say since when.
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logs + "/access.log"))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(nextDay.utf8))
            try handle.close()
            try await importLogs()
            try await client.execute(uri: "/api/sites/demo/traffic?prefix=/later", method: .get) { response throws in
                let page = try JSONDecoder.api.decode(TrafficPageView.self, from: Data(buffer: response.body))
                let later = try #require(page.items.first)
                #expect(later.hits == 2 && later.exactSince == later.firstSeen && (later.estimatedBefore ?? 0) >= 3)
            }
        }
    }

    @Test func dailyTrafficCountsTheLastDaysByTheStoreClock() async throws {
        var database = try AppDatabase(path: TemporaryDirectory().appending("t.sqlite"))
        // 2026-11-03 12:00 UTC: the window of 2 days is Nov 2 and Nov 3.
        database.clock = .fixed(Date(timeIntervalSince1970: 1_793_707_200))
        let site = try await database.sites.add(
            SiteSettings(name: "s", docroot: "/srv/www", publicURL: "http://127.0.0.1/", backendURL: "http://127.0.0.1:8080/")
        )
        var batch = TrafficBatch()
        for (day, hits) in [(20_758, 5), (20_759, 7), (20_760, 9)] {
            var counts = TrafficCounts()
            counts.hits = hits
            counts.botHits = 1
            counts.attributed = hits
            counts.servedSwift = 2
            batch.days[TrafficBatch.DayKey(day: day, path: "/a")] = counts
        }
        batch.paths["/a"] = TrafficCounts()
        _ = try storeCall { try database.traffic.record(batch, siteID: site.id) }
        let days = try await database.traffic.byDay(siteID: site.id, days: 2).map(TrafficDayView.init)
        #expect(days.map(\.day) == ["2026-11-02", "2026-11-03"])
        #expect(days.map(\.hits) == [7, 9] && days.map(\.humanHits) == [6, 8] && days.map(\.servedSwift) == [2, 2])
    }
}

extension JSONDecoder {
    static var api: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
