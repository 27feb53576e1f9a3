import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real Apache laid out like Debian's: `APACHE_CONFDIR` with `apache2.conf`, `envvars`,
/// `sites-available/` and `sites-enabled/` links, so `apache2ctl` (and `cutover install`) read
/// it as they read /etc/apache2. Vhost texts name the port as `{PORT}`.
public final class DebianApache: @unchecked Sendable {
    public let folder: TemporaryDirectory
    public let port: Int
    public var confdir: String { folder.appending("apache2") }
    public var environment: [String: String] { ["APACHE_CONFDIR": confdir, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"] }
    public var baseURL: String { "http://localhost:\(port)" }
    private var pid: pid_t?

    /// - Parameter sites: file name in sites-available and its text (`{PORT}` is replaced); each is enabled.
    public init(sites: [(String, String)]) throws {
        guard let php = ApacheServer.phpModule else { throw HarnessError("mod_php is not installed (apt-get install libapache2-mod-php)") }
        folder = try TemporaryDirectory(prefix: "debian-apache")
        port = try FreePort.find()
        let run = folder.appending("run")
        for directory in ["run", "lock", "log", "apache2/sites-available", "apache2/sites-enabled"] {
            try FileManager.default.createDirectory(atPath: folder.appending(directory), withIntermediateDirectories: true)
        }
        try folder.write(
            "apache2/envvars",
            """
            export APACHE_RUN_USER=www-data
            export APACHE_RUN_GROUP=www-data
            export APACHE_PID_FILE=\(run)/apache2.pid
            export APACHE_RUN_DIR=\(run)
            export APACHE_LOCK_DIR=\(folder.appending("lock"))
            export APACHE_LOG_DIR=\(folder.appending("log"))

            """
        )
        let modules = ["mpm_prefork", "authz_core", "dir", "mime", "alias", "rewrite", "proxy", "proxy_http", "headers", "setenvif"]
            .map { "LoadModule \($0)_module \(ApacheServer.modules)/mod_\($0).so" }.joined(separator: "\n")
        try folder.write(
            "apache2/apache2.conf",
            """
            DefaultRuntimeDir \(run)
            PidFile \(run)/apache2.pid
            User www-data
            Group www-data
            ServerName 127.0.0.1
            ErrorLog \(folder.appending("log"))/error.log
            LogLevel warn
            \(modules)
            LoadModule php_module \(php)
            TypesConfig /etc/mime.types
            StartServers 4
            MinSpareServers 4
            MaxSpareServers 8
            MaxRequestWorkers 16
            DirectoryIndex index.php index.html
            <FilesMatch "\\.php$">
                SetHandler application/x-httpd-php
            </FilesMatch>
            <Directory />
                AllowOverride None
                Require all denied
            </Directory>
            <Directory \(FileManager.default.temporaryDirectory.path)/>
                Options FollowSymLinks
                AllowOverride None
                Require all granted
            </Directory>
            Listen 127.0.0.1:\(port)
            IncludeOptional sites-enabled/*.conf

            """
        )
        for (name, text) in sites {
            try folder.write("apache2/sites-available/\(name)", text.replacingOccurrences(of: "{PORT}", with: String(port)))
            try FileManager.default.createSymbolicLink(atPath: "\(confdir)/sites-enabled/\(name)", withDestinationPath: "../sites-available/\(name)")
        }
    }

    public func errorLog() -> String { (try? String(contentsOfFile: folder.appending("log/error.log"), encoding: .utf8)) ?? "" }

    public func start() throws {
        let output = folder.appending("start.out")
        let status = try Subprocess.spawnDaemon(ApacheServer.binary, ["-d", confdir, "-k", "start"], outputFile: output)
        guard status == 0 else { throw HarnessError("apache2 failed to start: \((try? String(contentsOfFile: output, encoding: .utf8)) ?? "")") }
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if pid == nil, let text = try? String(contentsOfFile: folder.appending("run/apache2.pid"), encoding: .utf8) {
                pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            if pid != nil, FreePort.accepts(port: port) { return }
            usleep(20_000)
        }
        throw HarnessError("apache2 did not answer on port \(port): \(errorLog())")
    }

    public func stop() {
        guard let pid else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while ApacheServer.isRunning(pid), Date() < deadline { usleep(20_000) }
        if ApacheServer.isRunning(pid) { kill(pid, SIGKILL) }
        self.pid = nil
    }

    public func shutdown() {
        stop()
        folder.remove()
    }

    deinit { stop() }
}
