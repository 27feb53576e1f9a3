import Foundation

/// Runs Debian's `apache2ctl` (which reads `APACHE_CONFDIR` and `envvars` like the service does).
package struct ApacheControl: Sendable {
    package var binary: String
    /// Where `mod_info.so` is, for `-D DUMP_CONFIG`.
    package var modules: String

    package init(binary: String = "/usr/sbin/apache2ctl", modules: String = "/usr/lib/apache2/modules") {
        self.binary = binary
        self.modules = modules
    }

    package struct Result: Sendable {
        package var status: Int32
        package var output: String
    }

    package func run(_ arguments: [String]) throws -> Result {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw InstallError.apacheMissing(binary)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: text)
    }

    /// Every `<VirtualHost>` with its names (`-S`) and, where mod_info is installed, its directives
    /// with variables expanded (`-D DUMP_CONFIG`, which also names each directive's file and line).
    package func virtualHosts() throws -> [VirtualHost] {
        let summary = try run(["-S"])
        guard summary.status == 0 else { throw InstallError.apache(command: "apache2ctl -S", output: summary.output) }
        var hosts = VirtualHostListing.parse(summary: summary.output)
        let info = "\(modules)/mod_info.so"
        if FileManager.default.fileExists(atPath: info) {
            let dump = try run(["-C", "LoadModule info_module \(info)", "-t", "-D", "DUMP_CONFIG"])
            if dump.status == 0 { VirtualHostListing.addDirectives(from: dump.output, to: &hosts) }
        }
        return hosts
    }

    package func configTest() throws -> Result { try run(["configtest"]) }

    package func graceful() throws {
        let result = try run(["graceful"])
        guard result.status == 0 else { throw InstallError.apache(command: "apache2ctl graceful", output: result.output) }
    }
}
