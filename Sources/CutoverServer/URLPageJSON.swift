import CutoverCore
import CutoverStore
import Foundation
import Hummingbird

/// The URL page written as JSON directly. A page of 100 URLs through Foundation's JSONEncoder
/// cost more than everything else in the request (scripts/bench-api.sh, perf); this writer
/// produces the same document (sorted keys, ISO-8601 dates, absent optionals left out), and a
/// test checks it against JSONEncoder on awkward values.
extension URLsController.Page: ResponseGenerator {
    func response(from request: Request, context: some RequestContext) throws -> Response {
        var writer = JSONWriter(capacity: 400 * items.count + 128)
        writer.page(self)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: writer.bytes)))
    }
}

struct JSONWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 1024) {
        bytes.reserveCapacity(capacity)
    }

    private mutating func byte(_ value: UInt8) {
        bytes.append(value)
    }

    mutating func page(_ page: URLsController.Page) {
        raw("{\"items\":[")
        for (index, item) in page.items.enumerated() {
            if index > 0 { byte(UInt8(ascii: ",")) }
            url(item)
        }
        raw("],\"limit\":")
        int(page.limit)
        if let cursor = page.nextCursor {
            raw(",\"nextCursor\":")
            string(cursor)
        }
        raw(",\"offset\":")
        int(page.offset)
        raw(",\"total\":")
        int(page.total)
        raw("}")
    }

    /// The keys of `URLView` in sorted order, as JSONEncoder with `.sortedKeys` writes them.
    mutating func url(_ url: URLView) {
        raw("{")
        var first = true
        func key(_ name: StaticString) {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            bytes.append(UInt8(ascii: "\""))
            name.withUTF8Buffer { bytes.append(contentsOf: $0) }
            bytes.append(UInt8(ascii: "\""))
            bytes.append(UInt8(ascii: ":"))
        }
        if let value = url.contentHash {
            key("contentHash")
            string(value)
        }
        key("drift")
        bool(url.drift)
        key("expectedOwner")
        string(url.expectedOwner.rawValue)
        if let value = url.filePath {
            key("filePath")
            string(value)
        }
        key("flags")
        raw("[")
        for (index, flag) in url.flags.enumerated() {
            if index > 0 { byte(UInt8(ascii: ",")) }
            string(flag)
        }
        raw("]")
        key("gone")
        bool(url.gone)
        key("id")
        int(url.id)
        if let value = url.lastError {
            key("lastError")
            string(value)
        }
        if let value = url.lastLatencyMs {
            key("lastLatencyMs")
            double(value)
        }
        if let value = url.lastStatus {
            key("lastStatus")
            int(value)
        }
        if let value = url.mtime {
            key("mtime")
            date(value)
        }
        if let value = url.observedOwner {
            key("observedOwner")
            string(value.rawValue)
        }
        if let value = url.observedSource {
            key("observedSource")
            string(value.rawValue)
        }
        key("owner")
        string(url.owner.rawValue)
        key("path")
        string(url.path)
        if let value = url.plannedOwner {
            key("plannedOwner")
            string(value.rawValue)
        }
        key("readyToFlip")
        bool(url.readyToFlip)
        if let value = url.redirectTo {
            key("redirectTo")
            string(value)
        }
        if let value = url.size {
            key("size")
            int(value)
        }
        raw("}")
    }

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Small integers print into Swift's inline small strings: no allocation.
    mutating func int(_ value: some BinaryInteger) {
        bytes.append(contentsOf: String(value).utf8)
    }

    mutating func bool(_ value: Bool) {
        value ? raw("true") : raw("false")
    }

    /// Finite numbers as Swift prints them (valid JSON); JSON has no NaN or infinity.
    mutating func double(_ value: Double) {
        guard value.isFinite else { return raw("null") }
        if value == value.rounded(), abs(value) < 1e15 {
            int(Int64(value))
        } else {
            bytes.append(contentsOf: "\(value)".utf8)
        }
    }

    /// `2026-11-24T22:18:28Z`, as JSONEncoder's `.iso8601` writes it (UTC, whole seconds).
    mutating func date(_ value: Date) {
        let seconds = Int64(value.timeIntervalSince1970.rounded(.down))
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
        digits(year, width: 4)
        byte(UInt8(ascii: "-"))
        digits(month, width: 2)
        byte(UInt8(ascii: "-"))
        digits(day, width: 2)
        byte(UInt8(ascii: "T"))
        digits(secondOfDay / 3600, width: 2)
        byte(UInt8(ascii: ":"))
        digits(secondOfDay / 60 % 60, width: 2)
        byte(UInt8(ascii: ":"))
        digits(secondOfDay % 60, width: 2)
        raw("Z\"")
    }

    private mutating func digits(_ value: Int64, width: Int) {
        let text = String(value)
        for _ in text.utf8.count..<max(width, text.utf8.count) { byte(UInt8(ascii: "0")) }
        bytes.append(contentsOf: text.utf8)
    }

    /// A JSON string: quotes, backslashes and control characters escaped; everything else as UTF-8.
    mutating func string(_ value: String) {
        byte(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            // Most strings need no escaping: copy them whole.
            if !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                bytes.append(contentsOf: utf8)
            } else {
                escape(utf8)
            }
        }
        byte(UInt8(ascii: "\""))
    }

    private mutating func escape(_ utf8: UnsafeBufferPointer<UInt8>) {
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
