import ArgumentParser
import CutoverAPI
import CutoverCore
import CutoverExport
import CutoverFleet
import CutoverStore
import Foundation

extension ExportForm: ExpressibleByArgument {}

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the Apache directives that make the live site match the plan.",
        discussion: """
            Forms: vhost (an Include for the vhost or a2enconf), htaccess (the docroot's .htaccess), \
            rewritemap (like vhost, with flips in a RewriteMap file that 'cutover apply' updates without a reload). \
            Every export is stored; --history lists them, --id N prints an earlier one for rollback.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var siteOptions: SiteOptions

    @Option(
        name: .long,
        help:
            "vhost, htaccess, rewritemap, dbm (a hashed map) or tree (marker files; --map-file names their folder); cutover apply writes the map of the last three."
    )
    var form: ExportForm = .vhost

    @Option(name: .long, help: "RewriteMap file path (rewritemap form).")
    var mapFile: String?

    @Option(name: .shortAndLong, help: "Write the directives to this file instead of standard output.")
    var output: String?

    @Flag(name: .long, help: "Run Apache's config test (apache2 -t) on the export; exit 1 when Apache rejects it.")
    var check = false

    @Flag(
        name: .long,
        help:
            "List every URL whose answer would change (owners against the last probe; before the first export, what the fallback takes over from Apache)."
    )
    var preview = false

    @Flag(name: .long, help: "Show what changed since the previous export of this form.")
    var diff = false

    @Flag(name: .long, help: "List stored exports.")
    var history = false

    @Flag(name: .long, help: "With --id N: make the plan export N was made from today's plan again (flips and redirects).")
    var restorePlan = false

    @Option(name: .long, help: "Print stored export N (to roll back, apply an earlier one).")
    var id: Int64?

    func validate() throws {
        if restorePlan, id == nil { throw ValidationError("--restore-plan goes with --id N (the export whose plan to restore)") }
        if form.usesMapFile, mapFile == nil, id == nil, !history, !preview {
            throw ValidationError("the \(form.rawValue) form needs --map-file PATH (where 'cutover apply' writes the map)")
        }
    }

    func run() async throws {
        // History, preview, stored exports and a read-only database's render need no write.
        let database = try global.openDatabase(readOnly: siteOptions.docroot == nil)
        let site = try await siteOptions.resolve(in: database)
        let exporter = Exporter(database: database)
        if history {
            let siteID = site.id
            let records = try await database.blocking { try $0.exports.list(siteID: siteID) }
            if global.json { return try Output.json(records.map(ExportItemView.init)) }
            for record in records {
                print("#\(record.id ?? 0)  \(Output.date(record.createdAt))  \(record.form.rawValue)  \(record.sha256.prefix(12))")
            }
            return
        }
        if preview {
            let changes = try await database.blocking { _ in try exporter.preview(site: site) }
            if global.json { return try Output.json(changes.map(OwnerChangeView.init)) }
            if changes.isEmpty { print("no URL would change owner") }
            for change in changes { print("\(change.path): \(change.beforeText) -> \(change.to.rawValue)") }
            return
        }
        if let id {
            let siteID = site.id
            guard let record = try await database.blocking({ try $0.exports.find(id: id, siteID: siteID) }) else {
                throw ValidationError("no export #\(id) for site \(site.name) (see --history)")
            }
            if restorePlan {
                let actor = ProcessInfo.processInfo.environment["USER"].map { "cli:\($0)" } ?? "cli"
                let restored = try await database.blocking { _ in try exporter.restorePlan(of: record, actor: actor) }
                // A rollback reaches a fleet's nodes like a flip: published at once when the site asks.
                let publish = await FleetPublisher(database: database, logger: global.logger()).publishIfAsked(site: site)
                if case .failed(let reason) = publish {
                    FileHandle.standardError.write(Data("warning: the plan is restored here but NOT published to the fleet: \(reason)\n".utf8))
                }
                if global.json { return try Output.json(restored) }
                print(
                    "the plan of export #\(id) is today's plan again: \(restored.toSwift.count) pages to Swift, \(restored.toPHP.count) back to PHP, "
                        + "\(restored.redirects.count) redirects"
                        + (restored.missing.isEmpty ? "" : "; no longer in the inventory: \(restored.missing.joined(separator: ", "))")
                )
                return
            }
            try emit(record.content)
            // Applying an old export with today's plan in force makes every probe report drift.
            if let difference = try await database.blocking({ _ in try exporter.planDifference(of: record) }), !difference.isEmpty {
                FileHandle.standardError.write(
                    Data(
                        ("note: export #\(id) was made from another plan (\(difference.toSwift.count) pages on Swift there, not in today's plan; "
                            + "\(difference.toPHP.count) on Swift today, not there; \(difference.redirects.count) redirects): applied as it is, "
                            + "probes report drift for them; make its plan today's with `cutover export --id \(id) --restore-plan`\n").utf8
                    )
                )
            }
            return
        }
        let mapPath = mapFile.map(absolutePath)
        if diff {
            // Against the newest stored export of this form, without storing anything.
            let result = try await database.blocking { [form] _ in try exporter.diffAgainstLatest(site: site, form: form, mapFilePath: mapPath) }
            if global.json { return try Output.json(ExportDiffView(result)) }
            guard let previous = result.previousID else {
                print("(no stored export of this form yet: the whole text is new)")
                print(result.diff)
                return
            }
            print(result.changed ? result.diff : "(the same as stored export #\(previous))")
            return
        }
        let (record, rendered): (ExportRecord, RenderedExport)
        if database.isReadOnly {
            // Rendered, not stored: the database cannot be written here.
            (record, rendered) = try await database.blocking { [form] _ in try exporter.render(site: site, form: form, mapFilePath: mapPath) }
            FileHandle.standardError.write(Data("note: the database is read-only here; this export is not stored\n".utf8))
        } else {
            (record, rendered) = try await database.blocking { [form] _ in try exporter.export(site: site, form: form, mapFilePath: mapPath) }
        }
        if check {
            let result = try ApacheConfigCheck().check(rendered, settings: site.settings, mapFilePath: mapPath)
            if global.json {
                try Output.json(result)
            } else if result.accepted {
                print("Apache accepts export #\(record.id ?? 0) (\(form.rawValue))")
            } else {
                print("Apache rejects export #\(record.id ?? 0)\(result.exportLine.map { " at line \($0)" } ?? ""): \(result.message)")
            }
            if !result.accepted { throw ExitCode(1) }
            return
        }
        try emit(record.content)
    }

    func emit(_ text: String) throws {
        if let output {
            try text.write(toFile: absolutePath(output), atomically: true, encoding: .utf8)
        } else {
            print(text, terminator: "")
        }
    }
}

struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Write the plan's flips for a map form (txt or dbm map file, or tree folder); Apache picks them up without a reload.",
        discussion: """
            Needs the rewritemap, dbm or tree export in place (cutover export --form rewritemap|dbm|tree --map-file PATH). \
            The dbm form's map is a GNU dbm hash file (one look-up per request whatever the number of flips); \
            both are written under a temporary name in the map's folder and renamed over the old one. \
            The tree form's map is a folder of empty marker files (one stat per request), changed page by page.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var siteOptions: SiteOptions

    @Option(name: .long, help: "The map file named in the export.")
    var mapFile: String

    @Option(name: .long, help: "rewritemap (a txt: map), dbm (a dbm=gdbm: hash file) or tree (a folder of marker files), as in the export.")
    var form: ExportForm = .rewritemap

    func validate() throws {
        guard form.usesMapFile else { throw ValidationError("--form must be rewritemap, dbm or tree: the \(form.rawValue) form has no map file") }
    }

    func run() async throws {
        let database = try global.openDatabase()
        let site = try await siteOptions.resolve(in: database)
        let path = absolutePath(mapFile)
        let form = form
        let (record, rendered) = try await database.blocking { try Exporter(database: $0).export(site: site, form: form, mapFilePath: path) }
        try Exporter.writeMap(rendered, to: path)
        if !global.json { print("wrote \(path) from export #\(record.id ?? 0)") }
    }
}
