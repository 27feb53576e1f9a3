/// The heaviest items of a weighted stream in at most `capacity` counters: Space-Saving
/// (Metwally, Agrawal, El Abbadi, "Efficient Computation of Frequent and Top-k Elements in Data
/// Streams", 2005).
///
/// What it guarantees, for `total` = the sum of every weight added (`N`) and `capacity` = K:
/// - each kept item's `count` is at least its true count, and `count - error` at most;
/// - `error` ≤ N / K, so every item whose true count exceeds N / K is kept;
/// - an item that is not kept has a true count of at most `floor` (≤ N / K).
///
/// A new item takes the smallest counter when all are in use: its count starts at that
/// counter's count (its `error`), which is what makes the counts overestimates. `remove` takes an
/// item out (its counts moved elsewhere); the counter's count then raises `floor`, and items
/// added later start from it, so the guarantees hold for them too.
///
/// Each counter also carries a `Payload` (say, how many of the item's requests were by people):
/// summed over what was added since the item took its counter, so a lower bound of the item's.
package struct SpaceSaving<Key: Hashable & Sendable, Payload: AdditiveArithmetic & Sendable & Equatable>: Sendable {
    package struct Entry: Sendable, Equatable {
        package var key: Key
        /// At least the item's true count.
        package var count: Int
        /// How much of `count` may not be the item's: `count - error` is at most its true count.
        package var error: Int
        package var payload: Payload

        @inlinable package init(key: Key, count: Int, error: Int, payload: Payload = .zero) {
            self.key = key
            self.count = count
            self.error = error
            self.payload = payload
        }

        /// The hits the item certainly had.
        @inlinable package var guaranteed: Int { count - error }
    }

    package let capacity: Int
    /// The sum of the weights added (N), less what `subtract` took back.
    @inlinable package var total: Int { storedTotal }
    /// Items not kept had at most this many (the largest counter given up by `remove`).
    @inlinable package var floor: Int { storedFloor }
    // Settable only here. Not `package internal(set)`: inlinable code that calls a setter which
    // is not `@usableFromInline` compiles, but its body is then not serialized, and no client
    // can specialize the summary (every call went through generic code and metadata look-ups).
    @usableFromInline var storedTotal: Int
    @usableFromInline var storedFloor: Int
    // Slot by slot: the generic part (keys, payloads) beside the counts, which live in a
    // non-generic heap so that comparing counts needs no generic code or metadata.
    @usableFromInline var keys: [Key] = []
    @usableFromInline var payloads: [Payload] = []
    @usableFromInline var counters = CounterHeap()
    @usableFromInline var slotOf: [Key: Int] = [:]

    @inlinable package init(capacity: Int, total: Int = 0, floor: Int = 0, entries: [Entry] = []) {
        precondition(capacity > 0, "a summary needs at least one counter")
        self.capacity = capacity
        self.storedTotal = total
        self.storedFloor = floor
        for entry in entries.prefix(capacity) { insert(entry) }
    }

    @inlinable package var count: Int { keys.count }
    @inlinable package var isFull: Bool { keys.count >= capacity }
    /// The error bound of every count: N / K, rounded down.
    @inlinable package var bound: Int { total / capacity }
    @inlinable package var entries: [Entry] { keys.indices.map(entry(slot:)) }

    @inlinable package func entry(_ key: Key) -> Entry? { slotOf[key].map(entry(slot:)) }

    @inlinable func entry(slot: Int) -> Entry {
        Entry(key: keys[slot], count: counters.counts[slot], error: counters.errors[slot], payload: payloads[slot])
    }

    /// What `add` did: whether `key` was kept before, and the item that lost its counter to it.
    package struct Added {
        package var wasKept: Bool
        package var evicted: Key?

        @inlinable init(wasKept: Bool, evicted: Key?) {
            self.wasKept = wasKept
            self.evicted = evicted
        }
    }

    /// Counts `weight` more for `key`.
    @discardableResult
    @inlinable package mutating func add(_ key: Key, weight: Int = 1, payload: Payload = .zero) -> Added {
        precondition(weight > 0, "weights are positive")
        storedTotal += weight
        if let slot = slotOf[key] {
            counters.raise(slot, by: weight)
            payloads[slot] += payload
            return Added(wasKept: true, evicted: nil)
        }
        guard isFull else {
            insert(Entry(key: key, count: floor + weight, error: floor, payload: payload))
            return Added(wasKept: false, evicted: nil)
        }
        let slot = counters.replaceSmallest(adding: weight)
        let evicted = keys[slot]
        slotOf[evicted] = nil
        keys[slot] = key
        payloads[slot] = payload
        slotOf[key] = slot
        return Added(wasKept: false, evicted: evicted)
    }

    /// Takes back `weight` (and `payload`) that `add` counted for `key` (its requests are counted
    /// elsewhere from now on). An entry left with nothing certain (`count <= error`) is removed;
    /// returns whether `key` is still kept.
    @discardableResult
    @inlinable package mutating func subtract(_ key: Key, weight: Int, payload: Payload = .zero) -> Bool {
        storedTotal -= weight
        guard let slot = slotOf[key] else { return false }
        counters.lower(slot, by: weight)
        payloads[slot] -= payload
        guard counters.counts[slot] > counters.errors[slot] else {
            remove(key)
            return false
        }
        return true
    }

    /// Takes `key`'s counter away; what it held may still be any absent item's, so `floor` rises to it.
    @inlinable package mutating func remove(_ key: Key) {
        guard let slot = slotOf[key] else { return }
        storedFloor = max(storedFloor, counters.counts[slot])
        slotOf[key] = nil
        // The heap moves the last slot into the freed one; the keys and payloads follow.
        let last = keys.count - 1
        counters.remove(slot)
        if slot != last {
            keys[slot] = keys[last]
            payloads[slot] = payloads[last]
            slotOf[keys[slot]] = slot
        }
        keys.removeLast()
        payloads.removeLast()
    }

    /// The kept items, heaviest first (ties by their certain count).
    @inlinable package func top(_ limit: Int = .max) -> [Entry] {
        Array(entries.sorted { ($0.count, $0.guaranteed) > ($1.count, $1.guaranteed) }.prefix(limit))
    }

    @inlinable mutating func insert(_ entry: Entry) {
        slotOf[entry.key] = keys.count
        keys.append(entry.key)
        payloads.append(entry.payload)
        counters.append(count: entry.count, error: entry.error)
    }
}

/// Space-Saving's counters by slot, as a binary min-heap by count (ties by slot index, so the
/// order is stable): the smallest is replaced in O(log K).
@usableFromInline struct CounterHeap: Sendable {
    @usableFromInline init() {}

    @usableFromInline var counts: [Int] = []
    @usableFromInline var errors: [Int] = []
    /// Slot indices in heap order.
    @usableFromInline var heap: [Int] = []
    /// Where each slot sits in `heap`.
    @usableFromInline var place: [Int] = []

    @usableFromInline mutating func append(count: Int, error: Int) {
        counts.append(count)
        errors.append(error)
        heap.append(counts.count - 1)
        place.append(heap.count - 1)
        siftUp(heap.count - 1)
    }

    @usableFromInline mutating func raise(_ slot: Int, by weight: Int) {
        counts[slot] += weight
        siftDown(place[slot])
    }

    @usableFromInline mutating func lower(_ slot: Int, by weight: Int) {
        counts[slot] -= weight
        siftUp(place[slot])
    }

    /// Gives the smallest counter to a new item: its count becomes the new item's error.
    @usableFromInline mutating func replaceSmallest(adding weight: Int) -> Int {
        let slot = heap[0]
        errors[slot] = counts[slot]
        counts[slot] += weight
        siftDown(0)
        return slot
    }

    /// Removes `slot`; the last slot takes its index.
    @usableFromInline mutating func remove(_ slot: Int) {
        let last = counts.count - 1
        let position = place[slot]
        swapHeap(position, heap.count - 1)
        heap.removeLast()
        if position < heap.count {
            siftDown(position)
            siftUp(position)
        }
        if slot != last {
            counts[slot] = counts[last]
            errors[slot] = errors[last]
            let moved = place[last]
            heap[moved] = slot
            place[slot] = moved
        }
        counts.removeLast()
        errors.removeLast()
        place.removeLast()
        if slot != last {
            // Its index, the heap's tie-break, changed.
            siftDown(place[slot])
            siftUp(place[slot])
        }
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        let (x, y) = (counts[heap[a]], counts[heap[b]])
        return x < y || (x == y && heap[a] < heap[b])
    }

    private mutating func swapHeap(_ a: Int, _ b: Int) {
        guard a != b else { return }
        heap.swapAt(a, b)
        place[heap[a]] = a
        place[heap[b]] = b
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(child, parent) else { return }
            swapHeap(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var smallest = left
            if left + 1 < heap.count, less(left + 1, left) { smallest = left + 1 }
            guard less(smallest, parent) else { return }
            swapHeap(smallest, parent)
            parent = smallest
        }
    }
}
