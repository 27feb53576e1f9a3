import Foundation
import Testing

@testable import CutoverCore

/// The decision a canary's step rests on (#29): errors against a baseline that ran at the same
/// time with an absolute floor, latency by a rank test and a ratio, too little traffic visible.
@Suite struct CanaryAnalysisTests {
    /// A side of `requests` with `errors` 5xx, each request timed `duration(i)` µs (nil: untimed).
    static func side(_ requests: Int, errors: Int = 0, duration: ((Int) -> Int)? = { 10_000 + ($0 * 37) % 4_000 }) -> CanarySide {
        var latency = LatencyHistogram()
        if let duration { for i in 0..<requests { latency.record(duration(i)) } }
        return CanarySide(requests: requests, errors: errors, latency: latency)
    }

    /// The defaults, with no absolute latency allowance (the durations below are ~10 ms).
    static let policy: CanaryPolicy = {
        var policy = CanaryPolicy()
        policy.latencyAllowanceMs = 0
        return policy
    }()

    @Test func aSlowerSideWithinTheAbsoluteAllowancePasses() {
        // Proxying costs a millisecond an echo in mod_php does not (measured: 1.2 ms against 0.2 ms).
        let php = Self.side(400, duration: { 150 + $0 % 100 })
        let swift = Self.side(100, duration: { 1_000 + $0 % 300 })
        let result = CanaryAnalysis.judge(swift: swift, php: php, policy: CanaryPolicy())
        #expect(result.verdict == .pass && result.latencyP! < 0.001, "\(result.reason)")
        let slow = CanaryAnalysis.judge(swift: Self.side(100, duration: { 80_000 + $0 }), php: php, policy: CanaryPolicy())
        #expect(slow.verdict == .fail, "\(slow.reason)")
    }

    @Test(arguments: [
        // (Swift requests, Swift 5xx, PHP requests, PHP 5xx, verdict)
        // A PHP side with no errors allows 1 point: 1 % passes, 1.5 % fails, 5 % fails.
        (200, 2, 2_000, 0, CanaryAnalysis.Verdict.pass),
        (200, 3, 2_000, 0, .fail),
        (100, 5, 2_000, 0, .fail),
        (100, 0, 2_000, 0, .pass),
        // A failing baseline raises the bar only by the allowance: 10 % against 9 % passes, 12 % fails.
        (1_000, 100, 1_000, 90, .pass),
        (1_000, 120, 1_000, 90, .fail),
        // Too few requests: waiting, unless the errors already fail the minimum sample.
        (12, 0, 500, 0, .waiting),
        (10, 1, 500, 0, .fail),
        (49, 0, 5_000, 0, .waiting),
        (50, 0, 0, 0, .pass),
    ])
    func errorRates(swiftRequests: Int, swiftErrors: Int, phpRequests: Int, phpErrors: Int, verdict: CanaryAnalysis.Verdict) {
        let result = CanaryAnalysis.judge(
            swift: Self.side(swiftRequests, errors: swiftErrors),
            php: Self.side(phpRequests, errors: phpErrors),
            policy: Self.policy
        )
        #expect(result.verdict == verdict, "\(result.reason)")
    }

    @Test func waitingSaysHowManyOfHowMany() {
        let result = CanaryAnalysis.judge(swift: Self.side(12), php: Self.side(400), policy: Self.policy)
        #expect(result.verdict == .waiting && result.reason == "waiting for traffic: 12 of 50 requests on Swift")
    }

    @Test func tooLittleTrafficForTooLongHoldsOrPromotesAsChosen() {
        var policy = Self.policy
        policy.trafficWaitSeconds = 3_600
        let early = CanaryAnalysis.judge(swift: Self.side(3), php: Self.side(40), policy: policy, stepSeconds: 3_599)
        #expect(early.verdict == .waiting)
        let held = CanaryAnalysis.judge(swift: Self.side(3), php: Self.side(40), policy: policy, stepSeconds: 3_600)
        #expect(held.verdict == .hold && held.reason.contains("after 1h: holding"), "\(held.reason)")
        policy.onLowTraffic = .promote
        let promoted = CanaryAnalysis.judge(swift: Self.side(3), php: Self.side(40), policy: policy, stepSeconds: 7_200)
        #expect(promoted.verdict == .pass && promoted.reason.contains("promoting as configured"), "\(promoted.reason)")
    }

    @Test(arguments: [
        // (Swift's durations as a multiple of PHP's, verdict): significant and over ×1.5 fails.
        // The ratio is read from quarter-octave buckets (interpolated), so "just under" and "just
        // over" are a bucket's resolution apart: ×1.3 reads 1.32, ×1.6 reads 1.7.
        (1.0, CanaryAnalysis.Verdict.pass),
        (1.2, .pass),
        (1.3, .pass),
        (1.6, .fail),
        (1.8, .fail),
        (3.0, .fail),
        (0.5, .pass),
    ])
    func latencyShiftsUnderAndOverTheRatio(factor: Double, verdict: CanaryAnalysis.Verdict) {
        let php = Self.side(600, duration: { 8_000 + ($0 * 7_919) % 4_000 })
        let swift = Self.side(300, duration: { Int(Double(8_000 + ($0 * 7_919) % 4_000) * factor) })
        let result = CanaryAnalysis.judge(swift: swift, php: php, policy: Self.policy)
        #expect(result.verdict == verdict, "×\(factor): \(result.reason)")
        #expect(result.latencyP != nil)
        if factor >= 1.3 { #expect(result.latencyP! < 0.02, "a shift of ×\(factor) is significant: \(result.reason)") }
    }

    @Test func tiesAndIdenticalSidesAreNotSlower() {
        let same = Self.side(500, duration: { _ in 12_345 })
        #expect(CanaryAnalysis.mannWhitneyGreater(same.latency, than: same.latency) == 1)
        let php = Self.side(500)
        let result = CanaryAnalysis.judge(swift: php, php: php, policy: Self.policy)
        #expect(result.verdict == .pass && result.latencyP! > 0.4, "\(result.reason)")
    }

    @Test func rankTestAgainstAKnownValue() {
        // 1..20 against 11..30 (no ties across buckets below 16 µs; 16+ share buckets): the
        // one-sided p that the second is larger is small, and the other way round it is large.
        var low = LatencyHistogram()
        var high = LatencyHistogram()
        for v in 1...10 { low.record(v) }
        for v in 6...15 { high.record(v) }
        let p = CanaryAnalysis.mannWhitneyGreater(high, than: low)
        // U = 87.5 of 100 (five ties count a half each); mean 50, σ = 13.204 with the tie
        // correction, z = (87.5 − 50 − 0.5) / σ = 2.802: p ≈ 0.00254.
        #expect(abs(p - 0.00254) < 0.0001, "\(p)")
        #expect(CanaryAnalysis.mannWhitneyGreater(low, than: high) > 0.95)
    }

    @Test func aLogWithoutDurationsJudgesErrorsAndSaysSo() {
        let result = CanaryAnalysis.judge(swift: Self.side(80, duration: nil), php: Self.side(800, duration: nil), policy: Self.policy)
        #expect(result.verdict == .pass && result.reason.contains("add %D to the LogFormat"), "\(result.reason)")
        let failing = CanaryAnalysis.judge(swift: Self.side(80, errors: 8, duration: nil), php: Self.side(800, duration: nil), policy: Self.policy)
        #expect(failing.verdict == .fail)
    }

    @Test func fewPHPSamplesFallBackToTheRatio() {
        let swift = Self.side(100, duration: { _ in 40_000 })
        let php = Self.side(10, duration: { _ in 10_000 })
        let result = CanaryAnalysis.judge(swift: swift, php: php, policy: Self.policy)
        #expect(result.verdict == .fail && result.latencyP == nil && result.reason.contains("ratio only"), "\(result.reason)")
    }

    @Test func aParityDifferenceHoldsAPassingStep() {
        let result = CanaryAnalysis.judge(swift: Self.side(100), php: Self.side(100), policy: Self.policy, parityDifferent: ["/a.php"])
        #expect(result.verdict == .hold && result.reason.contains("/a.php differently"), "\(result.reason)")
        let failing = CanaryAnalysis.judge(swift: Self.side(100, errors: 20), php: Self.side(100), policy: Self.policy, parityDifferent: ["/a.php"])
        #expect(failing.verdict == .fail)
    }

    @Test func policiesOutsideTheirRangesAreRefusedAndOldRowsDecode() throws {
        var policy = CanaryPolicy()
        #expect(policy.problems.isEmpty)
        policy.intervalSeconds = 1
        policy.minRequests = 0
        policy.latencyRatio = 0.5
        #expect(policy.problems.count == 3, "\(policy.problems)")
        let decoded = try JSONDecoder().decode(CanaryPolicy.self, from: Data(#"{"minRequests":20}"#.utf8))
        #expect(decoded.minRequests == 20 && decoded.intervalSeconds == 600 && decoded.onLowTraffic == .hold)
    }
}
