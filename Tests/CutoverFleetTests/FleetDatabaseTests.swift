import Foundation
import Testing

@testable import CutoverFleet

@Suite struct FleetDatabaseTests {
    @Test func urlOverridesTheEnvironment() throws {
        let settings = try FleetDatabase.parse(
            url: "postgres://routes%40x@db.example:6543/plans?sslmode=verify-full&connect_timeout=2.5&statement_timeout=3",
            environment: ["PGHOST": "other", "PGPORT": "5433", "PGUSER": "u", "PGDATABASE": "d", "PGSSLMODE": "disable"],
            passwordFile: nil
        )
        #expect(settings.host == "db.example")
        #expect(settings.port == 6543)
        #expect(settings.user == "routes@x")
        #expect(settings.database == "plans")
        #expect(settings.tls == .verifyFull)
        #expect(settings.connectTimeout == .milliseconds(2500))
        #expect(settings.statementTimeout == .seconds(3))
        #expect(settings.password == nil)
    }

    @Test func environmentAloneAndUnixSockets() throws {
        let settings = try FleetDatabase.parse(
            url: nil,
            environment: ["PGHOST": "/run/pg", "PGPORT": "5433", "PGUSER": "u", "PGCONNECT_TIMEOUT": "1"],
            passwordFile: nil
        )
        #expect(settings == FleetDatabase(host: "/run/pg", port: 5433, user: "u", database: "u", connectTimeout: .seconds(1)))
        #expect(settings.description == "postgres u@socket /run/pg/.s.PGSQL.5433/u (tls disable)")
        let socket = try FleetDatabase.parse(url: "postgresql:///routes?host=/tmp/pg&port=7000&user=agent", environment: [:], passwordFile: nil)
        #expect(socket.host == "/tmp/pg" && socket.port == 7000 && socket.user == "agent" && socket.database == "routes")
    }

    @Test func passwordsComeFromAFileOnly() throws {
        #expect(throws: FleetError.passwordInURL) { try FleetDatabase.parse(url: "postgres://u:secret@h/d", environment: [:], passwordFile: nil) }
        #expect(throws: FleetError.passwordInURL) { try FleetDatabase.parse(url: "postgres://u@h/d?password=x", environment: [:], passwordFile: nil) }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pw-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try "s3cret: with spaces\nignored\n".write(toFile: file, atomically: true, encoding: .utf8)
        // Like libpq's password file: one that group or others may read is refused (a secret
        // anyone can read is none, and a path naming some other file must not become a password).
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        #expect(throws: FleetError.invalidSetting("password file", "\(file) may be read by group or others: chmod 600 it")) {
            try FleetDatabase.parse(url: nil, environment: [:], passwordFile: file)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        let settings = try FleetDatabase.parse(url: "postgres://u@h/d", environment: [:], passwordFile: file)
        #expect(settings.password == "s3cret: with spaces")
        #expect(!settings.description.contains("s3cret"))
        let fromEnvironment = try FleetDatabase.parse(url: nil, environment: ["PGPASSWORD_FILE": file], passwordFile: nil)
        #expect(fromEnvironment.password == "s3cret: with spaces")
        #expect(throws: FleetError.self) { try FleetDatabase.parse(url: nil, environment: [:], passwordFile: "/nonexistent/pw") }
    }

    @Test(arguments: [
        "mysql://u@h/d", "postgres://u@h:0/d", "postgres://u@h/d?sslmode=prefer", "postgres://u@h/d?connect_timeout=-1",
        "postgres://u@h/d?connect_timeout=abc", "postgres://u@h/d?bogus=1", "not a url",
    ])
    func invalidSettingsAreRefusedWithTheReason(url: String) {
        #expect(throws: FleetError.self) { try FleetDatabase.parse(url: url, environment: [:], passwordFile: nil) }
    }
}
