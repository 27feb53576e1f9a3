import CutoverCore
import Foundation
import GRDB

/// The events a webhook can ask for (#29.4).
package enum NotifyEvent: String, Sendable, Hashable, CaseIterable, Codable {
    /// An automatic canary failed its step: weight 0, every visitor on PHP.
    case canaryRolledBack = "canary.rolled_back"
    /// A canary was promoted past its last step (or by hand): an ordinary flip.
    case canaryPromoted = "canary.promoted"
    /// A person aborted a canary.
    case canaryAborted = "canary.aborted"
    /// A probe found more URLs answered otherwise than planned than the run before.
    case drift
    /// The probe found the fallback broken (it was not before).
    case fallbackBroken = "fallback.broken"
    /// A parity run found pages different that were the same before.
    case parityRegression = "parity.regression"
}

/// A site's webhook as listed (the secret is never part of it).
package struct WebhookRecord: Sendable, Hashable {
    package var id: Int64
    package var url: String
    /// Empty: every event.
    package var events: [NotifyEvent]
    package var createdAt: Date
}

/// One delivery as the log shows it.
package struct WebhookDelivery: Sendable, Hashable {
    package enum State: String, Sendable, Hashable, DatabaseValueConvertible { case pending, delivered, failed }
    package var id: Int64
    package var webhookID: Int64
    package var url: String
    package var event: String
    package var state: State
    package var attempts: Int
    package var lastStatus: Int?
    package var lastError: String?
    package var createdAt: Date
    package var nextAttemptAt: Date
    package var deliveredAt: Date?
}

/// A delivery due to be sent, with what signing it needs.
package struct DueDelivery: Sendable {
    package var id: Int64
    package var url: String
    package var secret: String
    package var event: String
    package var body: String
    package var attempts: Int
}

package enum WebhookError: Error, CustomStringConvertible, Equatable {
    case invalidURL(String)
    case unknown(Int64)
    case tooMany

    package var description: String {
        switch self {
        case .invalidURL(let problem): "webhook URL: \(problem)"
        case .unknown(let id): "no webhook \(id) for this site (see 'cutover webhook list')"
        case .tooMany: "at most \(NotifyStore.maxWebhooks) webhooks per site"
        }
    }
}

extension WebhookError: ReportedError {
    package var kind: ErrorKind {
        switch self {
        case .unknown: .notFound
        default: .invalid
        }
    }
}

extension AppDatabase {
    /// Webhooks and their delivery log.
    package var notify: NotifyStore { NotifyStore(context: StoreContext(self)) }
}

package struct NotifyStore: Store {
    let context: StoreContext

    package static let maxWebhooks = 16
    /// Attempts before a delivery is given up (the first included).
    package static let maxAttempts = 6
    /// Deliveries kept per webhook, newest first.
    package static let keptDeliveries = 500

    /// Why `url` cannot be a webhook (nil when it can): http(s), a host, no credentials; or
    /// `mailto:` one plain address (it becomes a mail header: nothing else may reach it).
    package static func urlProblem(_ url: String) -> String? {
        let shown = ConfigText.visible(url)
        if url.lowercased().hasPrefix("mailto:") {
            return mailAddress(url) == nil ? "'\(shown)' must be mailto: and one address (letters, digits, . _ % + - before @, a host after it)" : nil
        }
        guard url.utf8.count <= 2048, let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https"
        else { return "'\(shown)' must be an http:// or https:// URL" }
        guard let host = components.host, HTTPBaseURL.isHostName(host) else { return "'\(shown)' has no valid host" }
        if components.user != nil || components.password != nil { return "'\(shown)' must not hold credentials (user:password@)" }
        return nil
    }

    /// The address of a `mailto:` webhook, when it is one plain address.
    package static func mailAddress(_ url: String) -> String? {
        guard url.lowercased().hasPrefix("mailto:") else { return nil }
        let address = String(url.dropFirst("mailto:".count))
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        let local = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
        guard parts.count == 2, (1...64).contains(parts[0].count), parts[0].allSatisfy(local.contains), !parts[0].hasPrefix("-"),
            HTTPBaseURL.isHostName(String(parts[1])), !parts[1].hasPrefix("["), parts[1].contains(".")
        else { return nil }
        return address
    }

    /// Adds a webhook; its secret signs its bodies (HMAC-SHA256): 32 random bytes as hex unless
    /// given (tests). Returns the webhook and its secret, which nothing shows again.
    @discardableResult
    package func add(
        siteID: SiteID,
        url: String,
        events: [NotifyEvent],
        secret given: String? = nil
    ) async throws
        -> (webhook: WebhookRecord, secret: String)
    {
        if let problem = Self.urlProblem(url) { throw WebhookError.invalidURL(problem) }
        var generator = SystemRandomNumberGenerator()
        let secret = given ?? (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        return try await writer.write { [now = clock.now()] db in
            let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM webhooks WHERE site_id = ?", arguments: [siteID]) ?? 0
            guard count < Self.maxWebhooks else { throw WebhookError.tooMany }
            let list = String(decoding: try JSONEncoder().encode(events.map(\.rawValue)), as: UTF8.self)
            try db.execute(
                sql: "INSERT INTO webhooks (site_id, url, secret, events, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [siteID, url, secret, list, now]
            )
            return (WebhookRecord(id: db.lastInsertedRowID, url: url, events: events, createdAt: now), secret)
        }
    }

    package func list(siteID: SiteID) async throws -> [WebhookRecord] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT id, url, events, created_at FROM webhooks WHERE site_id = ? ORDER BY id", arguments: [siteID]).map {
                let events: String = $0["events"]
                let names = (try? JSONDecoder().decode([String].self, from: Data(events.utf8))) ?? []
                return WebhookRecord(id: $0["id"], url: $0["url"], events: names.compactMap(NotifyEvent.init(rawValue:)), createdAt: $0["created_at"])
            }
        }
    }

    package func remove(siteID: SiteID, id: Int64) async throws {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM webhooks WHERE site_id = ? AND id = ?", arguments: [siteID, id])
            if db.changesCount == 0 { throw WebhookError.unknown(id) }
        }
    }

    /// Queues `event` for every webhook of the site that wants it, in the caller's transaction
    /// (the event and what caused it are stored together or not at all).
    static func enqueue(_ db: Database, siteID: SiteID, event: NotifyEvent, payload: [String: Any], at now: Date) throws {
        let hooks = try Row.fetchAll(db, sql: "SELECT id, events FROM webhooks WHERE site_id = ?", arguments: [siteID])
        guard !hooks.isEmpty else { return }
        let site = try String.fetchOne(db, sql: "SELECT name FROM sites WHERE id = ?", arguments: [siteID]) ?? ""
        var body = payload
        body["event"] = event.rawValue
        body["site"] = site
        body["at"] = ISO8601DateFormatter().string(from: now)
        let text = String(decoding: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]), as: UTF8.self)
        for hook in hooks {
            let events: String = hook["events"]
            let wanted = (try? JSONDecoder().decode([String].self, from: Data(events.utf8))) ?? []
            guard wanted.isEmpty || wanted.contains(event.rawValue) else { continue }
            try db.execute(
                sql: "INSERT INTO webhook_deliveries (webhook_id, event, body, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [hook["id"] as Int64, event.rawValue, text, now, now]
            )
        }
    }

    /// Deliveries whose time has come, oldest first.
    package func due(now: Date, limit: Int = 50) async throws -> [DueDelivery] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT d.id, d.event, d.body, d.attempts, w.url, w.secret FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
                    WHERE d.state = 'pending' AND d.next_attempt_at <= ? ORDER BY d.id LIMIT ?
                    """,
                arguments: [now, limit]
            ).map {
                DueDelivery(id: $0["id"], url: $0["url"], secret: $0["secret"], event: $0["event"], body: $0["body"], attempts: $0["attempts"])
            }
        }
    }

    /// Records an attempt: delivered (a 2xx), or failed with the answer or error — tried again
    /// after `retryAfter`, given up after `maxAttempts`.
    package func recordAttempt(id: Int64, status: Int?, error: String?, retryAfter: Duration) async throws {
        try await writer.write { [now = clock.now()] db in
            let attempts = (try Int.fetchOne(db, sql: "SELECT attempts FROM webhook_deliveries WHERE id = ?", arguments: [id]) ?? 0) + 1
            let delivered = error == nil && (200..<300).contains(status ?? 0)
            let state: WebhookDelivery.State = delivered ? .delivered : (attempts >= Self.maxAttempts ? .failed : .pending)
            let next = now.addingTimeInterval(Double(retryAfter.components.seconds) + Double(retryAfter.components.attoseconds) / 1e18)
            try db.execute(
                sql: """
                    UPDATE webhook_deliveries SET attempts = ?, state = ?, last_status = ?, last_error = ?, next_attempt_at = ?,
                      delivered_at = CASE WHEN ? THEN ? ELSE delivered_at END
                    WHERE id = ?
                    """,
                arguments: [attempts, state, status, error.map { ConfigText.visible($0, limit: 300) }, next, delivered, now, id]
            )
            try db.execute(
                sql: """
                    DELETE FROM webhook_deliveries WHERE webhook_id = (SELECT webhook_id FROM webhook_deliveries WHERE id = ?1)
                      AND state != 'pending' AND id NOT IN (SELECT id FROM webhook_deliveries WHERE webhook_id =
                      (SELECT webhook_id FROM webhook_deliveries WHERE id = ?1) ORDER BY id DESC LIMIT ?2)
                    """,
                arguments: [id, Self.keptDeliveries]
            )
        }
    }

    /// The site's delivery log, newest first.
    package func deliveries(siteID: SiteID, limit: Int = 100) async throws -> [WebhookDelivery] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT d.*, w.url FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
                    WHERE w.site_id = ? ORDER BY d.id DESC LIMIT ?
                    """,
                arguments: [siteID, limit]
            ).map {
                WebhookDelivery(
                    id: $0["id"],
                    webhookID: $0["webhook_id"],
                    url: $0["url"],
                    event: $0["event"],
                    state: $0["state"],
                    attempts: $0["attempts"],
                    lastStatus: $0["last_status"],
                    lastError: $0["last_error"],
                    createdAt: $0["created_at"],
                    nextAttemptAt: $0["next_attempt_at"],
                    deliveredAt: $0["delivered_at"]
                )
            }
        }
    }
}
