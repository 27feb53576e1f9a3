import CutoverCore
import GRDB
import GRDBSQLite

/// One row of a URL page read in place from SQLite: text comes as the bytes SQLite holds,
/// without a `URLRecord`, `String`s or a `URLView` in between. The API's URL page is written
/// straight from these (scripts/bench-api.sh: decoding records and copying them into views was
/// about a third of the page's CPU time). Valid only inside the `forEachURL` callback.
public struct URLRow {
    /// The columns of `URLRecord.pageColumns`, by position.
    public enum Column: Int32 {
        case id, siteID, path, filePath, owner, plannedOwner, size, mtime, contentHash, firstSeenCrawl, changedCrawl, gone, flags
        case observedOwner, observedSource, lastStatus, lastLatencyMs, lastProbeRun, lastError, readyToFlip, drift, redirectTo
        /// The traffic columns `URLRecord.pageColumns` adds.
        case hits, lastSeen
    }

    let statement: SQLiteStatement

    public func isNull(_ column: Column) -> Bool {
        sqlite3_column_type(statement, column.rawValue) == SQLITE_NULL
    }

    public func int64(_ column: Column) -> Int64 {
        sqlite3_column_int64(statement, column.rawValue)
    }

    public func double(_ column: Column) -> Double {
        sqlite3_column_double(statement, column.rawValue)
    }

    public func bool(_ column: Column) -> Bool {
        int64(column) != 0
    }

    /// The UTF-8 bytes of a text column, nil for NULL.
    public func text(_ column: Column) -> UnsafeBufferPointer<UInt8>? {
        guard let bytes = sqlite3_column_text(statement, column.rawValue) else { return nil }
        return UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(statement, column.rawValue)))
    }

    /// An owner column; a value this version does not know throws, as `URLRecord(row:)` does.
    public func owner(_ column: Column) throws -> Owner? {
        try enumValue(column)
    }

    /// The `owner` column, which is never NULL in a sound database.
    public func requiredOwner() throws -> Owner {
        guard let owner = try owner(.owner) else { throw InvalidStoredValue(column: "owner", value: nil) }
        return owner
    }

    public func ownerSource(_ column: Column) throws -> OwnerSource? {
        try enumValue(column)
    }

    private func enumValue<Value: RawRepresentable<String>>(_ column: Column) throws -> Value? {
        guard let bytes = text(column) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let value = Value(rawValue: text) else { throw InvalidStoredValue(column: URLRecord.columns[Int(column.rawValue)], value: text) }
        return value
    }
}

extension AppDatabase {
    /// Calls `body` with each URL of a page, read in place (see `URLRow`), in one read
    /// transaction; the same rows, in the same order, as `urls(siteID:query:)`.
    public func forEachURL(siteID: Int64, query: URLQuery, _ body: (URLRow) throws -> Void) throws {
        let sql = URLQuerySQL(siteID: siteID, query: query)
        try writer.read { db in
            let statement = try db.cachedStatement(sql: sql.page)
            let rows = try Row.fetchCursor(statement, arguments: sql.arguments)
            let row = URLRow(statement: statement.sqliteStatement)
            while try rows.next() != nil {
                try body(row)
            }
        }
    }
}
