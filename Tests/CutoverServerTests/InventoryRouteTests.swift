import CutoverCore
import CutoverServer
import CutoverStore
import CutoverTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct InventoryRouteTests {
    @Test func crawlJobThenURLsFlipsExportAndStats() async throws {
        let fixture = try await ServerFixture()
        defer { fixture.cleanup() }
        try await fixture.test { client in
            // A crawl over HTTP: 202 with a job, then the job finishes.
            let jobID = try await client.execute(uri: "/api/sites/demo/jobs", method: .post, headers: authorized, body: json(#"{"kind":"crawl"}"#)) {
                response throws in
                #expect(response.status == .accepted)
                #expect(response.headers[.location]?.hasPrefix("/api/jobs/") == true)
                return try decode(response)["id"] as? Int
            }
            let id = try #require(jobID)
            _ = await fixture.jobs.wait(for: id)
            try await client.execute(uri: "/api/jobs/\(id)", method: .get) { response throws in
                let job = try decode(response)
                #expect(job["state"] as? String == "succeeded")
                #expect(job["kind"] as? String == "crawl")
            }
            try await client.execute(uri: "/api/jobs/999", method: .get) { response throws in #expect(response.status == .notFound) }
            try await client.execute(uri: "/api/sites/demo/jobs", method: .post, headers: authorized, body: json(#"{"kind":"dance"}"#)) {
                response throws in #expect(response.status == .badRequest)
            }
            // Only a parity job takes pages, and one way of naming them.
            for body in [
                #"{"kind":"crawl","prefix":"/blog/"}"#, #"{"kind":"parity","prefix":"/blog/","paths":["/a.php"]}"#,
                #"{"kind":"parity","paths":[]}"#,
            ] {
                try await client.execute(uri: "/api/sites/demo/jobs", method: .post, headers: authorized, body: json(body)) { response throws in
                    #expect([.unprocessableContent, .badRequest].contains(response.status), "\(body)")
                }
            }
            try await client.execute(
                uri: "/api/sites/demo/jobs",
                method: .post,
                headers: authorized,
                body: json(#"{"kind":"parity","paths":["/no-such-page.php"]}"#)
            ) { response throws in
                #expect(response.status == .notFound, "an unknown page is refused before a job starts")
            }
            // No parity run yet: an empty list, and 404 for a run.
            try await client.execute(uri: "/api/sites/demo/parity/runs", method: .get) { response throws in
                #expect(response.status == .ok && String(buffer: response.body) == "[]")
            }
            for id in ["1", "x"] {
                try await client.execute(uri: "/api/sites/demo/parity/runs/\(id)", method: .get) { response throws in
                    #expect(response.status == .notFound)
                    #expect(try errorCode(response) == "not_found")
                }
            }

            // Paginated, filtered URLs.
            try await client.execute(uri: "/api/sites/demo/urls?owner=php&limit=2&sort=path", method: .get) { response throws in
                let page = try decode(response)
                #expect(page["total"] as? Int == 5)  // /, /index.php, /page-1.php, /page-2.php, /old%20page.php
                #expect((page["items"] as? [[String: Any]])?.map { $0["path"] as? String } == ["/", "/index.php"])
            }
            try await client.execute(uri: "/api/sites/demo/urls?q=OLD", method: .get) { response throws in
                #expect((try decode(response)["items"] as? [[String: Any]])?.first?["path"] as? String == "/old%20page.php")
            }
            for bad in ["limit=0", "limit=1001", "offset=-1", "owner=perl", "drift=maybe", "sort=size", "order=up"] {
                try await client.execute(uri: "/api/sites/demo/urls?\(bad)", method: .get) { response throws in
                    #expect(response.status == .unprocessableContent, "\(bad)")
                    #expect(try errorCode(response) == "invalid")
                }
            }

            // Flip one page, refusals, then detail with its event.
            try await client.execute(
                uri: "/api/sites/demo/flips",
                method: .post,
                headers: authorized,
                body: json(#"{"paths":["/old page.php"],"to":"swift","reason":"done"}"#)
            ) { response throws in
                #expect(response.status == .ok)
                #expect(try decode(response)["changed"] as? [String] == ["/old%20page.php"])
            }
            try await client.execute(
                uri: "/api/sites/demo/flips",
                method: .post,
                headers: authorized,
                body: json(#"{"paths":["/nope.php"],"to":"swift"}"#)
            ) {
                response throws in #expect(response.status == .notFound)
            }
            try await client.execute(
                uri: "/api/sites/demo/flips",
                method: .post,
                headers: authorized,
                body: json(#"{"paths":["/css/site.css"],"to":"swift"}"#)
            ) {
                response throws in #expect(response.status == .unprocessableContent)
            }
            try await client.execute(
                uri: "/api/sites/demo/flips",
                method: .post,
                headers: authorized,
                body: json(#"{"prefix":"/","glob":"*","to":"swift"}"#)
            ) {
                response throws in #expect(response.status == .unprocessableContent)
            }
            let siteID = try await fixture.database.sites.named("demo").id
            let url = try #require(try storeCall { try fixture.database.inventory.url(siteID: siteID, path: "/old%20page.php") })
            try await client.execute(uri: "/api/sites/demo/urls/\(url.id)", method: .get) { response throws in
                let detail = try decode(response)
                #expect((detail["url"] as? [String: Any])?["plannedOwner"] as? String == "swift")
                #expect((detail["events"] as? [[String: Any]])?.count == 1)
                let event = (detail["events"] as? [[String: Any]])?.first
                #expect(event?["toOwner"] as? String == "swift" && event?.keys.contains { $0.contains("_") } == false, "\(event ?? [:])")
            }
            try await client.execute(uri: "/api/sites/demo/urls/424242", method: .get) { response throws in #expect(response.status == .notFound) }

            // Export as text, preview, history.
            try await client.execute(uri: "/api/sites/demo/export?form=htaccess", method: .get) { response throws in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                #expect(String(buffer: response.body).contains(#"RewriteCond %{REQUEST_URI} "^/old\x20page\.php$""#))
            }
            try await client.execute(uri: "/api/sites/demo/export?form=nginx", method: .get) { response throws in
                #expect(response.status == .unprocessableContent)
            }
            try await client.execute(uri: "/api/sites/demo/export?form=rewritemap", method: .get) { response throws in
                #expect(response.status == .unprocessableContent)
            }
            try await client.execute(uri: "/api/sites/demo/export/preview", method: .get) { response throws in
                let items = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [[String: Any]]
                // The flip, and before the first export the folder without an index file the
                // fallback takes over from Apache.
                #expect(items?.map { $0["path"] as? String } == ["/css/", "/old%20page.php"])
                // No owner answers it today: `from` is absent, like every other absent value.
                #expect(items?.first?.keys.contains("from") == false)
                #expect((items?.first?["before"] as? String)?.contains("no index file") == true)
            }
            // Reading the export stores nothing; the diff shows the whole text as additions.
            try await client.execute(uri: "/api/sites/demo/exports", method: .get) { response throws in
                let items = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [[String: Any]]
                #expect(items?.count == 0)
            }
            try await client.execute(uri: "/api/sites/demo/export/diff?form=htaccess", method: .get) { response throws in
                let diff = try decode(response)
                #expect(diff["previousID"] == nil)
                #expect(diff["changed"] as? Bool == true)
                #expect((diff["diff"] as? String)?.contains(#"+"#) == true)
            }
            try await client.execute(uri: "/api/sites/demo/exports", method: .post, body: json(#"{"form":"htaccess"}"#)) { response throws in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/api/sites/demo/exports", method: .post, headers: authorized, body: json(#"{"form":"nginx"}"#)) {
                response throws in #expect(response.status == .unprocessableContent)
            }
            try await client.execute(uri: "/api/sites/demo/exports", method: .post, headers: authorized, body: json(#"{"form":"rewritemap"}"#)) {
                response throws in #expect(response.status == .unprocessableContent)
            }
            try await client.execute(uri: "/api/sites/demo/exports", method: .post, headers: authorized, body: json(#"{"form": "#)) {
                response throws in #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/api/sites/demo/exports", method: .post, headers: authorized, body: json(#"{"form":"htaccess"}"#)) {
                response throws in
                #expect(response.status == .created)
                #expect(response.headers[HTTPField.Name("X-Cutover-Export")!] == "1")
                #expect(String(buffer: response.body).contains(#"RewriteCond %{REQUEST_URI} "^/old\x20page\.php$""#))
            }
            try await client.execute(uri: "/api/sites/demo/export/diff?form=htaccess", method: .get) { response throws in
                let diff = try decode(response)
                #expect(diff["previousID"] as? Int == 1)
                #expect(diff["changed"] as? Bool == false)
                #expect(diff["diff"] as? String == "")
            }
            try await client.execute(uri: "/api/sites/demo/exports", method: .get) { response throws in
                let items = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [[String: Any]]
                #expect(items?.count == 1)
            }
            try await client.execute(uri: "/api/sites/demo/exports/1", method: .get) { response throws in #expect(response.status == .ok) }
            try await client.execute(uri: "/api/sites/demo/exports/77", method: .get) { response throws in #expect(response.status == .notFound) }

            // Stats with the burndown series.
            try await client.execute(uri: "/api/sites/demo/stats", method: .get) { response throws in
                let stats = try decode(response)
                // `/` and `/index.php` are one page; the flipped page is planned until a probe sees Swift.
                #expect((stats["counts"] as? [String: Any])?["php"] as? Int == 3)
                #expect((stats["counts"] as? [String: Any])?["planned"] as? Int == 1)
                #expect((stats["counts"] as? [String: Any])?["swift"] as? Int == 0)
                #expect((stats["counts"] as? [String: Any])?["aliases"] as? Int == 1)
                #expect((stats["series"] as? [[String: Any]])?.count == 1)
                #expect(stats["driftCount"] as? Int == 0)
                // One camelCase shape: no column names of the store's records.
                let crawl = stats["lastCrawl"] as? [String: Any]
                #expect(crawl?["filesSeen"] as? Int == 6 && crawl?["urlsAdded"] as? Int != nil)
                #expect(crawl?.keys.contains { $0.contains("_") } == false, "\(crawl ?? [:])")
            }
        }
    }

    @Test func secondJobOfASiteIsAConflict() async throws {
        let fixture = try await ServerFixture()
        defer { fixture.cleanup() }
        let lock = try WriteLock(path: fixture.folder.appending("cutover.sqlite"))
        try await fixture.test { client in
            try await client.execute(uri: "/api/sites/demo/jobs", method: .post, headers: authorized, body: json(#"{"kind":"crawl"}"#)) {
                response throws in #expect(response.status == .accepted)
            }
            try await client.execute(uri: "/api/sites/demo/jobs", method: .post, headers: authorized, body: json(#"{"kind":"probe"}"#)) {
                response throws in
                #expect(response.status == .conflict)
                #expect(try errorCode(response) == "conflict")
            }
            try await client.execute(uri: "/api/sites/demo", method: .delete, headers: authorized) { response throws in
                #expect(response.status == .conflict)
            }
        }
        lock.unlock()
        #expect(await fixture.jobs.wait(for: 1)?.state == .succeeded)
    }
}

@Suite struct EventStreamTests {
    @Test func jobProgressStreamsUntilDone() async throws {
        let fixture = try await ServerFixture(files: 500)
        defer { fixture.cleanup() }
        try await fixture.test { client in
            try await client.execute(uri: "/api/sites/demo/jobs", method: .post, headers: authorized, body: json(#"{"kind":"crawl"}"#)) {
                response throws in #expect(response.status == .accepted)
            }
            try await client.execute(uri: "/api/jobs/1/events", method: .get) { response throws in
                #expect(response.headers[.contentType] == "text/event-stream")
                let events = String(buffer: response.body).components(separatedBy: "\n\n").filter { !$0.isEmpty }
                #expect(events.last?.hasPrefix("event: done\ndata: {") == true)
                #expect(events.last?.contains(#""state":"succeeded""#) == true)
                #expect(events.dropLast().allSatisfy { $0.hasPrefix("event: progress\ndata: ") })
            }
            try await client.execute(uri: "/api/jobs/9/events", method: .get) { response throws in #expect(response.status == .notFound) }
        }
    }
}

@Suite struct CursorTests {
    @Test func cursorWalksAllPagesInPathOrder() async throws {
        let fixture = try await ServerFixture(files: 25)
        defer { fixture.cleanup() }
        try await fixture.crawl()
        try await fixture.test { client in
            var seen: [String] = []
            var cursor: String? = nil
            repeat {
                let after = cursor.map { "&after=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "") } ?? ""
                cursor = try await client.execute(uri: "/api/sites/demo/urls?limit=7\(after)", method: .get) { response throws in
                    let page = try decode(response)
                    #expect(page["total"] as? Int == 31)
                    seen += (page["items"] as? [[String: Any]])?.compactMap { $0["path"] as? String } ?? []
                    return page["nextCursor"] as? String
                }
            } while cursor != nil
            #expect(seen.count == 31)
            #expect(seen == seen.sorted())
            try await client.execute(uri: "/api/sites/demo/urls?after=/a&sort=status", method: .get) { response throws in
                #expect(response.status == .unprocessableContent)
            }
        }
    }
}
