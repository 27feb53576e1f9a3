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
package struct SpaceSaving<Key: Hashable & Sendable>: Sendable {
    package struct Entry: Sendable, Equatable {
        package var key: Key
        /// At least the item's true count.
        package var count: Int
        /// How much of `count` may not be the item's: `count - error` is at most its true count.
        package var error: Int

        package init(key: Key, count: Int, error: Int) {
            self.key = key
            self.count = count
            self.error = error
        }

        /// The hits the item certainly had.
        package var guaranteed: Int { count - error }
    }

    package let capacity: Int
    /// The sum of the weights added (N), less what `subtract` took back.
    package private(set) var total: Int
    /// Items not kept had at most this many (the largest counter given up by `remove`).
    package private(set) var floor: Int
    private var slots: [Entry] = []
    /// Slot indices as a binary min-heap by count (ties by slot index, so the order is stable).
    private var heap: [Int] = []
    /// Where each slot sits in `heap`.
    private var place: [Int] = []
    private var slotOf: [Key: Int] = [:]

    package init(capacity: Int, total: Int = 0, floor: Int = 0, entries: [Entry] = []) {
        precondition(capacity > 0, "a summary needs at least one counter")
        self.capacity = capacity
        self.total = total
        self.floor = floor
        for entry in entries.prefix(capacity) { insert(entry) }
    }

    package var count: Int { slots.count }
    package var isFull: Bool { slots.count >= capacity }
    /// The error bound of every count: N / K, rounded down.
    package var bound: Int { total / capacity }
    package var entries: [Entry] { slots }

    package func entry(_ key: Key) -> Entry? { slotOf[key].map { slots[$0] } }

    /// Counts `weight` more for `key`; returns the item that lost its counter, if one did.
    @discardableResult
    package mutating func add(_ key: Key, weight: Int = 1) -> Key? {
        precondition(weight > 0, "weights are positive")
        total += weight
        if let slot = slotOf[key] {
            slots[slot].count += weight
            siftDown(place[slot])
            return nil
        }
        guard isFull else {
            insert(Entry(key: key, count: floor + weight, error: floor))
            return nil
        }
        let slot = heap[0]
        let evicted = slots[slot]
        slotOf[evicted.key] = nil
        slots[slot] = Entry(key: key, count: evicted.count + weight, error: evicted.count)
        slotOf[key] = slot
        siftDown(0)
        return evicted.key
    }

    /// Takes back `weight` that `add` counted for `key` (its requests are counted elsewhere from
    /// now on). An entry left with nothing certain (`count <= error`) is removed.
    package mutating func subtract(_ key: Key, weight: Int) {
        total -= weight
        guard let slot = slotOf[key] else { return }
        slots[slot].count -= weight
        if slots[slot].count <= slots[slot].error {
            remove(key)
        } else {
            siftUp(place[slot])
        }
    }

    /// Takes `key`'s counter away; what it held may still be any absent item's, so `floor` rises to it.
    package mutating func remove(_ key: Key) {
        guard let slot = slotOf[key] else { return }
        floor = max(floor, slots[slot].count)
        slotOf[key] = nil
        let last = slots.count - 1
        let position = place[slot]
        // Move the last slot into the freed one, keeping `heap` and `place` in step.
        swapHeap(position, heap.count - 1)
        heap.removeLast()
        if position < heap.count {
            siftDown(position)
            siftUp(position)
        }
        if slot != last {
            slots[slot] = slots[last]
            slotOf[slots[slot].key] = slot
            let moved = place[last]
            heap[moved] = slot
            place[slot] = moved
            slots.removeLast()
            place.removeLast()
            // Its index, the heap's tie-break, changed.
            siftDown(moved)
            siftUp(place[slot])
        } else {
            slots.removeLast()
            place.removeLast()
        }
    }

    /// The kept items, heaviest first (ties by their certain count, then insertion order).
    package func top(_ limit: Int = .max) -> [Entry] {
        Array(slots.sorted { ($0.count, $0.guaranteed) > ($1.count, $1.guaranteed) }.prefix(limit))
    }

    private mutating func insert(_ entry: Entry) {
        let slot = slots.count
        slots.append(entry)
        slotOf[entry.key] = slot
        heap.append(slot)
        place.append(heap.count - 1)
        siftUp(heap.count - 1)
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        let (x, y) = (slots[heap[a]].count, slots[heap[b]].count)
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
