/// Progressive flips (#29): a canary is a named set of pages that share one weight, the share
/// of visitors (0-100 %) Apache sends to Swift for them. Each visitor draws a bucket (0-99) once,
/// kept in a cookie; a visitor is on Swift wherever a canary's weight is above their bucket, so
/// a visit never switches sides within a canary and raising the weight only moves visitors from
/// PHP to Swift.
public enum Canary {
    /// The cohort cookie's name.
    public static let cookie = "cutover_cohort"
    /// The steps a canary's weight goes through by default.
    public static let defaultSteps = [1, 5, 25, 50, 100]
    /// How long the cohort cookie lives, in minutes (Apache's `[CO]` lifetime): 90 days, longer
    /// than any canary.
    public static let cookieMinutes = 90 * 24 * 60

    /// Canary names appear in CLI arguments, URLs and Apache map files: kept simple.
    public static func isValidName(_ name: String) -> Bool { SiteName.isValid(name) }

    /// Why `steps` cannot be a canary's steps (nil when they can): 1-10 weights, rising, 1-100.
    public static func stepsProblem(_ steps: [Int]) -> String? {
        guard (1...10).contains(steps.count), steps.allSatisfy({ (1...100).contains($0) }), zip(steps, steps.dropFirst()).allSatisfy({ $0 < $1 })
        else { return "steps must be 1 to 10 rising weights between 1 and 100 (such as 1,5,25,50,100)" }
        return nil
    }
}

/// A running canary as the export routes it.
public struct CanaryRoute: Sendable, Hashable, Codable {
    public var name: String
    /// Share of visitors on Swift, 0-100.
    public var weight: Int
    /// Canonical URL paths of its pages.
    public var pages: [String]

    public init(name: String, weight: Int, pages: [String]) {
        self.name = name
        self.weight = weight
        self.pages = pages
    }
}

/// The pages of a site's running canaries (canonical paths) and the earliest time (seconds since
/// 1970) any of their current steps began.
package struct CanaryPages: Sendable {
    package var paths: Set<String> = []
    package var since = 0

    package init(paths: Set<String> = [], since: Int = 0) {
        self.paths = paths
        self.since = since
    }
}
