import CutoverCore
import Foundation
import Testing

/// `JSONWriter` writes what JSONEncoder writes, for the values the URL page and `probe --json`
/// put through it.
struct JSONWriterTests {
    /// Whole-second instants across the calendar: 1970 itself, before it, leap days, the ends of
    /// years, the first full year after the Gregorian reform, and the last four-digit year (the
    /// writer's fixed-width path) and after it.
    @Test(arguments: [
        0, -1, 59, 86_399, 86_400, 951_782_400, 951_868_799, 1_764_000_000, 1_764_000_000.75, -2_524_521_600,
        -12_212_553_600, 253_402_300_799, 253_402_300_800, 4_102_444_800,
    ])
    func datesAreJSONEncodersISO8601(seconds: Double) throws {
        let writer = JSONWriter()
        writer.date(secondsSince1970: seconds)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let reference = try encoder.encode(Date(timeIntervalSince1970: seconds.rounded(.down)))
        #expect(String(decoding: writer.bytes, as: UTF8.self) == String(decoding: reference, as: UTF8.self))
    }

    /// Before the reform Foundation turns to Julian dates; the writer keeps ISO 8601's proleptic
    /// Gregorian calendar, which is what the format specifies.
    @Test func datesBeforeTheGregorianReformAreProleptic() {
        let writer = JSONWriter()
        writer.date(secondsSince1970: -62_135_596_800)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #""0001-01-01T00:00:00Z""#)
    }

    @Test func keysAreCommaSeparatedAfterTheFirst() {
        let writer = JSONWriter(capacity: 1)
        var first = true
        writer.raw("{")
        writer.key("a", first: &first)
        writer.int(-12)
        writer.key("longerName", first: &first)
        writer.bool(true)
        writer.key("", first: &first)
        writer.string("x\"y")
        writer.raw("}")
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #"{"a":-12,"longerName":true,"":"x\"y"}"#)
    }
}
