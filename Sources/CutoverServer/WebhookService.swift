import CutoverNotify
import CutoverStore
import Logging
import ServiceLifecycle

/// Sends queued webhook deliveries every `tick` inside `cutover serve` (#29.4); the events are
/// queued by the stores with what caused them (a rollback, a probe's drift, a parity run).
package struct WebhookService: Service {
    let database: AppDatabase
    let logger: Logger
    let tick: Duration
    let sendmail: String

    package init(database: AppDatabase, logger: Logger, tick: Duration = .seconds(2), sendmail: String = WebhookSender.defaultSendmail) {
        self.sendmail = sendmail
        self.database = database
        self.logger = logger
        self.tick = tick
    }

    package func run() async throws {
        let client = WebhookSender.makeClient()
        let sender = WebhookSender(database: database, client: client, logger: logger, sendmail: sendmail)
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            await sender.deliverDue()
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: tick) }
            } catch {
                break
            }
        }
        try? await client.shutdown()
    }
}
