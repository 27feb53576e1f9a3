import CutoverCore
import CutoverNotify
import CutoverStore
import CutoverTestSupport
import Foundation
import Logging
import Testing

/// The webhook signature is GitHub's: `sha256=` and the hex HMAC-SHA256 of the body as sent.
@Suite struct WebhookSignatureTests {
    @Test func knownVectorAndRetrySchedule() {
        // RFC 4231-style check with the widely published vector (key "key").
        #expect(
            WebhookSender.signature(body: Array("The quick brown fox jumps over the lazy dog".utf8), secret: "key")
                == "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        )
        #expect((0..<8).map { WebhookSender.retryAfter(attempts: $0) } == [5, 10, 20, 40, 80, 160, 320, 600].map { .seconds($0) })
    }
}

/// `mailto:` webhooks go through the local `sendmail -t -oi` (a stand-in script here that keeps
/// what it was given): one plain address, a subject naming the event and the site, the signature
/// headers, a readable line, the JSON; a sendmail that fails leaves the delivery for its retry.
@Suite struct WebhookMailTests {
    @Test func aNoticeByMailAndAddressesThatCouldInjectHeadersAreRefused() async throws {
        let folder = try TemporaryDirectory(prefix: "webhook-mail")
        defer { folder.remove() }
        let kept = folder.appending("mail.txt")
        let sendmail = folder.appending("sendmail")
        try "#!/bin/sh\necho \"$@\" > \(kept).args\ncat > \(kept)\n".write(toFile: sendmail, atomically: true, encoding: .utf8)
        let failing = folder.appending("sendmail-fails")
        try "#!/bin/sh\ncat > /dev/null\necho 'no relay' >&2\nexit 75\n".write(toFile: failing, atomically: true, encoding: .utf8)
        for script in [sendmail, failing] { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script) }
        try folder.write("www/a.php", "<?php echo 1;")

        let database = try AppDatabase(path: folder.appending("cutover.sqlite"))
        let site = try await database.sites.add(
            SiteSettings(name: "shop", docroot: folder.appending("www"), publicURL: "http://127.0.0.1:9", backendURL: "http://127.0.0.1:9")
        )
        let changes = InventoryChanges(inserting: [
            FoundURL(path: "/a.php", filePath: "a.php", owner: .php, size: 1, mtime: 1, contentHash: "x", flags: [])
        ])
        _ = try await offPool { try database.crawls.finish(try database.crawls.begin(siteID: site.id), changes: changes, issues: [], filesSeen: 1) }

        for address in [
            "mailto:ops@example.com\r\nBcc: x@evil.example", "mailto:a@example.com,b@example.com", "mailto:<a@example.com>", "mailto:a@localhost",
        ] {
            await #expect(throws: WebhookError.self, "\(address.debugDescription)") {
                try await database.notify.add(siteID: site.id, url: address, events: [], secret: "s")
            }
        }
        try await database.notify.add(siteID: site.id, url: "mailto:ops@example.com", events: [.canaryAborted], secret: "mail-secret")
        try await database.plan.startCanary(siteID: site.id, name: "checkout", .paths(["/a.php"]))
        try await database.plan.endCanary(siteID: site.id, name: "checkout", promote: false, actor: "test")

        let client = WebhookSender.makeClient()
        defer { Task { try? await client.shutdown() } }
        let logger = Logger(label: "test")
        #expect(await WebhookSender(database: database, client: client, logger: logger, sendmail: failing).deliverDue() == 0)
        var log = try await database.notify.deliveries(siteID: site.id)
        #expect(log.first?.state == .pending && log.first?.lastError?.contains("exited 75: no relay") == true, "\(log)")

        // Due again (the test moves the clock past the retry), then sent by a sendmail that takes it.
        let later = WallClock.fixed(Date().addingTimeInterval(60))
        var retrying = database
        retrying.clock = later
        #expect(await WebhookSender(database: retrying, client: client, logger: logger, sendmail: sendmail).deliverDue() == 1)
        let mail = try String(contentsOfFile: kept, encoding: .utf8)
        #expect(try String(contentsOfFile: kept + ".args", encoding: .utf8) == "-t -oi\n")
        #expect(mail.hasPrefix("To: ops@example.com\nSubject: [cutover] canary.aborted on shop\n"), "\(mail)")
        let body = String(mail.split(separator: "\n\n", maxSplits: 2).last ?? "").trimmingCharacters(in: .newlines)
        #expect(mail.contains("X-Cutover-Signature-256: \(WebhookSender.signature(body: Array(body.utf8), secret: "mail-secret"))"), "\(mail)")
        #expect(mail.contains("canary.aborted on site shop: aborted"))
        log = try await database.notify.deliveries(siteID: site.id)
        #expect(log.first?.state == .delivered && log.first?.attempts == 2)
    }
}
