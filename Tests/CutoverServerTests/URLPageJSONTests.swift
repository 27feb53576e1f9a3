import CutoverAPI
import CutoverCore
import CutoverTestSupport
import Foundation
import GRDB
import Testing

@testable import CutoverServer
@testable import CutoverStore

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
            $0.parity = .different
            $0.parityRun = 7
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
            // The other stored owner and source values, each read from SQLite's bytes.
            $0.plannedOwner = .static
            $0.observedOwner = .php
            $0.observedSource = .marker
            // Ready to flip: Swift answers and parity is the same.
            $0.readyToFlip = true
            $0.parity = .same
        },
    ]

    /// Stores `records` in a real database (site "demo").
    static func storedDatabase(_ prefix: String) async throws -> (TemporaryDirectory, AppDatabase, SiteID) {
        let folder = try TemporaryDirectory(prefix: prefix)
        let database = try AppDatabase(path: folder.appending("cutover.sqlite"))
        let site = try await database.sites.add(
            SiteSettings(name: "demo", docroot: folder.path, publicURL: "http://127.0.0.1:9", backendURL: "http://127.0.0.1:9")
        )
        try await database.writer.write { db in
            for var record in records {
                record.siteID = site.id
                try record.insert(db)
            }
        }
        // Two URLs were requested: the page shows their hits and when the last one was logged.
        var batch = TrafficBatch()
        for (path, hits, seen) in [("/index.php", 12, 1_764_000_123), ("/y2k", 1, 951_782_401)] {
            var counts = TrafficCounts()
            counts.hits = hits
            counts.status2xx = hits
            counts.firstSeen = seen - 60
            counts.lastSeen = seen
            batch.paths[path] = counts
        }
        _ = try storeCall { try database.traffic.record(batch, siteID: site.id) }
        return (folder, database, site.id)
    }

    /// A short page has no cursor; a full one in path order has its last path.
    @Test(arguments: [(100, nil), (4, "/y2k")]) func writerMatchesJSONEncoder(limit: Int, cursor: String?) async throws {
        let (folder, database, siteID) = try await Self.storedDatabase("pagejson")
        defer { withExtendedLifetime(folder) {} }
        let query = URLQuery(includeGone: true, limit: limit)
        var writer = URLPageWriter(limit: limit)
        try storeCall { try database.inventory.forEachURL(siteID: siteID, query: query) { try writer.append($0) } }
        let stored = try storeCall { try database.inventory.views(siteID: siteID, query: query) }
        #expect(stored.count == Self.records.count)
        #expect(writer.count == stored.count)
        let written = Array(writer.finish(offset: 7, total: 100_000).body.readableBytesView)
        let page = URLPageView(items: stored.map(URLView.init), limit: limit, nextCursor: cursor, offset: 7, total: 100_000)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let encoded = try encoder.encode(page)
        // The generated type's document, byte for byte.
        #expect(String(decoding: written, as: UTF8.self) == String(decoding: encoded, as: UTF8.self))
        let reference = try JSONSerialization.jsonObject(with: encoded) as? NSDictionary
        let parsed = try JSONSerialization.jsonObject(with: Data(written)) as? NSDictionary
        #expect(parsed != nil)
        #expect(parsed == reference)
        // And the generated type reads it back (its decoder refuses unknown keys) to the same
        // document (not the same value: ISO-8601 keeps whole seconds of an mtime).
        let decoded = try JSONDecoder.api.decode(URLPageView.self, from: Data(written))
        #expect(try encoder.encode(decoded) == encoded)
        // The same key order too, so the two are interchangeable byte for byte where numbers agree.
        let text = String(decoding: written, as: UTF8.self)
        #expect(text.hasPrefix(#"{"items":[{"contentHash":"abab"#))
        #expect(text.contains(#",{"drift":false,"expectedOwner":"php","filePath":"index.php","flags":[],"gone":false,"hits":12,"id":1,"#))
        #expect(text.contains(#""mtime":"2000-02-29T00:00:00Z""#))
        #expect(text.contains(#""gone":false,"hits":12,"id":1,"#) && text.contains(#""lastSeen":"2000-02-29T00:00:01Z""#))
        #expect(text.contains(#""lastError":"reset: \\ \"quoted\"\n\ttab \u0001 bell "#))
        // Ready to flip only where Swift answers and parity is the same.
        #expect(text.contains(#""owner":"php","parity":"different","path":"/%3Cimg%20src=x%3E.php","plannedOwner":"swift","readyToFlip":false,"#))
        #expect(text.contains(#""parity":"same","path":"/y2k","plannedOwner":"static","readyToFlip":true,"#))
        #expect(text.contains(#""swiftAnswers":true}"#) && text.contains(#""swiftAnswers":false}"#))
    }

    /// The page's cursor is the last row's path, and only on a full page.
    @Test func cursorIsTheLastPathOfAFullPage() async throws {
        let (folder, database, siteID) = try await Self.storedDatabase("pagecursor")
        defer { withExtendedLifetime(folder) {} }
        var full = URLPageWriter(limit: 2)
        var short = URLPageWriter(limit: 10)
        var unordered = URLPageWriter(limit: 2, wantsCursor: false)
        try storeCall { try database.inventory.forEachURL(siteID: siteID, query: URLQuery(includeGone: true, limit: 2)) { try full.append($0) } }
        try storeCall { try database.inventory.forEachURL(siteID: siteID, query: URLQuery(includeGone: true, limit: 10)) { try short.append($0) } }
        try storeCall { try database.inventory.forEachURL(siteID: siteID, query: URLQuery(includeGone: true, limit: 2)) { try unordered.append($0) } }
        #expect(full.count == 2)
        #expect(full.lastPath == "/index.php")
        #expect(short.lastPath == nil)
        #expect(unordered.lastPath == nil)
    }

    /// A value this version cannot hold is an error, as for `URLRecord(row:)`, not a document
    /// outside the API's schema.
    @Test func unknownStoredOwnerThrows() async throws {
        let (folder, database, siteID) = try await Self.storedDatabase("pagebad")
        defer { withExtendedLifetime(folder) {} }
        try await database.writer.write { db in
            try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
            try db.execute(sql: "UPDATE urls SET owner = 'perl' WHERE path = '/index.php'")
        }
        var writer = URLPageWriter(limit: 10)
        #expect(throws: InvalidStoredValue.self) {
            try database.inventory.forEachURL(siteID: siteID, query: URLQuery(includeGone: true, limit: 10)) { try writer.append($0) }
        }
    }

    /// The row reader's column positions are `URLRecord.columns`.
    /// Each `URLRow.Column` reads the column of its name, and all but the traffic pair are
    /// columns of `urls`.
    @Test func rowColumnsMatchTheirNames() {
        #expect(URLRow.names.count == URLRow.Column.allCases.count)
        for column in URLRow.Column.allCases {
            let snake = String(describing: column).reduce(into: "") { name, character in
                if character.isUppercase { name += "_" }
                name += character.lowercased()
            }
            #expect(URLRow.names[Int(column.rawValue)] == snake)
            if column != .hits, column != .lastSeen { #expect(URLRecord.columns.contains(snake)) }
        }
    }
}
