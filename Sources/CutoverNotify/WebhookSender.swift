import AsyncHTTPClient
import Crypto
import CutoverStore
import Foundation
import Logging
import NIOCore

/// Sends the queued webhook deliveries (#29.4): each body signed with an HMAC-SHA256 of the
/// webhook's secret (`X-Cutover-Signature-256: sha256=<hex>`, as GitHub's
/// `X-Hub-Signature-256`), a 2xx answer within 10 s is delivered, anything else is tried again
/// with a doubling wait (5 s, 10 s, 20 s … at most 10 minutes) up to `NotifyStore.maxAttempts`.
/// Secrets and bodies are never logged: a log line names the delivery, its event and the host.
package struct WebhookSender: Sendable {
    package static let signatureHeader = "X-Cutover-Signature-256"
    package static let eventHeader = "X-Cutover-Event"
    package static let deliveryHeader = "X-Cutover-Delivery"

    let database: AppDatabase
    let client: HTTPClient
    let logger: Logger

    package init(database: AppDatabase, client: HTTPClient, logger: Logger) {
        self.database = database
        self.client = client
        self.logger = logger
    }

    /// A client for webhooks: no redirects (a signed body goes where it was told), HTTP/1.1.
    package static func makeClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: .seconds(10)))
        configuration.httpVersion = .http1Only
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// `sha256=` and the hex HMAC-SHA256 of `body` under `secret`.
    package static func signature(body: some DataProtocol, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    /// The wait before attempt `attempts + 1`.
    package static func retryAfter(attempts: Int) -> Duration {
        .seconds(min(600, 5 << min(attempts, 10)))
    }

    /// Sends every delivery due now, once each; returns how many were delivered.
    @discardableResult
    package func deliverDue() async -> Int {
        let due: [DueDelivery]
        do {
            due = try await database.notify.due(now: database.clock.now())
        } catch {
            logger.error("webhook deliveries not read", metadata: ["error": .string("\(error)")])
            return 0
        }
        var delivered = 0
        for delivery in due where await send(delivery) { delivered += 1 }
        return delivered
    }

    private func send(_ delivery: DueDelivery) async -> Bool {
        var request = HTTPClientRequest(url: delivery.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "cutover-webhook/1")
        request.headers.add(name: Self.eventHeader, value: delivery.event)
        request.headers.add(name: Self.deliveryHeader, value: String(delivery.id))
        request.headers.add(name: Self.signatureHeader, value: Self.signature(body: Array(delivery.body.utf8), secret: delivery.secret))
        request.body = .bytes(ByteBuffer(string: delivery.body))
        var status: Int?
        var failure: String?
        do {
            let response = try await client.execute(request, timeout: .seconds(10))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            status = Int(response.status.code)
            if !(200..<300).contains(status!) { failure = "answered \(status!)" }
        } catch {
            failure = "\(error)"
        }
        let host = URLComponents(string: delivery.url)?.host ?? "?"
        do {
            try await database.notify.recordAttempt(
                id: delivery.id,
                status: status,
                error: failure,
                retryAfter: Self.retryAfter(attempts: delivery.attempts)
            )
        } catch {
            logger.error("webhook attempt not recorded", metadata: ["delivery": .string("\(delivery.id)"), "error": .string("\(error)")])
        }
        if let failure {
            logger.warning(
                "webhook not delivered",
                metadata: ["delivery": .string("\(delivery.id)"), "event": .string(delivery.event), "host": .string(host), "why": .string(failure)]
            )
            return false
        }
        logger.info("webhook delivered", metadata: ["delivery": .string("\(delivery.id)"), "event": .string(delivery.event), "host": .string(host)])
        return true
    }
}
