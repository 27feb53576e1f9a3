import CutoverCore
import GRDB
import GRDBSQLite

/// One row of a URL page read in place from SQLite: text comes as the bytes SQLite holds,
/// without a `URLRecord`, `String`s or a `URLEntry` in between. The API's URL page is written
/// straight from these (scripts/bench-api.sh: decoding records and copying them into views was
/// about a third of the page's CPU time). Valid only inside the `forEachURL` callback.
package struct URLRow {
    /// The columns a row holds (`selection`), by position: what the API shows of a URL, not every
    /// column of `URLRecord` (each column SQLite reads costs every row of every page).
    package enum Column: Int32, CaseIterable {
        case id, path, filePath, owner, plannedOwner, size, mtime, contentHash, gone, flags
        case observedOwner, observedSource, lastStatus, lastLatencyMs, lastError, readyToFlip, drift, redirectTo, parity
        /// The URL's traffic (`URLRecord.pageColumns`).
        case hits, lastSeen
    }

    /// The column each `Column` reads, by position.
    package static let names = [
        "id", "path", "file_path", "owner", "planned_owner", "size", "mtime", "content_hash", "gone", "flags", "observed_owner",
        "observed_source", "last_status", "last_latency_ms", "last_error", "ready_to_flip", "drift", "redirect_to", "parity", "hits",
        "last_seen",
    ]

    /// The select list, in `Column` order.
    static let selection = names.map { "urls." + $0 }.joined(separator: ", ")

    let statement: SQLiteStatement

    package func isNull(_ column: Column) -> Bool {
        sqlite3_column_type(statement, column.rawValue) == SQLITE_NULL
    }

    package func int64(_ column: Column) -> Int64 {
        sqlite3_column_int64(statement, column.rawValue)
    }

    package func double(_ column: Column) -> Double {
        sqlite3_column_double(statement, column.rawValue)
    }

    package func bool(_ column: Column) -> Bool {
        int64(column) != 0
    }

    /// The UTF-8 bytes of a text column, nil for NULL.
    package func text(_ column: Column) -> UnsafeBufferPointer<UInt8>? {
        guard let bytes = sqlite3_column_text(statement, column.rawValue) else { return nil }
        return UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(statement, column.rawValue)))
    }

    /// An owner column; a value this version does not know throws, as `URLRecord(row:)` does.
    /// Matched on SQLite's bytes: a String and `init(rawValue:)` per column were a twentieth of
    /// the URL page's CPU (perf).
    package func owner(_ column: Column) throws -> Owner? {
        guard let bytes = text(column) else { return nil }
        if bytes.equals("php") { return .php }
        if bytes.equals("swift") { return .swift }
        if bytes.equals("static") { return .static }
        throw invalid(column, bytes)
    }

    /// The `owner` column, which is never NULL in a sound database.
    package func requiredOwner() throws -> Owner {
        guard let owner = try owner(.owner) else { throw InvalidStoredValue(column: "owner", value: nil) }
        return owner
    }

    package func ownerSource(_ column: Column) throws -> OwnerSource? {
        guard let bytes = text(column) else { return nil }
        if bytes.equals("marker") { return .marker }
        if bytes.equals("guessed") { return .guessed }
        throw invalid(column, bytes)
    }

    /// The `parity` column: the latest verdict, nil until a run compared the page.
    package func parity() throws -> PageParity? {
        guard let bytes = text(.parity) else { return nil }
        for verdict in PageParity.allCases where bytes.elementsEqual(verdict.rawValue.utf8) { return verdict }
        throw invalid(.parity, bytes)
    }

    private func invalid(_ column: Column, _ bytes: UnsafeBufferPointer<UInt8>) -> InvalidStoredValue {
        InvalidStoredValue(column: Self.names[Int(column.rawValue)], value: String(decoding: bytes, as: UTF8.self))
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// Whether these bytes are `text`'s UTF-8.
    fileprivate func equals(_ text: StaticString) -> Bool {
        guard count == text.utf8CodeUnitCount else { return false }
        let expected = text.utf8Start
        for index in 0..<count where self[index] != expected[index] { return false }
        return true
    }
}

extension InventoryStore {
    /// Calls `body` with each URL of a page, read in place (see `URLRow`); the same rows, in the
    /// same order, as `urls(siteID:query:)`. One statement, so SQLite's own statement transaction
    /// gives it one snapshot: GRDB's explicit BEGIN and COMMIT around it (`read`) were a twentieth
    /// of the page's CPU (perf), and `unsafeRead` leaves them out. Read on the calling thread's
    /// own connection when it has one (`ThreadReaders`).
    @available(*, noasync)
    package func forEachURL(siteID: SiteID, query: URLQuery, _ body: (URLRow) throws -> Void) throws {
        let sql = URLQuerySQL(siteID: siteID, query: query)
        let reader: any DatabaseReader = threadReaders?.connection() ?? writer
        try reader.unsafeRead { db in
            let statement = try db.cachedStatement(sql: sql.select(URLRow.selection))
            let rows = try Row.fetchCursor(statement, arguments: sql.arguments)
            let row = URLRow(statement: statement.sqliteStatement)
            while try rows.next() != nil {
                try body(row)
            }
        }
    }
}
