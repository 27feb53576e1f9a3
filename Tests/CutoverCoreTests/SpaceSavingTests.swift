import CutoverCore
import Foundation
import Testing

/// The tail summary's promises, checked against true counts: on a Zipf stream (the shape of a
/// site's requested paths), a uniform flood (a scanner), weighted adds (a stretch's counts per
/// path) and with items taken out (promoted to exact rows).
@Suite struct SpaceSavingTests {
    /// A deterministic generator (SplitMix64), so a failure can be replayed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// `n` draws from a Zipf distribution with exponent `s` over `items` items (inverse CDF).
    static func zipf(n: Int, items: Int, s: Double, seed: UInt64) -> [Int] {
        var cumulative: [Double] = []
        var sum = 0.0
        for rank in 1...items {
            sum += 1 / pow(Double(rank), s)
            cumulative.append(sum)
        }
        var rng = SplitMix(state: seed)
        return (0..<n).map { _ in
            let u = Double.random(in: 0..<sum, using: &rng)
            var low = 0
            var high = items - 1
            while low < high {
                let mid = (low + high) / 2
                if cumulative[mid] < u { low = mid + 1 } else { high = mid }
            }
            return low
        }
    }

    /// Every promise of the summary against the true counts.
    static func checkBounds(_ summary: SpaceSaving<Int, Int>, truth: [Int: Int], sourceLocation: SourceLocation = #_sourceLocation) {
        let total = truth.values.reduce(0, +)
        #expect(summary.total == total, sourceLocation: sourceLocation)
        #expect(summary.count <= summary.capacity, sourceLocation: sourceLocation)
        for entry in summary.entries {
            let trueCount = truth[entry.key] ?? 0
            #expect(entry.count >= trueCount, "count \(entry.count) under the true \(trueCount)", sourceLocation: sourceLocation)
            #expect(entry.guaranteed <= trueCount, "certain \(entry.guaranteed) over the true \(trueCount)", sourceLocation: sourceLocation)
            #expect(entry.error <= summary.bound, "error \(entry.error) over N/K = \(summary.bound)", sourceLocation: sourceLocation)
        }
        for (key, trueCount) in truth where trueCount > summary.bound {
            #expect(summary.entry(key) != nil, "item \(key) with \(trueCount) > N/K = \(summary.bound) was dropped", sourceLocation: sourceLocation)
        }
        // An item without a counter had at most the smallest count (or the floor of taken-out counters).
        let smallest = max(summary.floor, summary.entries.map(\.count).min() ?? 0)
        let overlooked = truth.filter { summary.entry($0.key) == nil && $0.value > smallest }
        #expect(overlooked.isEmpty, "dropped above the smallest counter \(smallest): \(overlooked.prefix(5))", sourceLocation: sourceLocation)
    }

    @Test(arguments: [(1.1, 200, UInt64(1)), (0.8, 1_000, UInt64(2)), (1.5, 50, UInt64(3))])
    func zipfStreamsKeepTheirHeavyHittersWithinTheBound(exponent: Double, capacity: Int, seed: UInt64) {
        let stream = Self.zipf(n: 200_000, items: 50_000, s: exponent, seed: seed)
        var summary = SpaceSaving<Int, Int>(capacity: capacity)
        var truth: [Int: Int] = [:]
        for item in stream {
            summary.add(item)
            truth[item, default: 0] += 1
        }
        Self.checkBounds(summary, truth: truth)
        // The estimated top ten are the true top ten (Zipf's head stands far above N/K).
        let trueTop = truth.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(10).map(\.key)
        #expect(summary.top(10).map(\.key) == trueTop)
        for entry in summary.top(10) {
            #expect(Double(entry.count - truth[entry.key]!) <= Double(stream.count) / Double(capacity))
        }
    }

    @Test func aScannerFloodKeepsNothingCertainAboveOne() {
        var summary = SpaceSaving<Int, Int>(capacity: 100)
        for item in 0..<100_000 { summary.add(item) }
        #expect(summary.total == 100_000)
        #expect(summary.count == 100)
        // Every counter is almost all error: no item is certain to have had more than one request.
        #expect(summary.entries.allSatisfy { $0.guaranteed == 1 })
        #expect(summary.bound == 1_000)
    }

    @Test func weightedAddsAndTakenBackCountsKeepTheBounds() {
        var rng = SplitMix(state: 7)
        var summary = SpaceSaving<Int, Int>(capacity: 64)
        var truth: [Int: Int] = [:]
        var promoted: Set<Int> = []
        for round in 0..<3_000 {
            let item = Int(rng.next() % 2_000) / (1 + Int(rng.next() % 8))
            guard !promoted.contains(item) else { continue }
            let weight = 1 + Int(rng.next() % 5)
            summary.add(item, weight: weight, payload: weight)
            truth[item, default: 0] += weight
            // Now and then an item moves to an exact row: its last weight is taken back.
            if round % 97 == 0, let entry = summary.entry(item), entry.guaranteed > summary.bound {
                summary.subtract(item, weight: weight, payload: weight)
                truth[item, default: 0] -= weight
                promoted.insert(item)
            }
        }
        Self.checkBounds(summary, truth: truth.filter { $0.value > 0 })
        // A payload sums what was added since the item took its counter: here, its certain count.
        #expect(summary.entries.allSatisfy { $0.payload == $0.guaranteed })
    }

    @Test func aRestoredSummaryGoesOnAsIfNeverStored() {
        let stream = Self.zipf(n: 20_000, items: 5_000, s: 1.0, seed: 9)
        var whole = SpaceSaving<Int, Int>(capacity: 50)
        var first = SpaceSaving<Int, Int>(capacity: 50)
        for item in stream.prefix(10_000) {
            whole.add(item)
            first.add(item)
        }
        var restored = SpaceSaving<Int, Int>(capacity: 50, total: first.total, floor: first.floor, entries: first.entries)
        for item in stream.dropFirst(10_000) {
            whole.add(item)
            restored.add(item)
        }
        #expect(restored.total == whole.total)
        #expect(Set(restored.entries.map(\.key)) == Set(whole.entries.map(\.key)))
        #expect(restored.top(5) == whole.top(5))
    }

    @Test func removingEveryEntryLeavesAnEmptySummaryWhoseFloorCarriesTheBound() {
        var summary = SpaceSaving<String, Int>(capacity: 3)
        for key in ["a", "b", "c", "a", "d", "a"] { summary.add(key) }
        #expect(summary.entry("a")?.count == 3)
        for entry in summary.entries { summary.remove(entry.key) }
        #expect(summary.count == 0)
        #expect(summary.floor == 3)
        summary.add("e")
        #expect(summary.entry("e") == .init(key: "e", count: 4, error: 3))
    }
}
