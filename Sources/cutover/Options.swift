import ArgumentParser
import CutoverCore
import CutoverStore
import Foundation
import Logging

/// Options every command shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "SQLite database file (default: $CUTOVER_DB, else ./cutover.sqlite).")
    var db: String = ProcessInfo.processInfo.environment["CUTOVER_DB"].flatMap { $0.isEmpty ? nil : $0 } ?? "cutover.sqlite"

    @Flag(name: .long, help: "Print machine-readable JSON instead of text.")
    var json = false

    @Option(name: .long, help: "Log level (trace, debug, info, notice, warning, error, critical).")
    var logLevel: Logger.Level = .warning

    /// Opens the database and marks crawls and probe runs left running by a dead process as interrupted.
    /// A command that only reads (`readOnly`) also works on a file or mount it cannot write.
    func openDatabase(readOnly: Bool = false) throws -> AppDatabase {
        let path = absolutePath(db)
        let directory = (path as NSString).deletingLastPathComponent
        let exists = FileManager.default.fileExists(atPath: path)
        if readOnly, exists, access(path, W_OK) != 0 || access(directory, W_OK) != 0 {
            return try AppDatabase(path: path, access: .readOnly)
        }
        let database = try AppDatabase(path: path)
        try database.recoverInterruptedRuns()
        return database
    }

    func logger(_ label: String = "cutover") -> Logger {
        var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = logLevel
        return logger
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Which site a command works on: a registered name, or settings given as flags.
struct SiteOptions: ParsableArguments {
    @Option(name: .long, help: "Name of a registered site (see 'cutover site list').")
    var site: String?

    @Option(name: .long, help: "Apache DocumentRoot of the site; registers or updates the site named by --site (default: 'default').")
    var docroot: String?

    @Option(name: .long, help: "Public URL where Apache answers.")
    var siteURL: String?

    @Option(name: .long, help: "URL where the Swift application answers directly.")
    var backendURL: String?

    @Option(name: .long, help: "Apache DirectoryIndex, space-separated.")
    var directoryIndex: String?

    @Option(name: .long, help: "File endings Apache runs through PHP, space-separated.")
    var phpExtensions: String?

    static let defaultSiteURL = "http://127.0.0.1/"
    static let defaultBackendURL = "http://127.0.0.1:8080/"

    /// Finds or registers the site these options name.
    func resolve(in database: AppDatabase) async throws -> SiteRecord {
        if let docroot {
            // Only what is given changes: a registered site keeps its schedule, owner header,
            // retention and the rest.
            let name = site ?? "default"
            var settings: SiteSettings
            do {
                settings = try await database.sites.named(name).settings
            } catch StoreError.unknownSite {
                settings = SiteSettings(name: name, docroot: docroot, publicURL: Self.defaultSiteURL, backendURL: Self.defaultBackendURL)
            }
            settings.docroot = absolutePath(docroot)
            if let siteURL { settings.publicURL = siteURL }
            if let backendURL { settings.backendURL = backendURL }
            if let directoryIndex { settings.directoryIndex = words(directoryIndex) }
            if let phpExtensions { settings.phpExtensions = words(phpExtensions) }
            return try await database.sites.save(settings)
        }
        if siteURL != nil || backendURL != nil || directoryIndex != nil || phpExtensions != nil {
            throw ValidationError(
                "--site-url, --backend-url, --directory-index and --php-extensions need --docroot; to change a registered site use 'cutover site add --replace'"
            )
        }
        if let site { return try await database.sites.named(site) }
        let all = try await database.sites.all()
        guard all.count == 1 else { throw StoreError.noSiteGiven(registered: all.map(\.name)) }
        return all[0]
    }
}

func words(_ text: String) -> [String] {
    text.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
}

/// Resolves a user-given path against the working directory.
func absolutePath(_ path: String) -> String {
    let expanded = (path as NSString).expandingTildeInPath
    if expanded.hasPrefix("/") { return URL(fileURLWithPath: expanded).standardizedFileURL.path }
    return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(expanded).standardizedFileURL.path
}

/// Which pages a command works on: URL paths, a prefix or a glob (`flip`, `parity`).
struct PageSelectionOptions: ParsableArguments {
    @Argument(help: "URL paths, e.g. /page-1.php or '/old page.php'.")
    var paths: [String] = []

    @Option(name: .long, help: "Every page whose path starts with this prefix.")
    var prefix: String?

    @Option(name: .long, help: "Every page whose path matches this glob (*, ?, [...]).")
    var glob: String?

    /// How many of the three forms were given.
    var given: Int { (paths.isEmpty ? 0 : 1) + (prefix == nil ? 0 : 1) + (glob == nil ? 0 : 1) }

    /// The selection given; nil when none is.
    var selection: URLSelection? { prefix.map { .prefix($0) } ?? glob.map { .glob($0) } ?? (paths.isEmpty ? nil : .paths(paths)) }
}
