import CutoverAPI
import CutoverStore
import Foundation
import Hummingbird

/// A site's webhooks (#29.4): list (never the secrets), add (the secret in that answer only),
/// remove, and the delivery log.
struct WebhookController {
    let database: AppDatabase

    func add(to api: RouterGroup<AppContext>) {
        api.get("sites/:site/webhooks") { _, context in
            let site = try await database.site(context)
            return try await database.notify.list(siteID: site.id).map { WebhookView($0, secret: nil) }
        }
        api.post("sites/:site/webhooks") { request, context -> EditedResponse<WebhookView> in
            let site = try await database.site(context)
            let input = try await request.decode(as: WebhookInput.self, context: context)
            let events = (input.events ?? []).compactMap { NotifyEvent(rawValue: $0.rawValue) }
            let (hook, secret) = try await database.notify.add(siteID: site.id, url: input.url, events: events)
            return EditedResponse(status: .created, response: WebhookView(hook, secret: secret))
        }
        api.delete("sites/:site/webhooks/:id") { _, context in
            let site = try await database.site(context)
            guard let id = context.parameters.get("id").flatMap(Int64.init) else {
                throw APIError(.notFound, "not_found", "no such webhook")
            }
            try await database.notify.remove(siteID: site.id, id: id)
            return Response(status: .noContent)
        }
        api.get("sites/:site/webhooks/deliveries") { _, context in
            let site = try await database.site(context)
            return try await database.notify.deliveries(siteID: site.id).map { delivery in
                WebhookDeliveryView(
                    attempts: delivery.attempts,
                    createdAt: delivery.createdAt,
                    deliveredAt: delivery.deliveredAt,
                    event: delivery.event,
                    id: delivery.id,
                    lastError: delivery.lastError,
                    lastStatus: delivery.lastStatus,
                    nextAttemptAt: delivery.nextAttemptAt,
                    state: .init(rawValue: delivery.state.rawValue) ?? .pending,
                    url: delivery.url,
                    webhookId: delivery.webhookID
                )
            }
        }
    }
}

extension WebhookView {
    init(_ hook: WebhookRecord, secret: String?) {
        self.init(
            createdAt: hook.createdAt,
            events: hook.events.compactMap { .init(rawValue: $0.rawValue) },
            id: hook.id,
            secret: secret,
            url: hook.url
        )
    }
}

extension WebhookView: ResponseEncodable {}
extension WebhookDeliveryView: ResponseEncodable {}
