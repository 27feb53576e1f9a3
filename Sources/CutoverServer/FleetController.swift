import CutoverAPI
import CutoverCore
import CutoverFleet
import CutoverStore
import Foundation
import Hummingbird

/// A site's fleet (#28): what its database says each node serves, and a publish on demand.
struct FleetController {
    let database: AppDatabase

    func add(to api: RouterGroup<AppContext>) {
        api.get("sites/:site/fleet") { _, context in
            // As stored now (not cached): the view is about the settings just saved too.
            let site = try await database.site(context)
            guard let fleet = site.fleet else {
                return FleetStateView(autoPublish: false, configured: false, nodes: [], reachable: false)
            }
            let publisher = FleetPublisher(database: database, logger: context.logger)
            let settings: FleetDatabase
            do {
                settings = try FleetPublisher.settings(fleet)
            } catch {
                return FleetStateView(autoPublish: fleet.autoPublish, configured: true, error: Self.reason(error), nodes: [], reachable: false)
            }
            return FleetStateView(await publisher.state(site: site, settings: settings), autoPublish: fleet.autoPublish)
        }
        api.post("sites/:site/fleet/publish") { _, context in
            let site = try await database.site(context)
            guard let fleet = site.fleet else {
                throw APIError(.unprocessableContent, "invalid", "site '\(site.name)' has no fleet: set its fleet database first")
            }
            let settings: FleetDatabase
            do {
                settings = try FleetPublisher.settings(fleet)
            } catch {
                throw APIError(.unprocessableContent, "invalid", Self.reason(error))
            }
            do {
                return PublishResultView(try await FleetPublisher(database: database, logger: context.logger).publish(site: site, to: settings))
            } catch let error as FleetError {
                throw APIError(.badGateway, "fleet_unreachable", error.description)
            }
        }
    }

    static func reason(_ error: any Error) -> String {
        (error as? FleetError)?.description ?? String(describing: error)
    }
}

extension PublishResultView {
    package init(_ outcome: FleetPublisher.Outcome) {
        let published = outcome.published
        self.init(
            added: published.added,
            canaries: published.canaries,
            changed: published.changed,
            milliseconds: Int(outcome.duration.wholeMilliseconds),
            pages: published.pages,
            removed: published.removed,
            ruleBoundPages: outcome.ruleBoundPages,
            version: Int(published.version)
        )
    }
}

extension FleetStateView {
    package init(_ state: FleetPublisher.State, autoPublish: Bool) {
        self.init(
            autoPublish: autoPublish,
            configured: true,
            database: state.database,
            error: state.error,
            nodes: state.nodes.map { node in
                .init(
                    appliedAt: node.appliedAt,
                    current: node.current,
                    flipLatencyMs: node.flipLatency.map { Int($0.wholeMilliseconds) },
                    name: node.name,
                    pages: node.pages,
                    seenAt: node.seenAt,
                    version: Int(node.version)
                )
            },
            pages: state.pages,
            publishedAt: state.publishedAt,
            reachable: state.reachable,
            version: state.version.map(Int.init)
        )
    }
}

extension PublishResultView: ResponseEncodable {}
extension FleetStateView: ResponseEncodable {}
