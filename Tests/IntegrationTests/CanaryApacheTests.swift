import CutoverCore
import CutoverExport
import CutoverStore
import CutoverTestSupport
import Foundation
import Testing

/// Progressive flips (#29) on a real Apache + mod_php with the tree export: a canary's weight is
/// the share of fresh visitors Swift gets, each visitor keeps their side (the cohort cookie),
/// raising the weight moves nobody back, testers reach Swift at 0 %, and weights change without
/// a reload.
@Suite(.enabled(if: Integration.enabled, "needs apache2 and libapache2-mod-php (always runs when CI=true)"))
struct CanaryApacheTests {
    static let files = [
        "index.php": "<?php echo 'php home';",
        "page-a.php": "<?php echo 'php a';",
        "page-b.php": "<?php echo 'php b';",
        "other.php": "<?php echo 'php other';",
    ]

    /// One request: whether Swift answered, and the cohort bucket Apache set (nil: none set).
    static func visit(
        _ live: LiveSite,
        _ path: String,
        cookie: Int? = nil,
        headers: [String: String] = [:]
    ) async throws -> (swift: Bool, bucket: Int?) {
        var headers = headers
        if let cookie { headers["Cookie"] = "theme=dark; \(Canary.cookie)=\(cookie); other=1" }
        let answer = try await RawHTTP.send(port: live.apache.port, method: "GET", path: path, headers: headers)
        let swift = answer.body.hasPrefix("swift backend")
        #expect(swift || answer.body.hasPrefix("php"), "\(path): \(answer.status) \(answer.body)")
        let setCookie = answer.headers["set-cookie"]
        let bucket = setCookie.flatMap { value -> Int? in
            guard let range = value.range(of: "\(Canary.cookie)=") else { return nil }
            return Int(value[range.upperBound...].prefix { $0.isNumber })
        }
        if let setCookie {
            // No HttpOnly on an http site: Apache drops every attribute after a false `secure`
            // (measured: `:false:HttpOnly:Lax` gives path, domain, expires and SameSite only).
            #expect(setCookie.contains("path=/") && setCookie.contains("expires=") && setCookie.lowercased().contains("samesite=lax"), "\(setCookie)")
        }
        return (swift, bucket)
    }

    /// Writes the maps as `cutover apply` does: no reload.
    static func apply(_ live: LiveSite) throws {
        let map = live.docroot.appending("flips.tree")
        let (_, rendered) = try storeCall { try Exporter(database: live.database).render(site: live.site, form: .tree, mapFilePath: map) }
        try Exporter.writeMap(rendered, to: map)
    }

    /// Waits until a visitor of `bucket` gets `swift` on /page-a.php (Apache re-reads a changed map).
    static func until(_ live: LiveSite, bucket: Int, swift: Bool) async throws -> Bool {
        for _ in 0..<200 {
            if try await visit(live, "/page-a.php", cookie: bucket).swift == swift { return true }
            try await Task.sleep(for: .milliseconds(25))
        }
        return false
    }

    @Test func aShareOfVisitorsStickyMonotonicTestersAndNoReload() async throws {
        let live = try await LiveSite(files: Self.files, directoryConfig: "")
        defer { Task { await live.shutdown() } }
        try await live.crawl()
        let secret = try await live.database.sites.sideSecret(site: live.site)
        let canary = try await live.database.plan.startCanary(siteID: live.site.id, name: "checkout", .paths(["/page-a.php", "/page-b.php"]))
        #expect(canary.pages == ["/page-a.php", "/page-b.php"] && canary.weight == 0 && canary.state == .running)
        // Only a map form can route a canary: the per-rule form is refused with the reason.
        #expect(throws: ExportError.canaryNeedsMapForm(.vhost)) {
            try storeCall { try Exporter(database: live.database).render(site: live.site, form: .vhost) }
        }
        try await live.database.plan.setCanaryWeight(siteID: live.site.id, name: "checkout", weight: 10)
        try await live.install(.tree)
        let reloads = live.apache.log().components(separatedBy: "Graceful restart").count

        // 2,000 fresh visitors at 10 %: each gets a bucket, is on Swift exactly when it is below
        // 10, and the share lies within the binomial 99.9 % bounds (200 ± 3.29 σ, σ = 13.4).
        var onSwift = 0
        try await withThrowingTaskGroup(of: (Bool, Int?).self) { group in
            for index in 0..<2000 {
                if index >= 16 { if let (swift, bucket) = try await group.next() { onSwift += check(swift, bucket) } }
                group.addTask { try await Self.visit(live, index % 2 == 0 ? "/page-a.php" : "/page-b.php") }
            }
            for try await (swift, bucket) in group { onSwift += check(swift, bucket) }
        }
        func check(_ swift: Bool, _ bucket: Int?) -> Int {
            #expect(bucket != nil, "every fresh visitor of a canary page draws a bucket")
            #expect(swift == ((bucket ?? 100) < 10), "bucket \(bucket ?? -1) on \(swift ? "Swift" : "PHP") at 10 %")
            return swift ? 1 : 0
        }
        #expect((156...244).contains(onSwift), "\(onSwift) of 2,000 fresh visitors on Swift at 10 %")
        print("canary: \(onSwift) of 2,000 fresh visitors on Swift at 10 %")

        // A visitor keeps their side on 100 requests across both pages, and is not given a new bucket.
        for (bucket, swift) in [(3, true), (42, false)] {
            for index in 0..<100 {
                let seen = try await Self.visit(live, index % 2 == 0 ? "/page-a.php" : "/page-b.php", cookie: bucket)
                #expect(seen.swift == swift && seen.bucket == nil, "bucket \(bucket), request \(index)")
            }
        }
        // A cookie Apache did not write (a leading zero, out of range, not a number) draws a new bucket.
        for value in ["05", "100", "x1"] {
            let seen = try await Self.visit(live, "/page-a.php", headers: ["Cookie": "\(Canary.cookie)=\(value)"])
            #expect(seen.bucket != nil && seen.swift == ((seen.bucket ?? 100) < 10), "cookie \(value): \(seen)")
        }
        // Pages outside the canary are not touched: no bucket drawn, PHP answers.
        let outside = try await Self.visit(live, "/other.php")
        #expect(!outside.swift && outside.bucket == nil)

        // 10 → 25 %, maps only: Apache follows without a reload, and every visitor on Swift at
        // 10 % is still there (nobody moves back to PHP).
        try await live.database.plan.setCanaryWeight(siteID: live.site.id, name: "checkout", weight: 25)
        try Self.apply(live)
        #expect(try await Self.until(live, bucket: 20, swift: true), "the new weight reached Apache")
        for bucket in 0..<100 {
            #expect(try await Self.visit(live, "/page-b.php", cookie: bucket).swift == (bucket < 25), "bucket \(bucket) at 25 %")
        }

        // At 0 % nobody reaches Swift, except a tester with the side header and its secret.
        try await live.database.plan.setCanaryWeight(siteID: live.site.id, name: "checkout", weight: 0)
        try Self.apply(live)
        #expect(try await Self.until(live, bucket: 0, swift: false))
        #expect(try await Self.visit(live, "/page-a.php", headers: [SideHeader.name: SideHeader.value(.swift, secret: secret)]).swift)
        #expect(try await !Self.visit(live, "/page-a.php", headers: [SideHeader.name: "swift;\(String(secret.reversed()))"]).swift)

        // Promoted: an ordinary flip, every visitor on Swift, still no reload (the tree form's markers).
        try await live.database.plan.endCanary(siteID: live.site.id, name: "checkout", promote: true, actor: "test")
        try Self.apply(live)
        #expect(try await Self.until(live, bucket: 99, swift: true))
        #expect(try await Self.visit(live, "/page-b.php").swift)
        #expect(live.apache.log().components(separatedBy: "Graceful restart").count == reloads, "weights and the promotion needed no reload")
        let ended = try await live.database.plan.canaries(siteID: live.site.id)
        #expect(ended.map(\.state) == [.promoted])
        await #expect(throws: CanaryError.notRunning("checkout", .promoted)) {
            try await live.database.plan.setCanaryWeight(siteID: live.site.id, name: "checkout", weight: 50)
        }
    }

    @Test func aCanaryTakesPHPPagesOnlyOnceAndAbortSendsEveryoneBack() async throws {
        let live = try await LiveSite(files: Self.files, directoryConfig: "")
        defer { Task { await live.shutdown() } }
        try await live.crawl()
        try await live.database.plan.flip(siteID: live.site.id, .paths(["/other.php"]), to: .swift, reason: "ported")
        await #expect(throws: CanaryError.self) {
            try await live.database.plan.startCanary(siteID: live.site.id, name: "x", .paths(["/other.php"]))
        }
        try await live.database.plan.startCanary(siteID: live.site.id, name: "first", .paths(["/page-a.php"]))
        await #expect(throws: CanaryError.inAnotherCanary(path: "/page-a.php", canary: "first")) {
            try await live.database.plan.startCanary(siteID: live.site.id, name: "second", .paths(["/page-a.php"]))
        }
        await #expect(throws: CanaryError.exists("first")) {
            try await live.database.plan.startCanary(siteID: live.site.id, name: "first", .paths(["/page-b.php"]))
        }
        await #expect(throws: CanaryError.invalidSteps(Canary.stepsProblem([5, 1])!)) {
            try await live.database.plan.startCanary(siteID: live.site.id, name: "bad", .paths(["/page-b.php"]), steps: [5, 1])
        }
        await #expect(throws: CanaryError.invalidWeight(101)) {
            try await live.database.plan.setCanaryWeight(siteID: live.site.id, name: "first", weight: 101)
        }
        try await live.database.plan.setCanaryWeight(siteID: live.site.id, name: "first", weight: 100)
        try await live.install(.dbm)
        #expect(try await Self.visit(live, "/page-a.php").swift, "at 100 % every visitor")
        try await live.database.plan.endCanary(siteID: live.site.id, name: "first", promote: false, actor: "test")
        // Aborted: no canary left to route, so the per-rule form exports again; PHP answers all.
        try await live.install(.vhost)
        for bucket in [0, 50, 99] { #expect(try await !Self.visit(live, "/page-a.php", cookie: bucket).swift) }
        // A page of an ended canary can start another.
        try await live.database.plan.startCanary(siteID: live.site.id, name: "again", .paths(["/page-a.php"]))
    }
}
