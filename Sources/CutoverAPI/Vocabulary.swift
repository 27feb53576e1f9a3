import CutoverCore
import CutoverStore

// The API's shapes are the types generated from the OpenAPI document (Generated/, by
// scripts/openapi-generate.sh); the REST API and the CLI's `--json` encode them. The names below
// are the ones the rest of the package reads, and the files beside this one say how a record
// becomes each shape. An enum's cases are matched one by one, so a case the document lacks, or
// a case it adds, stops the build here rather than at a client.

package typealias SiteView = Components.Schemas.Site
package typealias SiteDefaultsView = Components.Schemas.SiteDefaults
package typealias CrawlView = Components.Schemas.Crawl
package typealias ProbeRunView = Components.Schemas.ProbeRun
package typealias ProbeResultView = Components.Schemas.ProbeResult
package typealias OwnershipEventView = Components.Schemas.OwnershipEvent
package typealias HtaccessView = Components.Schemas.Htaccess
package typealias TrafficView = Components.Schemas.Traffic
package typealias TrafficPageView = Components.Schemas.TrafficPage
package typealias LogFileView = Components.Schemas.LogFile
package typealias ExposureView = Components.Schemas.Exposure
package typealias StatsView = Components.Schemas.Stats
package typealias TrafficDayView = Components.Schemas.TrafficDay
package typealias TrafficSummaryView = Components.Schemas.TrafficSummary
package typealias QueryValueView = Components.Schemas.QueryValue
package typealias URLView = Components.Schemas.Url
package typealias URLDetailView = Components.Schemas.URLDetail
package typealias URLPageView = Components.Schemas.URLPage
package typealias ExportItemView = Components.Schemas.ExportItem
package typealias ExportDiffView = Components.Schemas.ExportDiff
package typealias OwnerChangeView = Components.Schemas.OwnerChange
package typealias FlipResultView = Components.Schemas.FlipResult
package typealias PublishResultView = Components.Schemas.PublishResult
package typealias FleetStateView = Components.Schemas.FleetState
package typealias JobView = Components.Schemas.Job
package typealias ErrorView = Components.Schemas.ErrorResponse
package typealias SiteInput = Components.Schemas.SiteInput
package typealias FlipInput = Components.Schemas.FlipInput
package typealias CanaryView = Components.Schemas.Canary
package typealias CanaryInput = Components.Schemas.CanaryInput
package typealias CanaryChange = Components.Schemas.CanaryChange
package typealias ExportInput = Components.Schemas.ExportInput
package typealias JobInput = Components.Schemas.JobInput
package typealias ParityRunView = Components.Schemas.ParityRun
package typealias ParityRunDetailView = Components.Schemas.ParityRunDetail

extension Components.Schemas.Owner {
    package init(_ owner: Owner) {
        switch owner {
        case .php: self = .php
        case .swift: self = .swift
        case .static: self = ._static
        }
    }
}

extension Owner {
    package init(_ owner: Components.Schemas.Owner) {
        switch owner {
        case .php: self = .php
        case .swift: self = .swift
        case ._static: self = .static
        }
    }
}

extension Components.Schemas.OwnerSource {
    package init(_ source: OwnerSource) {
        switch source {
        case .marker: self = .marker
        case .guessed: self = .guessed
        }
    }
}

extension Components.Schemas.RunStatus {
    package init(_ status: CrawlStatus) {
        switch status {
        case .running: self = .running
        case .succeeded: self = .succeeded
        case .failed: self = .failed
        case .interrupted: self = .interrupted
        }
    }
}

extension Components.Schemas.ProbeErrorKind {
    package init(_ kind: ProbeErrorKind) {
        switch kind {
        case .timeout: self = .timeout
        case .refused: self = .refused
        case .reset: self = .reset
        case .tls: self = .tls
        case .invalidResponse: self = .invalidResponse
        case .other: self = .other
        }
    }
}

extension Components.Schemas.PageKey {
    package init(_ key: PageKey) { self.init(key: key.key, script: key.script) }
}

extension Components.Schemas.PathAlias {
    package init(_ alias: PathAlias) { self.init(directory: alias.directory, urlPath: alias.urlPath) }
}

extension Components.Schemas.ParityVerdict {
    package init(_ verdict: PageParity) {
        switch verdict {
        case .same: self = .same
        case .different: self = .different
        case .noisy: self = .noisy
        case .error: self = .error
        case .notCompared: self = .notCompared
        }
    }
}
package typealias WebhookView = Components.Schemas.Webhook
package typealias WebhookInput = Components.Schemas.WebhookInput
package typealias WebhookDeliveryView = Components.Schemas.WebhookDelivery
