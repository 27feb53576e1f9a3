import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real PostgreSQL from Debian's packages, with its own data directory and a free loopback
/// port, started and stopped by the test. `initdb` and `postgres` refuse to run as root (CI runs
/// as root), so they run as the `postgres` user through `runuser` then.
public final class PostgresServer: @unchecked Sendable {
    public let port: Int
    public let directory: TemporaryDirectory
    public var dataDirectory: String { directory.appending("data") }
    /// Connections as the superuser `postgres`, trusted on loopback (no password).
    public var url: String { "postgres://postgres@127.0.0.1:\(port)/postgres?connect_timeout=5&statement_timeout=20" }

    /// The newest installed server's programs (`/usr/lib/postgresql/15/bin`).
    public static var binaries: String? {
        let base = "/usr/lib/postgresql"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
        guard let version = names.compactMap({ Int($0) }).max() else { return nil }
        let directory = "\(base)/\(version)/bin"
        return FileManager.default.isExecutableFile(atPath: "\(directory)/postgres") ? directory : nil
    }

    public static var installed: Bool { binaries != nil }

    public init() throws {
        guard let binaries = Self.binaries else { throw HarnessError("PostgreSQL is not installed (apt-get install postgresql)") }
        port = try FreePort.find()
        directory = try TemporaryDirectory(prefix: "postgres")
        chmod(directory.path, 0o777)
        let result = try Self.asPostgres("\(binaries)/initdb", ["-D", dataDirectory, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
        guard result.status == 0 else { throw HarnessError("initdb failed: \(result.stdout)\(result.stderr)") }
    }

    /// Starts the server (`pg_ctl -w`: returns once it accepts connections).
    public func start() throws {
        let options = "-p \(port) -c listen_addresses=127.0.0.1 -k \(directory.path) -c fsync=off -c full_page_writes=off"
        // A launcher that leaves a daemon behind: spawned like `apache2 -k start`, so the server
        // cannot hold a pipe of ours open.
        let output = directory.appending("pg_ctl.out")
        var command = [
            "\(Self.binaries!)/pg_ctl", "-D", dataDirectory, "-o", options, "-l", directory.appending("server.log"), "-w", "-t", "30", "start",
        ]
        if Integration.isRoot { command = ["/usr/sbin/runuser", "-u", "postgres", "--"] + command }
        let status = try Subprocess.spawnDaemon(command[0], Array(command.dropFirst()), outputFile: output)
        guard status == 0 else {
            throw HarnessError("PostgreSQL did not start: \((try? String(contentsOfFile: output, encoding: .utf8)) ?? "")\(log())")
        }
    }

    /// Stops the server at once (`-m immediate`); a no-op when it is not running.
    public func stop() {
        _ = try? Self.asPostgres("\(Self.binaries!)/pg_ctl", ["-D", dataDirectory, "-m", "immediate", "-w", "stop"])
    }

    /// Freezes (SIGSTOP) or thaws (SIGCONT) the server's processes: a database that accepts
    /// connections and answers nothing, the slowest a database can be.
    public func freeze(_ frozen: Bool) {
        guard let text = try? String(contentsOfFile: "\(dataDirectory)/postmaster.pid", encoding: .utf8),
            let line = text.split(separator: "\n").first, let pid = pid_t(line)
        else { return }
        for process in [pid] + ApacheServer.children(of: pid) { kill(process, frozen ? SIGSTOP : SIGCONT) }
    }

    public func log() -> String { (try? String(contentsOfFile: directory.appending("server.log"), encoding: .utf8)) ?? "" }

    public func shutdown() {
        freeze(false)
        stop()
        directory.remove()
    }

    static func asPostgres(_ program: String, _ arguments: [String]) throws -> ProcessResult {
        if Integration.isRoot {
            return try Subprocess.run("/usr/sbin/runuser", ["-u", "postgres", "--", program] + arguments)
        }
        return try Subprocess.run(program, arguments)
    }
}

/// A TCP listener on loopback that accepts every connection and never answers: a database
/// behind a dead firewall rule or a hung proxy.
public final class BlackHoleListener: @unchecked Sendable {
    public let port: Int
    private let socketFD: Int32
    private let held = NSLock()
    private var connections: [Int32] = []
    private var stopped = false

    public init(port: Int? = nil) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        let chosen = try port ?? FreePort.find()
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(chosen).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 128) == 0 else {
            close(fd)
            throw HarnessError("cannot listen on 127.0.0.1:\(chosen): \(String(cString: strerror(errno)))")
        }
        self.port = chosen
        socketFD = fd
        let thread = Thread { [self] in
            while true {
                let client = accept(socketFD, nil, nil)
                held.lock()
                defer { held.unlock() }
                if stopped || client < 0 {
                    if client >= 0 { close(client) }
                    return
                }
                connections.append(client)
            }
        }
        thread.start()
    }

    /// Connections accepted so far.
    public var accepted: Int { held.withLock { connections.count } }

    public func stop() {
        held.withLock {
            stopped = true
            for connection in connections { close(connection) }
            connections = []
        }
        shutdown(socketFD, Int32(SHUT_RDWR))
        close(socketFD)
    }
}
