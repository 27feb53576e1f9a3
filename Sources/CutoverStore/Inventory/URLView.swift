import CutoverCore
import Foundation

/// One URL as the CLI (`--json`) and the API show it.
public struct URLView: Encodable, Sendable {
    public var path: String
    public var filePath: String?
    public var owner: Owner
    public var plannedOwner: Owner?
    public var size: Int64?
    public var mtime: Date?
    public var contentHash: String?
    public var gone: Bool
    public var id: Int64
    public var flags: [String]
    public var expectedOwner: Owner
    public var observedOwner: Owner?
    public var observedSource: OwnerSource?
    public var lastStatus: Int?
    public var lastLatencyMs: Double?
    public var lastError: String?
    public var drift: Bool
    public var readyToFlip: Bool
    public var redirectTo: String?
    /// Requests in the imported access logs and the last one's time; absent for a URL no log
    /// line named.
    public var hits: Int?
    public var lastSeen: Date?

    public init(_ url: URLRecord, hits: Int? = nil, lastSeen: Date? = nil) {
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
        readyToFlip = url.readyToFlip
        redirectTo = url.redirectTo
    }
}
