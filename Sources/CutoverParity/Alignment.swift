/// Pairs the items of two sequences the way a person reads a change: equal items first (a
/// longest common subsequence), then, between two such anchors, items that are the same thing
/// changed (same `similar` key, again in order). So one element removed from a list of twenty is
/// one difference, not nineteen shifted ones.
enum Alignment {
    enum Pair: Equatable {
        case both(Int, Int)
        case onlyFirst(Int)
        case onlySecond(Int)
    }

    /// Most cells of the LCS table; above it, a cheaper alignment by position (only for very long
    /// sibling lists, which are compared then as position to position).
    static let maxCells = 4_000_000

    static func align<Item>(_ first: [Item], _ second: [Item], equal: (Item, Item) -> Bool, similar: (Item, Item) -> Bool) -> [Pair] {
        var pairs: [Pair] = []
        let anchors = lcs(first.count, second.count) { equal(first[$0], second[$1]) }
        var i = 0
        var j = 0
        for (anchorI, anchorJ) in anchors + [(first.count, second.count)] {
            // The gap before this anchor: pair what is the same thing changed.
            let gapFirst = Array(i..<anchorI)
            let gapSecond = Array(j..<anchorJ)
            let matched = lcs(gapFirst.count, gapSecond.count) { similar(first[gapFirst[$0]], second[gapSecond[$1]]) }
            var a = 0
            var b = 0
            for (ma, mb) in matched + [(gapFirst.count, gapSecond.count)] {
                while a < ma {
                    pairs.append(.onlyFirst(gapFirst[a]))
                    a += 1
                }
                while b < mb {
                    pairs.append(.onlySecond(gapSecond[b]))
                    b += 1
                }
                if ma < gapFirst.count, mb < gapSecond.count {
                    pairs.append(.both(gapFirst[ma], gapSecond[mb]))
                    a += 1
                    b += 1
                }
            }
            if anchorI < first.count, anchorJ < second.count { pairs.append(.both(anchorI, anchorJ)) }
            i = anchorI + 1
            j = anchorJ + 1
        }
        return pairs
    }

    /// Index pairs of a longest common subsequence, in order.
    static func lcs(_ n: Int, _ m: Int, _ match: (Int, Int) -> Bool) -> [(Int, Int)] {
        guard n > 0, m > 0 else { return [] }
        // Common ends first: most sibling lists differ in a few places.
        var prefix = 0
        while prefix < n, prefix < m, match(prefix, prefix) { prefix += 1 }
        var suffix = 0
        while suffix < n - prefix, suffix < m - prefix, match(n - 1 - suffix, m - 1 - suffix) { suffix += 1 }
        var result = (0..<prefix).map { ($0, $0) }
        let rows = n - prefix - suffix
        let columns = m - prefix - suffix
        if rows > 0, columns > 0 {
            if rows * columns > maxCells {
                for k in 0..<min(rows, columns) where match(prefix + k, prefix + k) { result.append((prefix + k, prefix + k)) }
            } else {
                // lengths[r][c]: the LCS of the rows from r on and the columns from c on.
                var lengths = [Int32](repeating: 0, count: (rows + 1) * (columns + 1))
                let width = columns + 1
                for r in stride(from: rows - 1, through: 0, by: -1) {
                    for c in stride(from: columns - 1, through: 0, by: -1) {
                        lengths[r * width + c] =
                            match(prefix + r, prefix + c)
                            ? lengths[(r + 1) * width + c + 1] + 1 : max(lengths[(r + 1) * width + c], lengths[r * width + c + 1])
                    }
                }
                var r = 0
                var c = 0
                while r < rows, c < columns {
                    if match(prefix + r, prefix + c) {
                        result.append((prefix + r, prefix + c))
                        r += 1
                        c += 1
                    } else if lengths[(r + 1) * width + c] >= lengths[r * width + c + 1] {
                        r += 1
                    } else {
                        c += 1
                    }
                }
            }
        }
        result += (0..<suffix).map { (n - suffix + $0, m - suffix + $0) }
        return result
    }
}
