import CutoverCore
import Foundation

package enum ExportCheckError: Error, CustomStringConvertible, Equatable {
    case apacheMissing(String)
    case cannotWrite(String, String)

    package var description: String {
        switch self {
        case .apacheMissing(let binary): "cannot check: \(binary) is not installed (apt-get install apache2 libapache2-mod-php)"
        case .cannotWrite(let path, let reason): "cannot write '\(path)': \(reason)"
        }
    }
}

/// Apache's verdict on an export.
package struct ConfigCheckResult: Sendable, Hashable, Codable {
    package var accepted: Bool
    /// Line of the export Apache rejected, when it names one.
    package var exportLine: Int?
    package var message: String
}

/// Runs Apache's own config test (`apache2 -t`) on an export wrapped in a minimal config with
/// the modules it needs, in the context Apache will read it: the vhost and rewritemap forms
/// inside a `<VirtualHost>` (rules in server context never reach a vhost, and Debian serves
/// every site from one), `.htaccess` content inside a `<Directory>` section (Apache's `-t` never
/// reads .htaccess files itself).
package struct ApacheConfigCheck: Sendable {
    package var binary: String
    package var modules: String

    package init(binary: String = "/usr/sbin/apache2", modules: String = "/usr/lib/apache2/modules") {
        self.binary = binary
        self.modules = modules
    }

    package var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    package func check(_ export: RenderedExport, settings: SiteSettings, mapFilePath: String?) throws -> ConfigCheckResult {
        guard isAvailable else { throw ExportCheckError.apacheMissing(binary) }
        // The docroot goes into this config too: the same refusal as in the export itself.
        let docroot = try ApacheEscaping.quotedPath(settings.docroot, what: "docroot")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let modules = ["mpm_prefork", "authz_core", "dir", "mime", "rewrite", "proxy", "proxy_http", "headers", "setenvif"]
            .map { "LoadModule \($0)_module \(self.modules)/mod_\($0).so" }
        var prologue =
            [
                "ServerRoot \"/etc/apache2\"", "ServerName 127.0.0.1", "Listen 127.0.0.1:9", "PidFile \"\(folder.path)/httpd.pid\"",
                "ErrorLog \"\(folder.path)/error.log\"", "User www-data", "Group www-data",
            ] + modules
        var body = export.text
        if export.form.isDirectoryContext {
            prologue += ["DocumentRoot \(docroot)", "<Directory \(docroot)>"]
            body += "</Directory>\n"
        } else {
            prologue += ["<VirtualHost 127.0.0.1:9>", "ServerName check.invalid", "DocumentRoot \(docroot)"]
            body += "</VirtualHost>\n"
        }
        if let map = export.mapFile, let mapFilePath, !export.form.rules.mapScheme.isEmpty,
            !FileManager.default.fileExists(atPath: mapFilePath)
        {
            // RewriteMap needs its file to exist: check against the map about to be written, kept
            // in the temporary folder so the check never writes next to the real map.
            let copy = folder.appendingPathComponent("flips.map").path
            let rules = export.form.rules
            try rules.writeMap(map, to: copy)
            body = body.replacingOccurrences(of: "\(rules.mapScheme):\(mapFilePath)\"", with: "\(rules.mapScheme):\(copy)\"")
        }
        if export.canaries != nil, let mapFilePath, !FileManager.default.fileExists(atPath: mapFilePath + ".buckets") {
            // The canaries' bucket map likewise, when it is not written yet (their weights are
            // files Apache only tests).
            let copy = folder.appendingPathComponent("flips.buckets").path
            try Exporter.writeMapFile(CanaryRules.bucketsFile, to: copy)
            let named = try ApacheEscaping.quotedPath(mapFilePath + ".buckets", what: "bucket map").dropFirst().dropLast()
            body = body.replacingOccurrences(of: "\"rnd:\(named)\"", with: "\"rnd:\(copy)\"")
        }
        let config = folder.appendingPathComponent("check.conf")
        try (prologue.joined(separator: "\n") + "\n" + body).write(to: config, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["-t", "-f", config.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let verdict = Self.verdict(status: process.terminationStatus, output: text, prologueLines: prologue.count)
        guard verdict.accepted, !export.conflicts.isEmpty else { return verdict }
        // Apache accepts the text, but a .htaccess in the docroot would keep it from working.
        return ConfigCheckResult(accepted: false, exportLine: nil, message: "a .htaccess overrides it: " + export.conflicts.joined(separator: "; "))
    }

    /// "AH00526: Syntax error on line N of FILE" names a line of the wrapped config; AH00111
    /// (an undefined `${VAR}`) is only a warning to Apache but a broken export to us.
    static func verdict(status: Int32, output: String, prologueLines: Int) -> ConfigCheckResult {
        let trimmed = output.trimmingCharacters(in: .whitespacesAndNewlines)
        if let range = trimmed.range(of: #"line (\d+) of"#, options: .regularExpression) {
            let number = Int(trimmed[range].split(separator: " ")[1]).map { $0 - prologueLines }
            return ConfigCheckResult(accepted: false, exportLine: number, message: trimmed)
        }
        if status != 0 || trimmed.contains("AH00111") {
            return ConfigCheckResult(accepted: false, exportLine: nil, message: trimmed)
        }
        return ConfigCheckResult(accepted: true, exportLine: nil, message: trimmed)
    }
}
