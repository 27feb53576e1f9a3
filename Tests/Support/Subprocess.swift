import Foundation

/// Runs a program to completion and captures its output. For test set-up, not product code.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

public enum Subprocess {
    /// How long a child may run before it is stopped (SIGTERM, then SIGKILL 5 s later): a child
    /// that never exits (a server whose shutdown hangs) then fails its test instead of holding
    /// the whole test run until CI's limit.
    public static let timeLimit: DispatchTimeInterval = .seconds(300)

    @discardableResult
    public static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        currentDirectory: String? = nil
    )
        throws -> ProcessResult
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let finished = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            guard finished.wait(timeout: .now() + timeLimit) == .timedOut else { return }
            process.terminate()
            if finished.wait(timeout: .now() + 5) == .timedOut { kill(process.processIdentifier, SIGKILL) }
        }
        defer { finished.signal() }
        // Read both pipes before waiting so a chatty child never blocks on a full pipe.
        let errBox = DataBox()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { errBox.data = err.fileHandleForReading.readDataToEndOfFile() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let errData = errBox.data
        process.waitUntilExit()
        return ProcessResult(
            status: process.terminationStatus,
            stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self)
        )
    }

    /// `run` on a Dispatch thread: waiting for a child process must not hold one of Swift
    /// Concurrency's few threads (two on these machines), which in-process servers and probes of
    /// tests running in parallel need.
    @discardableResult
    public static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        currentDirectory: String? = nil
    )
        async throws -> ProcessResult
    {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result { try run(executable, arguments, environment: environment, currentDirectory: currentDirectory) as ProcessResult }
                )
            }
        }
    }

    /// Runs a launcher that leaves a daemon behind (`apache2 -k start`) and returns its exit status.
    ///
    /// Not Foundation's `Process`, for two reasons: the child would inherit the signal mask of a
    /// Dispatch worker thread (SIGTERM blocked, so the daemon could never be stopped), and
    /// `Process` learns of an exit through a socket the daemon inherits and keeps open.
    /// Output goes to `outputFile`. The child gets no other descriptor of this process (e.g. a
    /// test backend's listening socket), so the daemon cannot keep one open.
    public static func spawnDaemon(_ executable: String, _ arguments: [String], outputFile: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Every other descriptor is closed in the child only. (Marking this process's descriptors
        // close-on-exec instead raced with Foundation's Process: a child launched meanwhile lost
        // the socket by which Process learns of its exit, and Process's one monitor thread then
        // blocked in wait4 on that live child, hanging every other test's subprocess.)
        guard let closeFrom = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else {
            throw HarnessError("glibc 2.34 or later is needed (posix_spawn_file_actions_addclosefrom_np)")
        }
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        _ = unsafeBitCast(closeFrom, to: AddCloseFrom.self)(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard spawned == 0 else { throw HarnessError("cannot start \(executable): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        return (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }

    /// The `cutover` executable built beside the test bundle.
    public static var cutoverBinary: String {
        if let override = ProcessInfo.processInfo.environment["CUTOVER_BIN"] { return override }
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var folder = testBinary.deletingLastPathComponent()
        // The test bundle may be a directory (…/cutoverPackageTests.xctest/…) on some platforms.
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("cutover").path), folder.path != "/" {
            folder = folder.deletingLastPathComponent()
        }
        return folder.appendingPathComponent("cutover").path
    }
}

final class DataBox: @unchecked Sendable {
    var data = Data()
}
