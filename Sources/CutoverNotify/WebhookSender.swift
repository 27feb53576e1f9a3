import AsyncHTTPClient
import Crypto
import CutoverCore
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
    /// The local mail submission program `mailto:` webhooks go through (`sendmail -t -oi`).
    let sendmail: String

    package static let defaultSendmail = "/usr/sbin/sendmail"

    package init(database: AppDatabase, client: HTTPClient, logger: Logger, sendmail: String = WebhookSender.defaultSendmail) {
        self.database = database
        self.client = client
        self.logger = logger
        self.sendmail = sendmail
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
        if let address = NotifyStore.mailAddress(delivery.url) {
            let failure = await mail(delivery, to: address)
            return await record(delivery, status: failure == nil ? 200 : nil, failure: failure, host: "mail")
        }
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
        return await record(delivery, status: status, failure: failure, host: URLComponents(string: delivery.url)?.host ?? "?")
    }

    /// Records an attempt and logs it (never the body or the secret).
    private func record(_ delivery: DueDelivery, status: Int?, failure: String?, host: String) async -> Bool {
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

    /// Hands the notice to the local `sendmail -t -oi`: the address, a subject naming the event
    /// and the site, the signature headers, a readable line, then the JSON body. Nil when it took
    /// it (exit 0), else why not.
    private func mail(_ delivery: DueDelivery, to address: String) async -> String? {
        let object = (try? JSONSerialization.jsonObject(with: Data(delivery.body.utf8))) as? [String: Any] ?? [:]
        let site = (object["site"] as? String).map { ConfigText.visible($0, limit: 64) } ?? "?"
        let summary = (object["reason"] as? String) ?? (object["firstPaths"] as? [String])?.joined(separator: ", ") ?? ""
        let message = """
            To: \(address)
            Subject: [cutover] \(delivery.event) on \(site)
            Content-Type: text/plain; charset=utf-8
            \(Self.eventHeader): \(delivery.event)
            \(Self.deliveryHeader): \(delivery.id)
            \(Self.signatureHeader): \(Self.signature(body: Array(delivery.body.utf8), secret: delivery.secret))

            \(delivery.event) on site \(site)\(summary.isEmpty ? "" : ": " + ConfigText.visible(summary, limit: 2000))

            \(delivery.body)

            """
        let program = sendmail
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: program)
                process.arguments = ["-t", "-oi"]
                let input = Pipe()
                let errors = Pipe()
                process.standardInput = input
                process.standardOutput = FileHandle.nullDevice
                process.standardError = errors
                do {
                    try process.run()
                } catch {
                    continuation.resume(returning: "cannot run \(program): \(error.localizedDescription)")
                    return
                }
                input.fileHandleForWriting.write(Data(message.utf8))
                try? input.fileHandleForWriting.close()
                let stderr = errors.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                let why = String(decoding: stderr.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                continuation.resume(
                    returning: process.terminationStatus == 0 ? nil : "\(program) exited \(process.terminationStatus)\(why.isEmpty ? "" : ": " + why)"
                )
            }
        }
    }
}
