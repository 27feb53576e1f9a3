import CutoverCore
import Testing

/// The fixed log-scale buckets of request durations: every value falls in a bucket whose bounds
/// hold it and are at most a quarter apart, histograms merge by adding, and their stored bytes
/// read back exactly (and refuse what they did not write).
@Suite struct LatencyHistogramTests {
    @Test func everyDurationFallsInANarrowBucketThatHoldsIt() {
        var values = Array(0...5_000)
        var value = 5_000
        while value < Int.max / 3 {
            values += [value, value + 1, value / 4 * 5, value / 2 * 3 - 1]
            value *= 2
        }
        var last = -1
        for value in values.sorted() {
            let bucket = LatencyHistogram.bucket(of: value)
            #expect(bucket >= last, "buckets grow with the value")
            last = bucket
            #expect(bucket < LatencyHistogram.bucketCount)
            let low = LatencyHistogram.lowerBound(of: bucket)
            let high = LatencyHistogram.upperBound(of: bucket)
            #expect(low <= value && value <= high, "\(value) in \(low)...\(high)")
            if bucket < LatencyHistogram.bucketCount - 1 { #expect(high - low <= max(0, low / 4), "\(low)...\(high) is narrow") }
        }
        #expect(LatencyHistogram.bucket(of: -5) == 0)
    }

    @Test func quantilesMergesAndStoredBytes() {
        var a = LatencyHistogram()
        var b = LatencyHistogram()
        let durations = (1...1_000).map { $0 * $0 }  // 1 µs to 1 s, skewed
        for (index, duration) in durations.enumerated() {
            if index % 2 == 0 { a.record(duration) } else { b.record(duration) }
        }
        var merged = a
        merged.merge(b)
        #expect(merged.total == 1_000)
        for q in [0.01, 0.5, 0.9, 0.99, 1.0] {
            let truth = durations[Int((q * 1_000).rounded(.up)) - 1]
            #expect(merged.quantile(q)?.contains(truth) == true, "p\(q)")
        }
        #expect(LatencyHistogram(encoded: merged.encoded) == merged)
        #expect(LatencyHistogram(encoded: []) == LatencyHistogram())
        #expect(LatencyHistogram().quantile(0.5) == nil)
        // A bucket past the last, or a count cut short, is refused.
        #expect(LatencyHistogram(encoded: [UInt8(LatencyHistogram.bucketCount), 1]) == nil)
        #expect(LatencyHistogram(encoded: [3, 0x80]) == nil)
        #expect(LatencyHistogram(encoded: [3] + Array(repeating: 0xFF, count: 12)) == nil)
    }
}
