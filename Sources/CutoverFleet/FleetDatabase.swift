import Foundation
import Logging
import NIOCore
import NIOSSL
import PostgresNIO

/// Where a fleet's route table lives (#28): a PostgreSQL server named by a URL
/// (`postgres://cutover@db.example:5432/routes?sslmode=require&connect_timeout=5`) or by the
/// usual environment (`PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`, `PGSSLMODE`,
/// `PGCONNECT_TIMEOUT`), the URL winning. The password is read from a file (`--password-file`,
/// or `PGPASSWORD_FILE`), never from a URL or a command line, which `ps` shows to every user.
package struct FleetDatabase: Sendable, Equatable, CustomStringConvertible {
    /// `disable`: plain TCP (loopback, a private network). `require`: TLS, any certificate, as
    /// libpq's `require`. `verify-full`: TLS with the certificate checked against the system's
    /// trust store and the host name.
    package enum TLSMode: String, Sendable, CaseIterable {
        case disable, require
        case verifyFull = "verify-full"
    }

    /// A host name or address; a path is the folder of PostgreSQL's Unix socket.
    package var host: String
    package var port: Int
    package var user: String
    package var database: String
    package var password: String?
    package var tls: TLSMode
    /// How long a connection attempt may take (TCP and the start-up exchange).
    package var connectTimeout: Duration
    /// How long one statement may run, on the server (`statement_timeout`) and as a deadline
    /// here, so a server that accepts and never answers cannot hold a publish or an agent.
    package var statementTimeout: Duration

    package init(
        host: String = "/var/run/postgresql",
        port: Int = 5432,
        user: String = "cutover",
        database: String? = nil,
        password: String? = nil,
        tls: TLSMode = .disable,
        connectTimeout: Duration = .seconds(5),
        statementTimeout: Duration = .seconds(10)
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.database = database ?? user
        self.password = password
        self.tls = tls
        self.connectTimeout = connectTimeout
        self.statementTimeout = statementTimeout
    }

    /// Reads the settings from `url` (if any) over `environment`; the password from
    /// `passwordFile` (or `PGPASSWORD_FILE`): its first line, without the newline.
    package static func parse(url: String?, environment: [String: String], passwordFile: String?) throws -> FleetDatabase {
        var result = FleetDatabase(
            host: environment["PGHOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "/var/run/postgresql",
            user: environment["PGUSER"].flatMap { $0.isEmpty ? nil : $0 } ?? "cutover",
            database: environment["PGDATABASE"].flatMap { $0.isEmpty ? nil : $0 }
        )
        if let port = environment["PGPORT"], !port.isEmpty { result.port = try parsePort(port) }
        if let mode = environment["PGSSLMODE"], !mode.isEmpty { result.tls = try parseTLS(mode) }
        if let timeout = environment["PGCONNECT_TIMEOUT"], !timeout.isEmpty { result.connectTimeout = try parseSeconds(timeout, "PGCONNECT_TIMEOUT") }
        if let url { try result.apply(url: url) }
        if let path = passwordFile ?? environment["PGPASSWORD_FILE"].flatMap({ $0.isEmpty ? nil : $0 }) {
            result.password = try readPassword(path)
        }
        return result
    }

    private mutating func apply(url text: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            scheme == "postgres" || scheme == "postgresql"
        else { throw FleetError.invalidSetting("database URL", "expected postgres://USER@HOST:PORT/DATABASE") }
        guard components.password == nil else { throw FleetError.passwordInURL }
        if let name = components.user, !name.isEmpty {
            user = name.removingPercentEncoding ?? name
            database = user
        }
        if let host = components.host, !host.isEmpty { self.host = host }
        if let port = components.port { self.port = try Self.parsePort(String(port)) }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        if !path.isEmpty { database = path.removingPercentEncoding ?? path }
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode": tls = try Self.parseTLS(value)
            case "connect_timeout": connectTimeout = try Self.parseSeconds(value, "connect_timeout")
            case "statement_timeout": statementTimeout = try Self.parseSeconds(value, "statement_timeout")
            case "host": host = value  // libpq's spelling for a Unix socket folder
            case "port": port = try Self.parsePort(value)
            case "user": user = value
            case "dbname": database = value
            case "password": throw FleetError.passwordInURL
            default: throw FleetError.invalidSetting("database URL", "unknown parameter '\(item.name)'")
            }
        }
        guard !user.isEmpty, !database.isEmpty, !host.isEmpty else {
            throw FleetError.invalidSetting("database URL", "user, host and database must not be empty")
        }
    }

    private static func parsePort(_ text: String) throws -> Int {
        guard let port = Int(text), (1...65535).contains(port) else { throw FleetError.invalidSetting("port", "'\(text)' is not a TCP port") }
        return port
    }

    private static func parseTLS(_ text: String) throws -> TLSMode {
        guard let mode = TLSMode(rawValue: text) else {
            throw FleetError.invalidSetting("sslmode", "'\(text)': use \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return mode
    }

    private static func parseSeconds(_ text: String, _ what: String) throws -> Duration {
        guard let seconds = Double(text), seconds > 0, seconds <= 3600 else {
            throw FleetError.invalidSetting(what, "'\(text)' is not a number of seconds between 0 and 3600")
        }
        return .milliseconds(Int64((seconds * 1000).rounded(.up)))
    }

    /// The first line of the file at `path`, which must be a regular file that only its owner
    /// may read (as libpq's password file): a secret anyone may read is none, and a path that
    /// names some other file (`/etc/shadow`) must not end up sent to a server as a password.
    private static func readPassword(_ path: String) throws -> String {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw FleetError.invalidSetting("password file", "\(path) cannot be read") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw FleetError.invalidSetting("password file", "\(path) is not a regular file") }
        guard info.st_mode & 0o077 == 0 else {
            throw FleetError.invalidSetting("password file", "\(path) may be read by group or others: chmod 600 it")
        }
        do {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            return String(text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        } catch {
            throw FleetError.invalidSetting("password file", "\(path) cannot be read")
        }
    }

    /// The settings without the password (for logs and messages).
    package var description: String {
        let place = host.hasPrefix("/") ? "socket \(host)/.s.PGSQL.\(port)" : "\(host):\(port)"
        return "postgres \(user)@\(place)/\(database) (tls \(tls.rawValue))"
    }

    /// Opens a connection and sets the server-side statement timeout.
    package func connect(logger: Logger) async throws -> PostgresConnection {
        var configuration: PostgresConnection.Configuration
        if host.hasPrefix("/") {
            configuration = .init(unixSocketPath: "\(host)/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: try tlsSetting())
        }
        configuration.options.connectTimeout = .milliseconds(connectTimeout.wholeMilliseconds)
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        } catch {
            throw FleetError.unreachable(description, String(reflecting: error))
        }
        do {
            try await FleetDeadline.within(statementTimeout, what: "SET statement_timeout") {
                try await connection.query(PostgresQuery(unsafeSQL: "SET statement_timeout = \(statementTimeout.wholeMilliseconds)"), logger: logger)
            }
        } catch {
            try? await connection.close()
            throw error
        }
        return connection
    }

    private func tlsSetting() throws -> PostgresConnection.Configuration.TLS {
        switch tls {
        case .disable:
            return .disable
        case .require:
            var settings = TLSConfiguration.makeClientConfiguration()
            settings.certificateVerification = .none
            return .require(try NIOSSLContext(configuration: settings))
        case .verifyFull:
            return .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    package var wholeMilliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}

/// Runs an operation with a deadline: a server that accepted the connection and stopped
/// answering must not hold a publish or an agent for ever.
enum FleetDeadline {
    @discardableResult
    static func within<T: Sendable>(_ limit: Duration, what: String, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: limit)
                throw FleetError.timedOut(what, limit)
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw CancellationError() }
            return first
        }
    }
}

/// What went wrong talking to the fleet's database, in words for the person running it.
package enum FleetError: Error, Equatable, CustomStringConvertible {
    case invalidSetting(String, String)
    case passwordInURL
    case unreachable(String, String)
    case timedOut(String, Duration)
    case query(String, String)

    package var description: String {
        switch self {
        case .invalidSetting(let what, let why): "invalid \(what): \(why)"
        case .passwordInURL:
            "the database URL must not carry a password (a command line is visible to every user): put it in a file and pass --password-file"
        case .unreachable(let place, let why): "cannot connect to \(place): \(why)"
        case .timedOut(let what, let limit): "\(what) got no answer within \(limit.wholeMilliseconds) ms"
        case .query(let what, let why): "\(what) failed: \(why)"
        }
    }
}
