import Glibc

/// A hash table from byte strings to dense indices (0, 1, 2 ...), with every key's bytes in one
/// arena: looking up a log line's target costs a hash and a compare, never an allocation.
final class ByteKeyTable {
    private var arena: [UInt8] = []
    private var starts: [Int] = []
    private var lengths: [Int32] = []
    private var hashes: [UInt64] = []
    /// Open addressing; each slot holds an index + 1, 0 is empty.
    private var slots: [Int32]
    private var mask: Int

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Int32](repeating: 0, count: size)
        mask = size - 1
    }

    var count: Int { starts.count }

    /// Bytes of the arena, for estimating memory.
    var arenaBytes: Int { arena.count }

    func key(_ index: Int) -> ArraySlice<UInt8> {
        arena[starts[index]..<(starts[index] + Int(lengths[index]))]
    }

    func removeAll() {
        arena.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        lengths.removeAll(keepingCapacity: true)
        hashes.removeAll(keepingCapacity: true)
        for index in slots.indices { slots[index] = 0 }
    }

    /// The index of `key`, adding it when new (`inserted`).
    @inline(__always)
    func index(of key: UnsafeBufferPointer<UInt8>) -> (index: Int, inserted: Bool) {
        let hash = Self.hash(key)
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let stored = Int(slots[slot])
            if stored == 0 { break }
            let candidate = stored - 1
            if hashes[candidate] == hash, Int(lengths[candidate]) == key.count, equals(candidate, key) {
                return (candidate, false)
            }
            slot = (slot + 1) & mask
        }
        let index = starts.count
        starts.append(arena.count)
        lengths.append(Int32(key.count))
        hashes.append(hash)
        arena.append(contentsOf: key)
        slots[slot] = Int32(index + 1)
        if starts.count * 2 > slots.count { grow() }
        return (index, true)
    }

    @inline(__always)
    private func equals(_ index: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        arena.withUnsafeBufferPointer { stored in
            memcmp(stored.baseAddress! + starts[index], key.baseAddress!, key.count) == 0
        }
    }

    private func grow() {
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
