import CutoverCore
import Foundation

/// One URL of a listing: its row and its traffic (the API's `URL` shape, CutoverAPI, is made
/// from it; the API's URL page is written straight from the rows by `URLPageWriter`).
package struct URLEntry: Sendable {
    package var path: String
    package var filePath: String?
    package var owner: Owner
    package var plannedOwner: Owner?
    package var size: Int64?
    package var mtime: Date?
    package var contentHash: String?
    package var gone: Bool
    package var id: Int64
    package var flags: [String]
    package var expectedOwner: Owner
    package var observedOwner: Owner?
    package var observedSource: OwnerSource?
    package var lastStatus: Int?
    package var lastLatencyMs: Double?
    package var lastError: String?
    package var drift: Bool
    /// The Swift backend answers the path with a 2xx (the latest probe's).
    package var swiftAnswers: Bool
    /// The latest parity verdict; nil until a run compared the page.
    package var parity: PageParity?
    /// Swift answers and answers the way PHP does: the latest parity verdict is `same`.
    package var readyToFlip: Bool { URLEntry.isReadyToFlip(swiftAnswers: swiftAnswers, parity: parity) }
    package var redirectTo: String?
    /// Requests in the imported access logs and the last one's time; absent for a URL no log
    /// line named.
    package var hits: Int?
    package var lastSeen: Date?

    package init(_ url: URLRecord, hits: Int? = nil, lastSeen: Date? = nil) {
        self.hits = hits
        self.lastSeen = lastSeen
        id = url.id
        path = url.path
        filePath = url.filePath
        owner = url.owner
        plannedOwner = url.plannedOwner
        size = url.size
        mtime = url.mtime.map { Date(timeIntervalSince1970: $0) }
        contentHash = url.contentHash
        gone = url.gone
        flags = url.urlFlags.names
        expectedOwner = url.expectedOwner
        observedOwner = url.observedOwner
        observedSource = url.observedSource
        lastStatus = url.lastStatus
        lastLatencyMs = url.lastLatencyMs
        lastError = url.lastError
        drift = url.drift
        swiftAnswers = url.readyToFlip
        parity = url.parity
        redirectTo = url.redirectTo
    }
}

extension URLEntry {
    /// Ready to flip: the Swift backend answers the page (a probe saw a 2xx) and the latest parity
    /// run found its answer the same as PHP's. A page Swift answers that was not compared yet is
    /// "answers, not compared", not ready.
    package static func isReadyToFlip(swiftAnswers: Bool, parity: PageParity?) -> Bool {
        swiftAnswers && parity == .same
    }
}
