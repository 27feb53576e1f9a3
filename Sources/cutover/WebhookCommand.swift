import ArgumentParser
import CutoverCore
import CutoverNotify
import CutoverStore
import Foundation
import Logging

extension NotifyEvent: ExpressibleByArgument {}

/// `cutover webhook`: notifications (#29.4) of canary rollbacks and promotions, drift, a broken
/// fallback and parity regressions, signed with an HMAC of the body.
struct WebhookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook",
        abstract: "Tell another system when a canary is rolled back or promoted, drift grows, the fallback breaks or parity regresses.",
        discussion: """
            Each event is POSTed as JSON with X-Cutover-Event, X-Cutover-Delivery and X-Cutover-Signature-256: \
            sha256=<hex HMAC-SHA256 of the body under the webhook's secret>, as GitHub signs its webhooks. \
            'cutover serve' sends them within seconds and retries failures with a doubling wait (5 s … 10 min, 6 \
            attempts); 'webhook deliver' sends what is due now; 'webhook log' shows every attempt.
            """,
        subcommands: [Add.self, List.self, Remove.self, Log.self, Deliver.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a webhook; prints its secret once.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var siteOptions: SiteOptions
        @Argument(help: "The URL events are POSTed to (http or https), or mailto:ADDRESS (sent with the local sendmail).") var url: String
        @Option(name: .long, help: "An event it wants (repeatable; default all): \(NotifyEvent.allCases.map(\.rawValue).joined(separator: ", ")).")
        var event: [NotifyEvent] = []

        func run() async throws {
            let database = try global.openDatabase()
            let site = try await siteOptions.resolve(in: database)
            let (hook, secret) = try await database.notify.add(siteID: site.id, url: url, events: event)
            print(
                "webhook \(hook.id): \(ConfigText.visible(hook.url)) for \(hook.events.isEmpty ? "every event" : hook.events.map(\.rawValue).joined(separator: ", "))"
            )
            print("secret (shown once; verify X-Cutover-Signature-256 with it): \(secret)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The site's webhooks (never their secrets).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var siteOptions: SiteOptions

        func run() async throws {
            let database = try global.openDatabase(readOnly: true)
            let site = try await siteOptions.resolve(in: database)
            let hooks = try await database.notify.list(siteID: site.id)
            if hooks.isEmpty { print("no webhooks: 'cutover webhook add URL --site \(site.name)'") }
            for hook in hooks {
                print(
                    "\(hook.id)  \(ConfigText.visible(hook.url))  \(hook.events.isEmpty ? "every event" : hook.events.map(\.rawValue).joined(separator: ", "))"
                )
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a webhook and its delivery log.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var siteOptions: SiteOptions
        @Argument(help: "The webhook's id (see 'webhook list').") var id: Int64

        func run() async throws {
            let database = try global.openDatabase()
            let site = try await siteOptions.resolve(in: database)
            try await database.notify.remove(siteID: site.id, id: id)
            print("removed webhook \(id)")
        }
    }

    struct Log: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every delivery of the site's webhooks, newest first.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var siteOptions: SiteOptions

        func run() async throws {
            let database = try global.openDatabase(readOnly: true)
            let site = try await siteOptions.resolve(in: database)
            let deliveries = try await database.notify.deliveries(siteID: site.id)
            if deliveries.isEmpty { print("no deliveries yet") }
            for delivery in deliveries {
                let last = delivery.lastError ?? delivery.lastStatus.map { "answered \($0)" } ?? "not tried yet"
                let next = delivery.state == .pending ? ", next \(Output.date(delivery.nextAttemptAt))" : ""
                print(
                    "\(delivery.id)  \(Output.date(delivery.createdAt))  \(delivery.event)  \(delivery.state.rawValue) after \(delivery.attempts) attempt(s) (\(last)\(next))  → \(ConfigText.visible(delivery.url))"
                )
            }
        }
    }

    struct Deliver: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send the deliveries that are due now (what 'cutover serve' does every few seconds)."
        )
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let database = try global.openDatabase()
            print("delivered \(await WebhookCommand.deliverDue(database, logger: global.logger()))")
        }
    }

    static func deliverDue(_ database: AppDatabase, logger: Logger) async -> Int {
        let client = WebhookSender.makeClient()
        let sendmail = ProcessInfo.processInfo.environment["CUTOVER_SENDMAIL"].flatMap { $0.isEmpty ? nil : $0 } ?? WebhookSender.defaultSendmail
        let delivered = await WebhookSender(database: database, client: client, logger: logger, sendmail: sendmail).deliverDue()
        try? await client.shutdown()
        return delivered
    }
}
