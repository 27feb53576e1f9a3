import GRDB
import GRDBSQLite

/// A prepared GRDB statement executed many times with values bound straight through SQLite's
/// C API. Bulk writes of a crawl (100,000 rows and more) spent about a third of their time
/// building `StatementArguments` from arrays of existentials (perf); binding each value in
/// place costs a call. Use inside the transaction that prepared the statement.
struct BoundStatement {
    private let statement: Statement
    private let connection: SQLiteConnection
    private var index: Int32 = 0

    /// SQLite copies text it is given (SQLITE_TRANSIENT), so the caller's buffer may go away.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(_ db: Database, sql: String) throws {
        statement = try db.makeStatement(sql: sql)
        connection = db.sqliteConnection!
    }

    /// Binds the next parameter.
    mutating func bind(_ value: String?) {
        index += 1
        guard var value else {
            sqlite3_bind_null(statement.sqliteStatement, index)
            return
        }
        let position = index
        value.withUTF8 { bytes in
            _ = sqlite3_bind_text(statement.sqliteStatement, position, bytes.baseAddress, Int32(bytes.count), Self.transient)
        }
    }

    mutating func bind(_ value: Int64?) {
        index += 1
        if let value { sqlite3_bind_int64(statement.sqliteStatement, index, value) } else { sqlite3_bind_null(statement.sqliteStatement, index) }
    }

    mutating func bind(_ value: SiteID) {
        bind(value.rawValue)
    }

    mutating func bind(_ value: Int) {
        bind(Int64(value))
    }

    mutating func bind(_ value: Bool) {
        bind(Int64(value ? 1 : 0))
    }

    /// Binds bytes as a blob (copied by SQLite).
    mutating func bind(_ value: [UInt8]) {
        index += 1
        let position = index
        guard !value.isEmpty else {
            // A null pointer would bind NULL, not an empty blob.
            sqlite3_bind_zeroblob(statement.sqliteStatement, position, 0)
            return
        }
        value.withUnsafeBytes { bytes in
            _ = sqlite3_bind_blob(statement.sqliteStatement, position, bytes.baseAddress, Int32(bytes.count), Self.transient)
        }
    }

    mutating func bind(_ value: Double?) {
        index += 1
        if let value { sqlite3_bind_double(statement.sqliteStatement, index, value) } else { sqlite3_bind_null(statement.sqliteStatement, index) }
    }

    /// Runs the statement with the values bound since the last run, then readies it for the next.
    mutating func run() throws {
        defer {
            sqlite3_reset(statement.sqliteStatement)
            sqlite3_clear_bindings(statement.sqliteStatement)
            index = 0
        }
        let code = sqlite3_step(statement.sqliteStatement)
        guard code == SQLITE_DONE || code == SQLITE_ROW else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)), sql: statement.sql)
        }
    }
}
