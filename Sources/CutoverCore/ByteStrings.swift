#if canImport(Glibc)
import Glibc
#endif

/// Byte strings (or nil) one after another in one arena: a column of a million paths or hashes
/// without a heap allocation per value.
public struct ByteStrings: Sendable {
    private var bytes: [UInt8] = []
    private var starts: [UInt32] = []
    /// -1 marks nil.
    private var lengths: [Int32] = []

    public init() {}

    public var count: Int { starts.count }

    public mutating func reserveCapacity(_ count: Int, bytes total: Int) {
        starts.reserveCapacity(count)
        lengths.reserveCapacity(count)
        bytes.reserveCapacity(total)
    }

    public mutating func append(_ value: UnsafeBufferPointer<UInt8>?) {
        precondition(bytes.count + (value?.count ?? 0) <= Int(UInt32.max), "more than 4 GiB of text")
        starts.append(UInt32(bytes.count))
        guard let value else {
            lengths.append(-1)
            return
        }
        lengths.append(Int32(value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func append(_ value: String?) {
        guard var value else { return append(nil as UnsafeBufferPointer<UInt8>?) }
        value.withUTF8 { append($0) }
    }

    /// Calls `body` with value `index`'s bytes (nil for nil), without copying them.
    public func withBytes<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>?) throws -> R) rethrows -> R {
        let length = Int(lengths[index])
        guard length >= 0 else { return try body(nil) }
        let start = Int(starts[index])
        return try bytes.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start..<(start + length)])) }
    }

    public subscript(index: Int) -> String? {
        withBytes(index) { $0.map { String(decoding: $0, as: UTF8.self) } }
    }

    /// True when both are nil, or both hold the same bytes.
    public static func equal(_ value: String?, _ stored: UnsafeBufferPointer<UInt8>?) -> Bool {
        switch (value, stored) {
        case (nil, nil): return true
        case (var value?, let stored?): return value.withUTF8 { equal($0, stored) }
        default: return false
        }
    }

    public static func equal(_ lhs: UnsafeBufferPointer<UInt8>, _ rhs: UnsafeBufferPointer<UInt8>) -> Bool {
        lhs.count == rhs.count && (lhs.isEmpty || memcmp(lhs.baseAddress!, rhs.baseAddress!, lhs.count) == 0)
    }
}
