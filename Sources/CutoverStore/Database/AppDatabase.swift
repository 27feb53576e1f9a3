import CutoverCore
import Foundation
import GRDB

/// The wall clock, injectable: `.system` reads `Date()`, `.fixed` always answers one instant.
package struct WallClock: Sendable {
    package let now: @Sendable () -> Date

    package init(now: @escaping @Sendable () -> Date) {
        self.now = now
    }

    package static let system = WallClock { Date() }

    package static func fixed(_ date: Date) -> WallClock {
        WallClock { date }
    }
}

/// Owns the SQLite connection pool and the schema. The rest of the code asks it for reads and
/// writes by intent; no other type issues SQL.
package struct AppDatabase: Sendable {
    let writer: any DatabaseWriter
    /// Opened `.readOnly`: reading commands work, writes fail.
    package private(set) var isReadOnly = false
    /// Where every time the store records comes from (started, finished, flipped at); tests set
    /// a fixed one.
    package var clock: WallClock = .system
    /// Connections of their own for the threads that read URL pages (`forEachURL`); nil when the
    /// writer is no pool on a file (an in-memory queue in tests, a read-only open).
    let threadReaders: ThreadReaders?

    /// How a database file is opened.
    package enum Access: Sendable {
        /// Create and migrate as needed (every command that writes).
        case readWrite
        /// Never write: for reading commands on a read-only file or mount. The schema must be current.
        case readOnly
    }

    /// Opens (creating if needed) the database at `path` in WAL mode and migrates it to the
    /// newest schema. A second process (cron's CLI while `serve` runs) waits on the busy timeout
    /// instead of failing with "database is locked". A database written by a newer Cutover is
    /// refused before anything is written.
    package init(path: String, migrateUpTo target: String? = nil, access: Access = .readWrite) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw StoreError.databaseDirectoryMissing(directory)
        }
        do {
            switch access {
            case .readWrite:
                // Opening a pool writes (GRDB makes sure the WAL file is not empty): look at the
                // schema through a read-only connection first.
                if FileManager.default.fileExists(atPath: path), let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int,
                    size > 0
                {
                    let probe = try Self.openReadOnly(path: path)
                    try Self.refuseNewerSchema(probe, migrator: try Self.migrator())
                    try probe.close()
                }
                // Created 0600: it holds what access logs and settings say about the site. SQLite
                // gives the -wal and -shm files the main file's mode.
                if !FileManager.default.fileExists(atPath: path) {
                    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
                    if fd >= 0 { close(fd) }
                }
                let pool = try DatabasePool(path: path, configuration: Self.configuration())
                try self.init(writer: pool, migrateUpTo: target)
            case .readOnly:
                guard FileManager.default.fileExists(atPath: path) else { throw StoreError.cannotOpen(path: path, reason: "no such file") }
                try self.init(readOnlyWriter: try Self.openReadOnly(path: path))
            }
        } catch let error as DatabaseError {
            throw StoreError.cannotOpen(path: path, reason: error.message ?? "\(error)")
        }
    }

    /// Wraps an existing writer (a `DatabaseQueue` in tests) and migrates it.
    package init(writer: any DatabaseWriter, migrateUpTo target: String? = nil) throws {
        self.writer = writer
        threadReaders = (writer as? DatabasePool).map { ThreadReaders(path: $0.path) }
        let migrator = try Self.migrator()
        try Self.refuseNewerSchema(writer, migrator: migrator)
        // A writer made elsewhere (a test's queue) lacks the functions `configuration()` adds.
        writer.writeWithoutTransaction { db in
            db.add(function: Self.nameFlags)
            db.add(function: Self.latencyMerge)
        }
        let before = try writer.read { db in try migrator.appliedIdentifiers(db) }
        if let target {
            try migrator.migrate(writer, upTo: target)
        } else {
            try migrator.migrate(writer)
        }
        // The Swift steps of migrations applied now, once the whole schema is there (a step
        // runs today's store code, which may read columns of later migrations).
        let applied = try writer.read { db in try migrator.appliedIdentifiers(db) }
        let steps = applied.subtracting(before).sorted().compactMap { Self.afterMigration[$0] }
        if target == nil, !steps.isEmpty {
            try writer.write { db in for step in steps { try step(db) } }
        }
        // The schema check above opened a reader on the old schema. SQLite re-prepares its first
        // statement after a migration that added columns, but GRDB keeps the column names it
        // prepared with, so `SELECT *` would miss the new columns once: start readers afresh.
        (writer as? DatabasePool)?.invalidateReadOnlyConnections()
    }

    private init(readOnlyWriter: any DatabaseWriter) throws {
        writer = readOnlyWriter
        threadReaders = nil
        isReadOnly = true
        let migrator = try Self.migrator()
        try Self.refuseNewerSchema(writer, migrator: migrator)
        guard try writer.read({ db in try migrator.hasCompletedMigrations(db) }) else {
            throw StoreError.schemaOutdated
        }
    }

    /// A database that a newer Cutover migrated holds tables this version does not know how to
    /// keep consistent: refuse it with one line, before any write.
    static func refuseNewerSchema(_ writer: any DatabaseWriter, migrator: DatabaseMigrator) throws {
        let known = Set(migrator.migrations)
        let unknown = try writer.read { db in try migrator.appliedIdentifiers(db) }.subtracting(known)
        if !unknown.isEmpty { throw StoreError.newerSchema(unknown.sorted()) }
    }

    /// A read-only connection. On a read-only mount a WAL database cannot create its `-shm`
    /// file, so SQLite refuses the plain read-only open; the file is then opened `immutable`
    /// (no locking, no WAL: what was checkpointed is what is read).
    static func openReadOnly(path: String) throws -> DatabaseQueue {
        var config = configuration()
        config.readonly = true
        do {
            let queue = try DatabaseQueue(path: path, configuration: config)
            _ = try queue.read { db in try db.tableExists("sites") }
            return queue
        } catch {
            let encoded = path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "?#%"))) ?? path
            let queue = try DatabaseQueue(path: "file:\(encoded)?immutable=1", configuration: config)
            _ = try queue.read { db in try db.tableExists("sites") }
            return queue
        }
    }

    static func configuration() -> Configuration {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(30)
        config.label = "cutover"
        // WAL with synchronous=NORMAL: a commit no longer waits for an fsync (only checkpoints do).
        // A crash of the process loses nothing; a power cut may lose the last commits, never the
        // file. With the default (FULL) the commit at the end of a probe waited 39 ms in fdatasync.
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            db.add(function: nameFlags)
            db.add(function: latencyMerge)
        }
        return config
    }

    /// `cutover_name_flags(path)`: the hidden and sensitive flags of a URL path, as the crawl
    /// gives a file (`ApacheMapping.flags(ofURLPath:)`), for URLs known from the logs.
    static let nameFlags = DatabaseFunction("cutover_name_flags", argumentCount: 1, pure: true) { values in
        guard let path = String.fromDatabaseValue(values[0]) else { return 0 }
        return ApacheMapping.flags(ofURLPath: path).rawValue
    }

    /// `cutover_latency_merge(a, b)`: two stored `LatencyHistogram`s added (`traffic_sides`); a
    /// blob it cannot read counts as empty.
    static let latencyMerge = DatabaseFunction("cutover_latency_merge", argumentCount: 2, pure: true) { values in
        var merged = LatencyHistogram()
        for value in values {
            if let data = Data.fromDatabaseValue(value), let histogram = LatencyHistogram(encoded: data) { merged.merge(histogram) }
        }
        return Data(merged.encoded)
    }

    /// The migrations in `Migrations/*.sql`, registered in file-name order; identifiers are
    /// the file names without `.sql`, so they are stable once shipped.
    package static func migrator() throws -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for file in try migrationFiles() {
            let sql = try String(contentsOf: file, encoding: .utf8)
            let identifier = file.deletingPathExtension().lastPathComponent
            migrator.registerMigration(identifier) { db in try db.execute(sql: sql) }
        }
        return migrator
    }

    /// Steps a migration needs that SQL alone cannot express: flags worked out by the store's own
    /// rules, recomputed for every site once the schema holds them (run after the last migration,
    /// never by a partial `migrateUpTo`).
    static let afterMigration: [String: @Sendable (Database) throws -> Void] = [
        "0022_progress_truth": { db in
            for siteID in try SiteID.fetchAll(db, sql: "SELECT id FROM sites") { try InventoryRules.markNeverPages(db, siteID: siteID) }
        },
        "0023_detected_front_controller": { db in
            for siteID in try SiteID.fetchAll(db, sql: "SELECT id FROM sites") where try InventoryRules.syncRouteOwners(db, siteID: siteID) > 0 {
                try InventoryRules.refreshDrift(db, siteID: siteID)
                try InventoryRules.markAliases(db, siteID: siteID)
                try InventoryRules.markNeverPages(db, siteID: siteID)
            }
        },
    ]

    /// The migration file URLs, sorted by name.
    package static func migrationFiles() throws -> [URL] {
        guard let folder = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            throw StoreError.migrationsMissing
        }
        return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "sql" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }
}

package enum StoreError: Error, CustomStringConvertible, Equatable {
    case databaseDirectoryMissing(String)
    case cannotOpen(path: String, reason: String)
    case migrationsMissing
    case unknownSite(String)
    case siteExists(String)
    case invalidSite([String])
    case noSiteGiven(registered: [String])
    case newerSchema([String])
    case schemaOutdated
    /// Another import of the same log file stored a stretch first; this one stored nothing.
    case concurrentLogImport(String)
    /// `logs reset` of a file that was never imported.
    case unknownLogFile(String)
    /// `logs reset` of a file whose stretches counted requests: reading it again would count them twice.
    case logFileCounted(String, Int)

    package var description: String {
        switch self {
        case .databaseDirectoryMissing(let directory): "database folder '\(directory)' does not exist"
        case .cannotOpen(let path, let reason): "cannot open database '\(path)': \(reason)"
        case .migrationsMissing: "the Migrations resource bundle is missing: keep cutover_CutoverStore.resources beside the binary"
        case .unknownSite(let name): "unknown site '\(name)' (see 'cutover site list')"
        case .siteExists(let name): "a site named '\(name)' already exists"
        case .invalidSite(let problems): problems.joined(separator: "; ")
        case .newerSchema(let identifiers):
            "this database was written by a newer Cutover: migrations \(identifiers.joined(separator: ", ")) unknown; use that version or a backup"
        case .schemaOutdated:
            "this read-only database needs its schema updated: run any writing command (e.g. 'cutover crawl') once with write access"
        case .concurrentLogImport(let path):
            "\(path): another import of this file (a second `cutover logs import`, or the logs job of `cutover serve`) stored it first; "
                + "this run stored nothing more, so no line is counted twice: run it again to continue where that one stopped"
        case .unknownLogFile(let path): "\(path): no import of this file is remembered for the site"
        case .logFileCounted(let path, let lines):
            "\(path): refusing to reset: its imports counted \(lines) lines; reading it again would count them twice"
        case .noSiteGiven(let registered):
            registered.isEmpty
                ? "no site registered: give --docroot (and --site-url, --backend-url) or run 'cutover site add'"
                : "several sites are registered (\(registered.joined(separator: ", "))): choose one with --site"
        }
    }
}

extension StoreError: ReportedError {
    package var kind: ErrorKind {
        switch self {
        case .unknownSite: .notFound
        case .siteExists: .conflict
        case .invalidSite: .invalid
        default: .failed
        }
    }
}
