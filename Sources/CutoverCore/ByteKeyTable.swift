#if canImport(Glibc)
import Glibc
#endif

/// A hash table from byte strings to dense indices (0, 1, 2 ...), with every key's bytes in one
/// arena: looking up a log line's target or a crawled URL costs a hash and a compare, never an
/// allocation, and a million keys cost about 40 bytes each plus their bytes (no String per key).
public struct ByteKeyTable: Sendable {
    private var arena: [UInt8] = []
    private var starts: [UInt32] = []
    private var lengths: [Int32] = []
    private var hashes: [UInt64] = []
    /// Open addressing; each slot holds an index + 1, 0 is empty.
    private var slots: [Int32]
    private var mask: Int

    public init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Int32](repeating: 0, count: size)
        mask = size - 1
    }

    public var count: Int { starts.count }

    /// Bytes of the arena, for estimating memory.
    public var arenaBytes: Int { arena.count }

    public func key(_ index: Int) -> ArraySlice<UInt8> {
        let start = Int(starts[index])
        return arena[start..<(start + Int(lengths[index]))]
    }

    /// Calls `body` with the bytes of key `index`, without copying them.
    public func withKey<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let start = Int(starts[index])
        return try arena.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start..<(start + Int(lengths[index]))])) }
    }

    public mutating func removeAll() {
        arena.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        lengths.removeAll(keepingCapacity: true)
        hashes.removeAll(keepingCapacity: true)
        for index in slots.indices { slots[index] = 0 }
    }

    /// The index of `key`, adding it when new (`inserted`).
    @inline(__always)
    public mutating func index(of key: UnsafeBufferPointer<UInt8>) -> (index: Int, inserted: Bool) {
        let hash = Self.hash(key)
        let (found, slot) = find(key, hash: hash)
        if let found { return (found, false) }
        precondition(arena.count + key.count <= Int(UInt32.max), "more than 4 GiB of keys")
        let index = starts.count
        starts.append(UInt32(arena.count))
        lengths.append(Int32(key.count))
        hashes.append(hash)
        arena.append(contentsOf: key)
        slots[slot] = Int32(index + 1)
        if starts.count * 2 > slots.count { grow() }
        return (index, true)
    }

    /// The index of `key`, or nil when it was never added.
    @inline(__always)
    public func index(ifPresent key: UnsafeBufferPointer<UInt8>) -> Int? {
        find(key, hash: Self.hash(key)).index
    }

    /// Like `index(ifPresent:)`, trying `hint` first: when keys are looked up in about the
    /// order they were added, one compare of neighbouring memory replaces a hash and a probe.
    @inline(__always)
    public func index(ifPresent key: UnsafeBufferPointer<UInt8>, hint: Int) -> Int? {
        if hint >= 0, hint < starts.count, Int(lengths[hint]) == key.count, equals(hint, key) { return hint }
        return index(ifPresent: key)
    }

    /// The key's index, or the empty slot where it would go.
    @inline(__always)
    private func find(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64) -> (index: Int?, slot: Int) {
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let stored = Int(slots[slot])
            if stored == 0 { return (nil, slot) }
            let candidate = stored - 1
            if hashes[candidate] == hash, Int(lengths[candidate]) == key.count, equals(candidate, key) {
                return (candidate, slot)
            }
            slot = (slot + 1) & mask
        }
    }

    @inline(__always)
    private func equals(_ index: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        key.isEmpty
            || arena.withUnsafeBufferPointer { stored in
                memcmp(stored.baseAddress! + Int(starts[index]), key.baseAddress!, key.count) == 0
            }
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = [Int32](repeating: 0, count: size)
        mask = size - 1
        for index in hashes.indices {
            var slot = Int(truncatingIfNeeded: hashes[index]) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index + 1)
        }
    }

    /// FNV-1a over 8-byte words, finished with a multiply-xorshift (enough spread for paths).
    @inline(__always)
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(key.count)
        guard let base = key.baseAddress else { return hash }
        let raw = UnsafeRawPointer(base)
        var offset = 0
        while offset + 8 <= key.count {
            hash = (hash ^ raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0x0000_0100_0000_01b3
            hash ^= hash >> 29
            offset += 8
        }
        while offset < key.count {
            hash = (hash ^ UInt64(base[offset])) &* 0x0000_0100_0000_01b3
            offset += 1
        }
        hash ^= hash >> 32
        hash = hash &* 0xd6e8_feb8_6659_fd93
        hash ^= hash >> 32
        return hash
    }
}
