#if canImport(Glibc)
import Glibc
#endif

/// Writes JSON into one growing buffer with plain memory copies (appending to an Array
/// checked uniqueness and capacity through generic code on every call: a fifth of the page's
/// time in perf). One owner at a time; `bytes` copies the result out. Used for the documents
/// that can be large: the API's URL page and `probe --json`. The small writes are inlinable:
/// called across modules as functions they took a fifth more CPU per URL page (perf).
public final class JSONWriter {
    // Unchecked: one owner at a time, and the run-time exclusivity checks of a class's stored
    // properties were most of `reserve`'s time.
    @exclusivity(unchecked) @usableFromInline var base: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) @usableFromInline var capacity: Int
    @exclusivity(unchecked) @usableFromInline var count = 0

    public init(capacity: Int = 1024) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit {
        base.deallocate()
    }

    public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    /// The document so far, for copying straight into another buffer.
    public func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    @inlinable @inline(__always)
    func reserve(_ extra: Int) {
        if count + extra > capacity { grow(extra) }
    }

    @usableFromInline
    func grow(_ extra: Int) {
        let grown = max(capacity * 2, count + extra)
        let new = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
        new.update(from: base, count: count)
        base.deallocate()
        base = new
        capacity = grown
    }

    @inlinable
    public func byte(_ value: UInt8) {
        reserve(1)
        base[count] = value
        count += 1
    }

    @inlinable
    public func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        (base + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    @inlinable
    func append(_ bytes: UnsafeRawBufferPointer) {
        append(bytes.assumingMemoryBound(to: UInt8.self))
    }

    /// `"name":`, after a comma unless it is the object's first key (one capacity check).
    @inlinable @inline(__always)
    public func key(_ name: StaticString, first: inout Bool) {
        let length = name.utf8CodeUnitCount
        reserve(length + 4)
        var next = base + count
        if !first {
            next.pointee = UInt8(ascii: ",")
            next += 1
        }
        first = false
        next.pointee = UInt8(ascii: "\"")
        (next + 1).update(from: name.utf8Start, count: length)
        next += length + 1
        next[0] = UInt8(ascii: "\"")
        next[1] = UInt8(ascii: ":")
        count = next + 2 - base
    }

    @inlinable
    public func raw(_ text: StaticString) {
        text.withUTF8Buffer { append($0) }
    }

    /// Decimal digits, written in place.
    @inlinable
    public func int(_ value: some BinaryInteger) {
        var magnitude = value.magnitude
        if value < 0 { byte(UInt8(ascii: "-")) }
        var digits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)  // room for 20 digits + sign
        withUnsafeMutableBytes(of: &digits) { buffer in
            var index = buffer.count
            repeat {
                index -= 1
                buffer[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude != 0
            append(UnsafeRawBufferPointer(rebasing: buffer[index...]))
        }
    }

    @inlinable
    public func bool(_ value: Bool) {
        value ? raw("true") : raw("false")
    }

    /// Finite numbers as Swift prints them (valid JSON); JSON has no NaN or infinity.
    public func double(_ value: Double) {
        guard value.isFinite else { return raw("null") }
        if value == value.rounded(), abs(value) < 1e15 {
            int(Int64(value))
        } else {
            var text = "\(value)"
            text.withUTF8 { append($0) }
        }
    }

    /// `2026-11-24T22:18:28Z`, as JSONEncoder's `.iso8601` writes it (UTC, whole seconds).
    public func date(secondsSince1970 value: Double) {
        let seconds = Int64(value.rounded(.down))
        var days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        byte(UInt8(ascii: "\""))
        // The year has four digits or more (and a sign before year 0); the rest,
        // "-MM-DDThh:mm:ssZ", has fixed widths and is written in place.
        digits(year, width: 4)
        reserve(17)
        let text = base + count
        func put(_ value: Int64, at offset: Int) {
            text[offset] = UInt8(ascii: "0") + UInt8(value / 10)
            text[offset + 1] = UInt8(ascii: "0") + UInt8(value % 10)
        }
        text[0] = UInt8(ascii: "-")
        put(month, at: 1)
        text[3] = UInt8(ascii: "-")
        put(day, at: 4)
        text[6] = UInt8(ascii: "T")
        put(secondOfDay / 3600, at: 7)
        text[9] = UInt8(ascii: ":")
        put(secondOfDay / 60 % 60, at: 10)
        text[12] = UInt8(ascii: ":")
        put(secondOfDay % 60, at: 13)
        text[15] = UInt8(ascii: "Z")
        text[16] = UInt8(ascii: "\"")
        count += 17
    }

    private func digits(_ value: Int64, width: Int) {
        var length = 1
        var rest = value.magnitude / 10
        while rest != 0 {
            length += 1
            rest /= 10
        }
        for _ in length..<max(width, length) { byte(UInt8(ascii: "0")) }
        int(value)
    }

    /// A JSON string: quotes, backslashes and control characters escaped; everything else as UTF-8.
    public func string(_ value: String) {
        var value = value
        value.withUTF8 { string($0) }
    }

    /// A JSON string from UTF-8 bytes (SQLite's text is UTF-8; invalid sequences, which SQLite
    /// can hold, become U+FFFD as `String(decoding:)` makes them).
    public func string(_ utf8: UnsafeBufferPointer<UInt8>) {
        // Most strings are ASCII that needs no escaping: one pass finds out, then one copy.
        var plain = true
        for byte in utf8 where byte < 0x20 || byte >= 0x80 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            plain = false
            break
        }
        reserve(utf8.count + 2)
        byte(UInt8(ascii: "\""))
        if plain {
            append(utf8)
        } else if String(validating: utf8, as: UTF8.self) != nil {
            escape(utf8)
        } else {
            // Invalid UTF-8, which SQLite can hold, becomes U+FFFD as `String(decoding:)` makes it.
            var repaired = String(decoding: utf8, as: UTF8.self)
            repaired.withUTF8 { escape($0) }
        }
        byte(UInt8(ascii: "\""))
    }

    private func escape(_ utf8: UnsafeBufferPointer<UInt8>) {
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case UInt8(ascii: "\n"): raw("\\n")
            case UInt8(ascii: "\r"): raw("\\r")
            case UInt8(ascii: "\t"): raw("\\t")
            case 0..<0x20:
                raw("\\u00")
                self.byte(Self.hexDigits[Int(byte >> 4)])
                self.byte(Self.hexDigits[Int(byte & 0xF)])
            default: self.byte(byte)
            }
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}
