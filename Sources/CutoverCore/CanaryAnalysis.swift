import Foundation

/// How a canary is judged and stepped (#29). Defaults follow the deployment tools the issue
/// names: a minimum sample of 50 requests per side and metric (Kayenta), an error-rate allowance
/// over the baseline that ran at the same time with an absolute floor (a PHP side with no errors
/// still allows none beyond the allowance), and latency judged by a rank test at 98 % confidence
/// together with a stated ratio of the 95th percentiles (significance alone flags a 1 % slowdown
/// on a busy page; a ratio alone is noise on a quiet one).
public struct CanaryPolicy: Sendable, Hashable, Codable {
    /// Seconds between analyses (and so at least this long at each step).
    public var intervalSeconds = 600
    /// Requests a side needs in the step's window before it is judged.
    public var minRequests = 50
    /// Percentage points Swift's 5xx rate may exceed PHP's in the same window.
    public var maxErrorIncrease = 1.0
    /// Confidence of the rank test that Swift is slower (0.5-0.999).
    public var latencyConfidence = 0.98
    /// Swift's 95th percentile may be at most this many times PHP's…
    public var latencyRatio = 1.5
    /// …or at most this many milliseconds above it: a proxied page costs a millisecond more
    /// than an `echo` in mod_php (measured: p95 1.2 ms against 0.2 ms), which no visitor sees.
    public var latencyAllowanceMs = 50.0
    /// After this long at a step without the minimum sample, `onLowTraffic` (nil: wait for ever,
    /// visibly).
    public var trafficWaitSeconds: Int?
    /// What a step without enough traffic does once `trafficWaitSeconds` have passed.
    public var onLowTraffic = LowTraffic.hold

    public enum LowTraffic: String, Sendable, Hashable, Codable, CaseIterable { case hold, promote }

    /// The shortest interval: a canary's analysis is cheap, and a rollback should not wait.
    public static let minimumIntervalSeconds = 5

    public init() {}

    /// Why the policy cannot be stored, one sentence each.
    public var problems: [String] {
        var found: [String] = []
        if !(Self.minimumIntervalSeconds...86_400).contains(intervalSeconds) {
            found.append("the interval must be between \(Self.minimumIntervalSeconds) seconds and one day")
        }
        if !(1...1_000_000).contains(minRequests) { found.append("the minimum sample must be 1 to 1,000,000 requests") }
        if !(0...100).contains(maxErrorIncrease) || maxErrorIncrease.isNaN { found.append("the error allowance must be 0 to 100 percentage points") }
        if !(0.5...0.999).contains(latencyConfidence) { found.append("the latency confidence must be between 0.5 and 0.999") }
        if !(1...100).contains(latencyRatio) { found.append("the latency ratio must be between 1 and 100") }
        if !(0...60_000).contains(latencyAllowanceMs) { found.append("the latency allowance must be 0 to 60,000 ms") }
        if let wait = trafficWaitSeconds, !(Self.minimumIntervalSeconds...(90 * 86_400)).contains(wait) {
            found.append("the traffic wait must be between \(Self.minimumIntervalSeconds) seconds and 90 days")
        }
        return found
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = CanaryPolicy()
        intervalSeconds = try container.decodeIfPresent(Int.self, forKey: .intervalSeconds) ?? defaults.intervalSeconds
        minRequests = try container.decodeIfPresent(Int.self, forKey: .minRequests) ?? defaults.minRequests
        maxErrorIncrease = try container.decodeIfPresent(Double.self, forKey: .maxErrorIncrease) ?? defaults.maxErrorIncrease
        latencyConfidence = try container.decodeIfPresent(Double.self, forKey: .latencyConfidence) ?? defaults.latencyConfidence
        latencyRatio = try container.decodeIfPresent(Double.self, forKey: .latencyRatio) ?? defaults.latencyRatio
        latencyAllowanceMs = try container.decodeIfPresent(Double.self, forKey: .latencyAllowanceMs) ?? defaults.latencyAllowanceMs
        trafficWaitSeconds = try container.decodeIfPresent(Int.self, forKey: .trafficWaitSeconds)
        onLowTraffic = try container.decodeIfPresent(LowTraffic.self, forKey: .onLowTraffic) ?? defaults.onLowTraffic
    }
}

/// What one side answered for a canary's pages over a step's window.
package struct CanarySide: Sendable, Hashable {
    package var requests = 0
    package var errors = 0
    /// Durations of the requests whose log line carried `%D` (or `%T`).
    package var latency = LatencyHistogram()

    package init(requests: Int = 0, errors: Int = 0, latency: LatencyHistogram = LatencyHistogram()) {
        self.requests = requests
        self.errors = errors
        self.latency = latency
    }

    package var errorRate: Double { requests == 0 ? 0 : Double(errors) / Double(requests) }

    package mutating func merge(_ other: CanarySide) {
        requests += other.requests
        errors += other.errors
        latency.merge(other.latency)
    }
}

/// One step's analysis: the verdict, why, and the figures it rests on.
package struct CanaryAnalysis: Sendable, Hashable {
    package enum Verdict: String, Sendable, Hashable, Codable {
        /// Swift did as well as PHP: the next step (or promotion).
        case pass
        /// Swift did worse: roll back to 0 %.
        case fail
        /// Not enough requests yet (visible, with the count).
        case waiting
        /// Stay at this weight (a parity difference, or too little traffic for too long).
        case hold
    }

    package var verdict: Verdict
    /// One sentence per finding, in the order they were judged.
    package var reasons: [String]
    package var swift: CanarySide
    package var php: CanarySide
    /// One-sided p-value of the rank test that Swift is slower (nil when not run).
    package var latencyP: Double?

    package var reason: String { reasons.joined(separator: "; ") }
}

extension CanaryAnalysis {
    /// Judges a step from both sides' figures over the same window.
    /// - Parameters:
    ///   - parityDifferent: pages whose latest parity verdict is "different".
    ///   - stepSeconds: how long the canary has been at this weight.
    package static func judge(
        swift: CanarySide,
        php: CanarySide,
        policy: CanaryPolicy,
        parityDifferent: [String] = [],
        stepSeconds: Int = 0
    ) -> CanaryAnalysis {
        var result = CanaryAnalysis(verdict: .pass, reasons: [], swift: swift, php: php)
        let allowance = policy.maxErrorIncrease / 100
        // A hair of slack so that exactly at the limit passes despite binary fractions.
        let limit = php.errorRate + allowance + 1e-9
        let errorLine =
            "Swift 5xx \(percent(swift.errorRate)) (\(swift.errors) of \(swift.requests)) against PHP \(percent(php.errorRate)) (\(php.errors) of \(php.requests)), allowed up to \(percent(limit))"

        // Errors that already exceed what the minimum sample allows fail at once: no need to
        // wait for more visitors to meet a failing page.
        if Double(swift.errors) > limit * Double(max(policy.minRequests, swift.requests)) {
            result.verdict = .fail
            result.reasons.append(errorLine)
            return result
        }
        if swift.requests < policy.minRequests {
            let waiting = "waiting for traffic: \(swift.requests) of \(policy.minRequests) requests on Swift"
            if let wait = policy.trafficWaitSeconds, stepSeconds >= wait {
                switch policy.onLowTraffic {
                case .hold:
                    result.verdict = .hold
                    result.reasons.append("\(waiting) after \(Interval.text(wait)): holding as configured")
                case .promote:
                    result.reasons.append("\(waiting) after \(Interval.text(wait)): promoting as configured")
                }
            } else {
                result.verdict = .waiting
                result.reasons.append(waiting)
            }
            return result
        }
        result.reasons.append(errorLine)

        // Latency: a rank test where both sides have the sample, the ratio of the 95th
        // percentiles where only Swift has it, nothing where the log has no durations.
        let swiftTimed = swift.latency.total
        let phpTimed = php.latency.total
        if swiftTimed == 0 {
            result.reasons.append("latency not compared: the log lines carry no duration (add %D to the LogFormat)")
        } else if swiftTimed < policy.minRequests {
            result.verdict = .waiting
            result.reasons.append("waiting for traffic: \(swiftTimed) of \(policy.minRequests) timed requests on Swift")
            return result
        } else if phpTimed == 0 {
            result.reasons.append("latency not compared: PHP answered no timed request in this window")
        } else {
            let swiftP95 = quantile(0.95, of: swift.latency)
            let phpP95 = quantile(0.95, of: php.latency)
            let ratio = phpP95 > 0 ? swiftP95 / phpP95 : (swiftP95 > 0 ? .infinity : 1)
            // Slower means beyond both the ratio and the absolute allowance.
            let beyond = ratio > policy.latencyRatio && swiftP95 - phpP95 > policy.latencyAllowanceMs * 1000
            let p95Line =
                "p95 Swift \(milliseconds(swiftP95)) against PHP \(milliseconds(phpP95)) (×\(String(format: "%.2f", ratio)); allowed ×\(String(format: "%.2f", policy.latencyRatio)) or +\(String(format: "%g", policy.latencyAllowanceMs)) ms)"
            if phpTimed >= policy.minRequests {
                let p = mannWhitneyGreater(swift.latency, than: php.latency)
                result.latencyP = p
                let significant = p < 1 - policy.latencyConfidence
                result.reasons.append(
                    "\(p95Line); rank test: Swift \(significant ? "slower" : "not slower") (p = \(String(format: "%.4f", p)))"
                )
                if significant, beyond { result.verdict = .fail }
            } else {
                result.reasons.append("\(p95Line); only \(phpTimed) timed PHP requests: ratio only")
                if beyond { result.verdict = .fail }
            }
        }
        if swift.errorRate > limit { result.verdict = .fail }
        if result.verdict == .pass, !parityDifferent.isEmpty {
            result.verdict = .hold
            let shown =
                parityDifferent.prefix(3).joined(separator: ", ") + (parityDifferent.count > 3 ? " and \(parityDifferent.count - 3) more" : "")
            result.reasons.append("parity: Swift answers \(shown) differently from PHP (latest run): holding")
        }
        return result
    }

    /// One-sided p-value that `a`'s durations tend to be larger than `b`'s (Mann–Whitney U with
    /// the normal approximation, mid-ranks for the ties a bucket makes and their correction).
    package static func mannWhitneyGreater(_ a: LatencyHistogram, than b: LatencyHistogram) -> Double {
        let n1 = Double(a.total)
        let n2 = Double(b.total)
        guard n1 > 0, n2 > 0 else { return 1 }
        let n = n1 + n2
        var below = 0.0
        var rankSumA = 0.0
        var ties = 0.0
        for bucket in Set(a.counts.keys).union(b.counts.keys).sorted() {
            let inA = Double(a.counts[bucket] ?? 0)
            let t = inA + Double(b.counts[bucket] ?? 0)
            rankSumA += inA * (below + (t + 1) / 2)
            ties += t * t * t - t
            below += t
        }
        let u = rankSumA - n1 * (n1 + 1) / 2
        let mean = n1 * n2 / 2
        let variance = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1)))
        guard variance > 0 else { return 1 }
        let z = (u - mean - 0.5) / variance.squareRoot()
        return 0.5 * erfc(z / 2.0.squareRoot())
    }

    /// The `q` quantile in µs, interpolated linearly inside the bucket that holds it (buckets are
    /// a quarter octave wide: without interpolation a ratio would move in steps of 19-25 %).
    package static func quantile(_ q: Double, of histogram: LatencyHistogram) -> Double {
        guard histogram.total > 0 else { return 0 }
        let rank = max(1, q * Double(histogram.total))
        var seen = 0.0
        for bucket in histogram.counts.keys.sorted() {
            let count = Double(histogram.counts[bucket]!)
            if seen + count >= rank {
                let lower = Double(LatencyHistogram.lowerBound(of: bucket))
                let width = Double(min(LatencyHistogram.upperBound(of: bucket), 1 << 40)) + 1 - lower
                return lower + width * (rank - seen) / count
            }
            seen += count
        }
        return Double(LatencyHistogram.lowerBound(of: histogram.counts.keys.max()!))
    }

    static func percent(_ rate: Double) -> String { String(format: "%.1f %%", rate * 100) }
    static func milliseconds(_ microseconds: Double) -> String { String(format: "%.1f ms", microseconds / 1000) }
}
