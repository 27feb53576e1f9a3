/// Request durations (microseconds, from the access log's `%D`) in fixed log-scale buckets: four
/// per power of two, so a bucket's width is at most a quarter of its lower bound (a quantile read
/// from it is within 25 %), from 1 µs up to about 19 hours. Fixed buckets merge by adding counts,
/// so days and sides combine over any window; stored sparse (non-empty buckets only).
package struct LatencyHistogram: Sendable, Hashable {
    /// Buckets 0–15 hold 0–15 µs one each; then four per power of two from 16 µs.
    package static let bucketCount = 16 + 4 * (36 - 4)
    package private(set) var counts: [Int: Int] = [:]
    package private(set) var total = 0

    package init() {}

    /// The bucket of a duration (negative durations count as 0, the longest as the last).
    package static func bucket(of microseconds: Int) -> Int {
        guard microseconds >= 16 else { return max(0, microseconds) }
        let octave = Int.bitWidth - 1 - microseconds.leadingZeroBitCount
        guard octave < 36 else { return bucketCount - 1 }
        let quarter = (microseconds >> (octave - 2)) & 3
        return 16 + (octave - 4) * 4 + quarter
    }

    /// The smallest duration of a bucket.
    package static func lowerBound(of bucket: Int) -> Int {
        guard bucket >= 16 else { return bucket }
        let octave = (bucket - 16) / 4 + 4
        let quarter = (bucket - 16) % 4
        return (1 << octave) + quarter << (octave - 2)
    }

    /// The largest duration of a bucket.
    package static func upperBound(of bucket: Int) -> Int {
        bucket + 1 < bucketCount ? lowerBound(of: bucket + 1) - 1 : Int.max
    }

    package mutating func record(_ microseconds: Int, count: Int = 1) {
        counts[Self.bucket(of: microseconds), default: 0] += count
        total += count
    }

    package mutating func merge(_ other: LatencyHistogram) {
        for (bucket, count) in other.counts { counts[bucket, default: 0] += count }
        total += other.total
    }

    /// The bucket holding the `q` quantile (0...1), as its bounds: the true value lies within.
    package func quantile(_ q: Double) -> ClosedRange<Int>? {
        guard total > 0 else { return nil }
        let rank = max(1, Int((q * Double(total)).rounded(.up)))
        var seen = 0
        for bucket in counts.keys.sorted() {
            seen += counts[bucket]!
            if seen >= rank { return Self.lowerBound(of: bucket)...Self.upperBound(of: bucket) }
        }
        return nil
    }

    /// Sparse bytes: for each non-empty bucket in order, the bucket (one byte) and its count
    /// (LEB128).
    package var encoded: [UInt8] {
        var bytes: [UInt8] = []
        for bucket in counts.keys.sorted() {
            bytes.append(UInt8(bucket))
            var count = UInt64(counts[bucket]!)
            repeat {
                let low = UInt8(count & 0x7F)
                count >>= 7
                bytes.append(count == 0 ? low : low | 0x80)
            } while count != 0
        }
        return bytes
    }

    /// Reads `encoded` bytes; nil for bytes it did not write.
    package init?(encoded bytes: some Collection<UInt8>) {
        var iterator = bytes.makeIterator()
        while let bucket = iterator.next() {
            guard Int(bucket) < Self.bucketCount else { return nil }
            var count: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard let byte = iterator.next(), shift < 63 else { return nil }
                count |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { break }
                shift += 7
            }
            guard count <= UInt64(Int.max) - UInt64(total) else { return nil }
            counts[Int(bucket), default: 0] += Int(count)
            total += Int(count)
        }
    }
}
