/// Why a probe got no HTTP response.
public enum ProbeErrorKind: String, Codable, Sendable, CaseIterable {
    case timeout, refused, reset, tls
    case invalidResponse = "invalid-response"
    case other
}

/// What one request observed, before it is stored.
public struct ProbeObservation: Sendable, Hashable, Codable {
    public var status: Int?
    public var observedOwner: Owner?
    public var ownerSource: OwnerSource?
    public var latencyMilliseconds: Double
    public var contentType: String?
    /// Bytes read (at most the cap) or the announced Content-Length when larger.
    public var contentLength: Int64?
    /// Hex SHA-256 of the body as read (the first `cap` bytes when truncated).
    public var bodyHash: String?
    public var bodyTruncated: Bool
    public var location: String?
    public var errorKind: ProbeErrorKind?
    public var errorMessage: String?
    /// The export id the answer carried (`X-Cutover-Export`): which stored export the answering
    /// Apache has loaded.
    public var exportID: Int64?

    public init(
        status: Int? = nil,
        observedOwner: Owner? = nil,
        ownerSource: OwnerSource? = nil,
        latencyMilliseconds: Double = 0,
        contentType: String? = nil,
        contentLength: Int64? = nil,
        bodyHash: String? = nil,
        bodyTruncated: Bool = false,
        location: String? = nil,
        errorKind: ProbeErrorKind? = nil,
        errorMessage: String? = nil,
        exportID: Int64? = nil
    ) {
        self.exportID = exportID
        self.status = status
        self.observedOwner = observedOwner
        self.ownerSource = ownerSource
        self.latencyMilliseconds = latencyMilliseconds
        self.contentType = contentType
        self.contentLength = contentLength
        self.bodyHash = bodyHash
        self.bodyTruncated = bodyTruncated
        self.location = location
        self.errorKind = errorKind
        self.errorMessage = errorMessage
    }

    public static func failure(_ kind: ProbeErrorKind, _ message: String, latency: Double) -> ProbeObservation {
        ProbeObservation(latencyMilliseconds: latency, errorKind: kind, errorMessage: message)
    }
}

/// Expected versus observed ownership.
public enum Drift {
    /// A URL drifts when somebody identifiable answered and it is not the expected owner
    /// (the planned owner when a plan exists, the inventory owner otherwise).
    public static func isDrifted(expected: Owner?, observed: Owner?) -> Bool {
        guard let expected, let observed else { return false }
        return expected != observed
    }

    /// A URL planned to move (`flip --redirect-to`) is expected to answer with a redirect whose
    /// Location is the new path (absolute or not); any other answer is drift. No answer at all
    /// is an error, not drift.
    public static func isDrifted(redirectTo: String, status: Int?, location: String?) -> Bool {
        guard let status else { return false }
        guard (300..<400).contains(status), let location else { return true }
        return pathAndQuery(of: location) != redirectTo
    }

    /// `/a?b` of `http://host:port/a?b`; a location without scheme and host as it is.
    static func pathAndQuery(of location: String) -> String {
        guard let schemeEnd = location.range(of: "://") else { return location }
        let afterHost = location[schemeEnd.upperBound...].firstIndex(where: { $0 == "/" || $0 == "?" })
        guard let afterHost else { return "/" }
        let rest = String(location[afterHost...])
        return rest.hasPrefix("?") ? "/" + rest : rest
    }

    /// A success status from the Swift backend means it already implements the page.
    public static func isReadyToFlip(backendStatus: Int?) -> Bool {
        guard let backendStatus else { return false }
        return (200..<300).contains(backendStatus)
    }
}

/// The verdict on the fallback: a path that cannot exist must reach the Swift backend. On a
/// front-controller site it must reach the front controller instead (PHP, no 5xx).
public struct FallbackHealth: Sendable, Hashable, Codable {
    public var healthy: Bool
    public var path: String
    public var status: Int?
    public var observedOwner: Owner?
    public var detail: String

    public init(path: String, observation: ProbeObservation) {
        self.path = path
        status = observation.status
        observedOwner = observation.observedOwner
        if let kind = observation.errorKind {
            healthy = false
            detail = "Apache did not answer (\(kind.rawValue)): \(observation.errorMessage ?? "")"
        } else if let status = observation.status, [502, 503, 504].contains(status) {
            healthy = false
            detail = "fallback broken: Apache answered \(status), the Swift backend is down or not answering"
        } else if observation.observedOwner == .swift {
            healthy = true
            detail = "a missing URL reached the Swift backend (\(observation.status.map(String.init) ?? "-"))"
        } else if observation.observedOwner == .php {
            healthy = false
            detail =
                "fallback not reached: PHP answered a missing URL (\(observation.status.map(String.init) ?? "-")): the app's own rules send URLs "
                + "without a file to a script (a front controller); tell Cutover which one (`cutover site set SITE --front-controller /index.php`)"
        } else if observation.observedOwner == .static {
            healthy = false
            detail = "fallback broken: a missing URL was answered with a file (\(observation.status.map(String.init) ?? "-")), not the Swift backend"
        } else {
            healthy = false
            detail =
                "fallback broken: a missing URL was answered by Apache itself (\(observation.status.map(String.init) ?? "-")), not the Swift backend"
        }
    }

    /// The check for a site whose `.htaccess` sends URLs without a file to `frontController`.
    /// `detectedOn`: the site's name when the crawl detected it and the user has not confirmed
    /// it; the detail then says so and how to confirm or decline it.
    public init(path: String, observation: ProbeObservation, frontController: String, detectedOn site: String? = nil) {
        defer {
            if let site {
                detail +=
                    "; \(frontController) was detected in the docroot's .htaccess, not confirmed: `cutover site set \(site) --front-controller \(frontController)` confirms it, `--front-controller ''` declines it"
            }
        }
        self.path = path
        status = observation.status
        observedOwner = observation.observedOwner
        let status = observation.status.map(String.init) ?? "-"
        if let kind = observation.errorKind {
            healthy = false
            detail = "Apache did not answer (\(kind.rawValue)): \(observation.errorMessage ?? "")"
        } else if observation.observedOwner == .php, (observation.status ?? 500) < 500 {
            healthy = true
            detail = "a missing URL reached the front controller \(frontController) (\(status))"
        } else if observation.observedOwner == .php {
            healthy = false
            detail = "front controller broken: \(frontController) answered a missing URL with \(status)"
        } else {
            healthy = false
            detail =
                "front controller not reached: a missing URL was answered by \(observation.observedOwner?.rawValue ?? "nobody") (\(status)), not \(frontController); check the app's .htaccess"
        }
    }
}
