import ArgumentParser
import NIOCore
import NIOPosix

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
            ApplyCommand.self, PublishCommand.self, NodeAgentCommand.self, InstallCommand.self, SiteCommand.self, LogsCommand.self,
            ParityCommand.self, CanaryCommand.self, WebhookCommand.self, ServeCommand.self,
        ]
    )

    /// Swift Concurrency runs on NIO's event loops, so a probe's HTTP responses resume their
    /// tasks without a thread hop each (measured with scripts/bench-apache.py). Installed on the
    /// main thread before any task runs.
    static func main() async {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await main(nil)
    }
}
