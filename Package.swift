// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "cutover",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cutover", targets: ["cutover"]),
        .executable(name: "cutover-demo-app", targets: ["DemoApp"]),
        .executable(name: "cutover-fuzz", targets: ["cutover-fuzz"]),
        .library(name: "CutoverCore", targets: ["CutoverCore"]),
        // Parity's comparison on its own (no server, no database): a Swift app's tests can call it.
        .library(name: "CutoverParity", targets: ["CutoverParity"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // Domain rules: owners, Apache URL mapping, escaping. Foundation only.
        .target(name: "CutoverCore"),
        // libxml2 (Debian's libxml2-dev): the HTML and XML parsers parity compares pages with.
        .systemLibrary(name: "CLibXML2", path: "Sources/CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        // GNU dbm: the hashed RewriteMap file of the dbm export form (`cutover apply --form dbm`).
        .systemLibrary(name: "CGDBM", path: "Sources/CGDBM", providers: [.apt(["libgdbm-dev"])]),
        // Parity (#27): two answers of a page as fields, compared with a third as the noise reference.
        .target(name: "CutoverParity", dependencies: ["CLibXML2"]),
        // SQLite storage (GRDB), schema from the top-level Migrations/ folder.
        .target(
            name: "CutoverStore",
            dependencies: [
                "CutoverCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, for reading a URL page in place (URLRow).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            resources: [.copy("../../Migrations")]
        ),
        // The API's shapes: types generated from the server's openapi.json (scripts/openapi-generate.sh,
        // committed),
        // and how records become them. The REST API and the CLI's --json both encode these.
        .target(
            name: "CutoverAPI",
            dependencies: [
                "CutoverCore", "CutoverStore", "CutoverExport",
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
            ]
        ),
        // statfs(2), which Swift's Glibc module lacks (the walker's pseudo file system check).
        .target(name: "CCutoverSys"),
        // Docroot walker: files on disk to an inventory of URLs.
        .target(
            name: "CutoverCrawl",
            dependencies: [
                "CutoverCore", "CutoverStore", "CCutoverSys",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // zlib, for gzip-compressed rotated access logs (needs zlib1g-dev).
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // Access-log import: Apache LogFormat strings, byte-level line parser, traffic per URL.
        .target(
            name: "CutoverLogs",
            dependencies: [
                "CutoverCore", "CutoverStore", "CZlib", "CCutoverSys",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Live prober: who really answers each URL (its own HTTP/1.1 connections on SwiftNIO).
        .target(
            name: "CutoverProbe",
            dependencies: [
                "CutoverCore", "CutoverStore", "CutoverAPI", "CutoverParity",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ]
        ),
        // Exports: render the plan, store and diff exports, Apache's config test, map files.
        .target(
            name: "CutoverExport",
            dependencies: [
                "CutoverCore", "CutoverStore", "CGDBM",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Several Apache nodes (#28): the plan published to PostgreSQL in one transaction, and the
        // node agent that keeps each node's hashed map in step with it (LISTEN/NOTIFY).
        .target(
            name: "CutoverFleet",
            dependencies: [
                "CutoverCore", "CutoverStore", "CutoverExport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        // Notifications (#29.4): webhooks signed with an HMAC of the body, retried with backoff.
        .target(
            name: "CutoverNotify",
            dependencies: [
                "CutoverCore", "CutoverStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // `cutover install`: the export live inside the <VirtualHost> that serves the site,
        // config-tested, reloaded, verified on fresh connections, rolled back when it fails.
        .target(
            name: "CutoverInstall",
            dependencies: [
                "CutoverCore", "CutoverStore", "CutoverExport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // `cutover serve`: REST API, auth, jobs, dashboard files (Hummingbird).
        .target(
            name: "CutoverServer",
            dependencies: [
                "CutoverCore", "CutoverStore", "CutoverAPI", "CutoverCrawl", "CutoverProbe", "CutoverExport", "CutoverLogs", "CutoverFleet",
                "CutoverNotify",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // The OpenAPI document, served at /api/openapi.json; CutoverAPI's types are generated from it.
            resources: [.copy("Resources/openapi.json")]
        ),
        .executableTarget(
            name: "cutover",
            dependencies: [
                "CutoverCore", "CutoverStore", "CutoverAPI", "CutoverCrawl", "CutoverProbe", "CutoverExport", "CutoverServer",
                "CutoverLogs", "CutoverInstall", "CutoverParity", "CutoverFleet", "CutoverNotify",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The demo's sample Swift app (docker/compose.yaml and scripts/demo.sh): a few pages of the
        // demo PHP site rewritten in Swift, with the owner marker.
        .executableTarget(
            name: "DemoApp",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `make fuzz`: the log-line parser and the query normaliser over generated hostile lines.
        .executableTarget(name: "cutover-fuzz", dependencies: ["CutoverLogs"]),
        // `make bench-parity`: parity's normalise-and-compare against libxml2 parsing the same pages.
        .executableTarget(name: "cutover-parity-bench", dependencies: ["CutoverParity", "CLibXML2"]),
        // Helpers for tests: a real Apache on loopback, a recording Swift backend, temp dirs.
        .target(
            name: "CutoverTestSupport",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/Support"
        ),
        // SiteSettingsTests also checks that what the validator accepts renders safely.
        .testTarget(name: "CutoverCoreTests", dependencies: ["CutoverCore", "CutoverExport"]),
        .testTarget(name: "CutoverExportTests", dependencies: ["CutoverCore", "CutoverExport"]),
        .testTarget(name: "CutoverParityTests", dependencies: ["CutoverParity"]),
        .testTarget(name: "CutoverInstallTests", dependencies: ["CutoverInstall"]),
        .testTarget(name: "CutoverFleetTests", dependencies: ["CutoverFleet"]),
        .testTarget(
            name: "CutoverServerTests",
            dependencies: [
                "CutoverServer", "CutoverStore", "CutoverAPI", "CutoverLogs", "CutoverCrawl", "CutoverTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "CutoverStoreTests", dependencies: ["CutoverStore", "CutoverTestSupport"]),
        .testTarget(name: "CutoverLogsTests", dependencies: ["CutoverCore", "CutoverLogs", "CutoverStore", "CutoverTestSupport"]),
        .testTarget(name: "CutoverCrawlTests", dependencies: ["CutoverCrawl", "CutoverStore", "CutoverTestSupport"]),
        // Runs the built `cutover` binary as a user would (exit codes, messages, kill -9 mid-crawl).
        .testTarget(name: "CLITests", dependencies: ["cutover", "CutoverStore", "CutoverTestSupport"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "CutoverCore", "CutoverStore", "CutoverCrawl", "CutoverProbe", "CutoverExport", "CutoverLogs", "CutoverInstall",
                "CutoverParity", "CutoverServer", "CutoverFleet", "CutoverNotify", "CutoverTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
    ]
)
