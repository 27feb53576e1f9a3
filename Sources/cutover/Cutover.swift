import ArgumentParser

@main
struct Cutover: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cutover",
        abstract: "Move a PHP site to Swift page by page, on one Apache httpd.",
        discussion: """
            Cutover records every URL of a PHP docroot in SQLite with its owner (php, swift or static), \
            probes who really answers, and exports the Apache directives that flip pages to Swift.
            """,
        subcommands: [
            CrawlCommand.self, ProbeCommand.self, StatusCommand.self, URLsCommand.self, FlipCommand.self, ExportCommand.self,
            ApplyCommand.self, SiteCommand.self,
        ]
    )
}
