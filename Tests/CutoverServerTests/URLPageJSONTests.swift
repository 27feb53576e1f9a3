import CutoverCore
import CutoverStore
import Foundation
import Testing

@testable import CutoverServer

/// The URL page is written by hand (URLPageJSON.swift) for speed; it must say exactly what
/// Foundation's JSONEncoder with the API's settings says, on awkward values too.
@Suite struct URLPageJSONTests {
    /// A record through its Decodable form (the memberwise initializer is the store's own).
    static func record(_ id: Int64, path: String, filePath: String?, configure: (inout URLRecord) -> Void = { _ in }) -> URLRecord {
        var fields: [String: Any] = [
            "id": id, "site_id": 1, "path": path, "owner": "php", "gone": false, "flags": 0, "ready_to_flip": false, "drift": false,
        ]
        if let filePath { fields["file_path"] = filePath }
        // swift-format-ignore
        var record = try! JSONDecoder().decode(URLRecord.self, from: JSONSerialization.data(withJSONObject: fields))
        configure(&record)
        return record
    }

    static let records: [URLRecord] = [
        record(1, path: "/index.php", filePath: "index.php"),
        record(2, path: "/%3Cimg%20src=x%3E.php", filePath: "<img src=x onerror=\"alert(1)\">.php") {
            $0.plannedOwner = .swift
            $0.size = 1_234_567_890_123
            $0.mtime = 1_764_000_000.75
            $0.contentHash = String(repeating: "ab", count: 32)
            $0.flags = URLFlags.hidden.rawValue | URLFlags.sensitive.rawValue
            $0.observedOwner = .swift
            $0.observedSource = .guessed
            $0.lastStatus = 503
            $0.lastLatencyMs = 12.345678
            $0.lastError = "reset: \\ \"quoted\"\n\ttab \u{01} bell \u{7F} é 日本 🚀"
            $0.readyToFlip = true
            $0.drift = true
            $0.redirectTo = "/new/path?x=1&y=\"2\""
            $0.gone = true
        },
        record(3, path: "/old", filePath: nil) {
            $0.owner = .static
            $0.mtime = -86_400 * 365.25 * 80  // before 1970
            $0.lastLatencyMs = 40
        },
        record(4, path: "/y2k", filePath: "y.php") {
            $0.mtime = 951_782_400  // 2000-02-29 (leap day)
            $0.lastLatencyMs = 0.000001
        },
    ]

    @Test(arguments: [nil, "/y2k"]) func writerMatchesJSONEncoder(cursor: String?) throws {
        let page = URLsController.Page(total: 100_000, limit: 100, offset: 7, items: Self.records.map(URLView.init), nextCursor: cursor)
        var writer = JSONWriter()
        writer.page(page)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let reference = try JSONSerialization.jsonObject(with: try encoder.encode(page)) as? NSDictionary
        let written = try JSONSerialization.jsonObject(with: Data(writer.bytes)) as? NSDictionary
        #expect(written != nil)
        #expect(written == reference)
        // The same key order too, so the two are interchangeable byte for byte where numbers agree.
        let text = String(decoding: writer.bytes, as: UTF8.self)
        #expect(text.hasPrefix(#"{"items":[{"drift":false,"expectedOwner":"php","filePath":"index.php","flags":[],"gone":false,"id":1,"#))
        #expect(text.contains(#""mtime":"2000-02-29T00:00:00Z""#))
    }
}
