import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A real Apache httpd with mod_php, mod_rewrite, mod_proxy and mod_headers, started on a free
/// loopback port from a generated config, and stopped by PID. Each instance owns its own
/// config, pid file and logs in a temporary folder.
public final class ApacheServer: @unchecked Sendable {
    public static let binary = "/usr/sbin/apache2"
    public static let modules = "/usr/lib/apache2/modules"

    /// Debian names the PHP module after its version (libphp8.2.so).
    public static var phpModule: String? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: modules)) ?? []
        return names.filter { $0.hasPrefix("libphp") && $0.hasSuffix(".so") }.sorted().last.map { "\(modules)/\($0)" }
    }

    public let docroot: String
    public let port: Int
    public let workDirectory: TemporaryDirectory
    public var configPath: String { workDirectory.appending("httpd.conf") }
    public var errorLogPath: String { workDirectory.appending("error.log") }
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    private var pid: pid_t?

    /// - Parameters:
    ///   - docroot: the DocumentRoot; must be readable by www-data.
    ///   - directoryConfig: directives placed inside `<Directory DOCROOT>` (e.g. the fallback).
    ///   - serverConfig: directives placed at server level (e.g. a vhost include, RewriteMap).
    /// Prefork children are started up front: a client holding keep-alive connections (the
    /// prober) otherwise starves while Apache slowly spawns more workers.
    public init(docroot: String, directoryConfig: String = "", serverConfig: String = "", maxWorkers: Int = 48) throws {
        self.docroot = docroot
        self.workDirectory = try TemporaryDirectory(prefix: "apache")
        self.port = try FreePort.find()
        try Self.config(
            port: port,
            docroot: docroot,
            runDirectory: workDirectory.path,
            directoryConfig: directoryConfig,
            serverConfig: serverConfig,
            maxWorkers: maxWorkers
        ).write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// A self-contained config: no /etc/apache2/apache2.conf, no envvars, only the modules named here.
    public static func config(
        port: Int,
        docroot: String,
        runDirectory: String,
        directoryConfig: String,
        serverConfig: String,
        maxWorkers: Int = 48
    ) throws -> String {
        guard let php = phpModule else { throw HarnessError("mod_php is not installed (apt-get install libapache2-mod-php)") }
        let moduleLines = [
            "mpm_prefork", "authz_core", "dir", "mime", "rewrite", "proxy", "proxy_http", "headers", "setenvif",
        ].map { "LoadModule \($0)_module \(modules)/mod_\($0).so" }.joined(separator: "\n")
        return """
            ServerRoot "/etc/apache2"
            ServerName 127.0.0.1
            Listen 127.0.0.1:\(port)
            PidFile "\(runDirectory)/httpd.pid"
            DefaultRuntimeDir "\(runDirectory)"
            ErrorLog "\(runDirectory)/error.log"
            LogLevel warn
            User www-data
            Group www-data
            \(moduleLines)
            LoadModule php_module \(php)
            TypesConfig /etc/mime.types
            StartServers \(maxWorkers / 2)
            MinSpareServers \(maxWorkers / 4)
            MaxSpareServers \(maxWorkers / 2)
            ServerLimit \(maxWorkers)
            MaxRequestWorkers \(maxWorkers)
            KeepAlive On
            LogFormat "%h \\"%r\\" %>s" short
            CustomLog "\(runDirectory)/access.log" short
            DocumentRoot "\(docroot)"
            DirectoryIndex index.php index.html
            <FilesMatch ".+\\.php$">
                SetHandler application/x-httpd-php
            </FilesMatch>
            <Directory />
                AllowOverride None
                Require all denied
            </Directory>
            \(serverConfig)
            <Directory "\(docroot)">
                Options FollowSymLinks
                AllowOverride None
                Require all granted
            \(directoryConfig)
            </Directory>

            """
    }

    /// Adds directives at the end of the server config (takes effect on the next reload).
    public func appendToConfig(_ directives: String) throws {
        let current = try String(contentsOfFile: configPath, encoding: .utf8)
        try (current + "\n" + directives + "\n").write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// Runs `apache2 -t` on this server's config; returns Apache's output when it refuses it.
    public func configTest() throws -> ProcessResult {
        try Subprocess.run(Self.binary, ["-t", "-f", configPath])
    }

    /// Starts the server and waits until its port answers.
    public func start() throws {
        let outputPath = workDirectory.appending("start.out")
        let status = try Subprocess.spawnDaemon(Self.binary, ["-f", configPath, "-k", "start"], outputFile: outputPath)
        guard status == 0 else {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            throw HarnessError("apache2 failed to start (\(status)): \(text)\(log())")
        }
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if pid == nil, let text = try? String(contentsOfFile: workDirectory.appending("httpd.pid"), encoding: .utf8) {
                pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            if pid != nil, FreePort.accepts(port: port) { return }
            usleep(20_000)
        }
        throw HarnessError("apache2 did not answer on port \(port) within 15 s: \(log())")
    }

    /// `apache2 -k graceful`: re-reads the config the server was started with. Returns once the
    /// parent has logged that it resumed with the new configuration (AH00163, logged at any
    /// LogLevel), every child of the old generation has exited (one still blocked in accept()
    /// would otherwise answer a new connection with the old rules), and the port answers:
    /// events, not a guess at how long a reload takes.
    public func gracefulReload() throws {
        let resumed = { self.log().components(separatedBy: "resuming normal operations").count - 1 }
        let before = resumed()
        let oldChildren = pid.map(Self.children(of:)) ?? []
        let outputPath = workDirectory.appending("graceful.out")
        let status = try Subprocess.spawnDaemon(Self.binary, ["-f", configPath, "-k", "graceful"], outputFile: outputPath)
        guard status == 0 else {
            throw HarnessError("graceful reload failed: \((try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")")
        }
        let deadline = Date().addingTimeInterval(15)
        while resumed() <= before || oldChildren.contains(where: Self.isRunning) || !FreePort.accepts(port: port) {
            guard Date() < deadline else { throw HarnessError("apache2 did not resume within 15 s of a graceful reload: \(log())") }
            usleep(5_000)
        }
    }

    /// The processes whose parent is `parent` (from /proc/PID/stat).
    static func children(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let child = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == parent ? child : nil
        }
    }

    /// Stops the server by PID and waits until it has exited and its port is closed.
    public func stop() {
        guard let pid else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while Self.isRunning(pid), Date() < deadline { usleep(20_000) }
        if Self.isRunning(pid) { kill(pid, SIGKILL) }
        while FreePort.accepts(port: port), Date() < deadline { usleep(20_000) }
        self.pid = nil
    }

    /// True while `pid` exists and is not a zombie. The daemon's parent is the sandbox's init,
    /// which may reap late, so a zombie counts as stopped.
    public static func isRunning(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }
        return !stat[stat.index(close, offsetBy: 2)...].hasPrefix("Z")
    }

    /// Stops the server and deletes its config and logs.
    public func shutdown() {
        stop()
        workDirectory.remove()
    }

    public func log() -> String {
        (try? String(contentsOfFile: errorLogPath, encoding: .utf8)) ?? ""
    }

    deinit { stop() }
}

public struct HarnessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Loopback ports for servers started by tests.
public enum FreePort {
    /// A port nothing listens on, below the kernel's ephemeral range (32768-60999): a port bound
    /// to 0 comes from that range, which outgoing connections also draw from, so a probe's
    /// connection could take it before the test's server bound it ("Address already in use").
    /// Never the same port twice in one test process: between `find` and the server's bind, a
    /// port is free to anyone, and with every live suite starting servers at once two of them
    /// drew the same one ("Address already in use", once in CI).
    public static func find() throws -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: 20_000..<32_768)
            guard handedOut.withLock({ $0.insert(port).inserted }) else { continue }
            if try canBind(port) { return port }
        }
        throw HarnessError("no free port in 20000-32767")
    }

    private static let handedOut = Mutex<Set<Int>>([])

    static func canBind(_ port: Int) throws -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        return withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 }
        }
    }

    /// True when something accepts TCP connections on 127.0.0.1:port.
    public static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
