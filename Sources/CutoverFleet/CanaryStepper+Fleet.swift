import CutoverExport
import CutoverStore
import Logging

extension CanaryStepper {
    /// A stepper that also publishes each weight change, promotion and rollback to the site's
    /// fleet when the site publishes by itself (as a flip does), so every node's Apache follows.
    package init(database: AppDatabase, logger: Logger) {
        self.init(database: database)
        fleet = { site in
            switch await FleetPublisher(database: database, logger: logger).publishIfAsked(site: site) {
            case nil: (nil, nil)
            case .published(let outcome): (outcome.published.version, nil)
            case .failed(let reason): (nil, reason)
            }
        }
    }
}
