import CutoverCore
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Printing helpers shared by the commands.
enum Output {
    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let data = try encoder.encode(value)
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    static func date(_ date: Date?) -> String {
        guard let date else { return "-" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

/// A one-line progress display on standard error, redrawn at most ten times a second, only on a terminal.
final class ProgressLine: Sendable {
    private let enabled: Bool
    /// When the line was last drawn, and whether it ever was.
    private let state = Mutex((lastDraw: Date.distantPast, drawn: false))

    init(enabled: Bool = Output.stderrIsTerminal) {
        self.enabled = enabled
    }

    func update(_ text: @autoclosure () -> String, force: Bool = false) {
        guard enabled else { return }
        state.withLock { state in
            let now = Date()
            guard force || now.timeIntervalSince(state.lastDraw) >= 0.1 else { return }
            state = (now, true)
            FileHandle.standardError.write(Data("\r\u{1B}[K\(text())".utf8))
        }
    }

    func finish() {
        guard enabled else { return }
        state.withLock { state in
            if state.drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        }
    }
}

/// Every text line the CLI prints goes through here: names come from the docroot, the database
/// and the network, so C0/C1 control characters (ESC, BEL, CSI, ...) are written `\xHH` and can
/// never retitle, clear or reprogram the user's terminal. Line breaks and tabs of the text itself
/// stay; `--json` output is exact and does not pass here.
func print(_ text: String, terminator: String = "\n") {
    Swift.print(ConfigText.visible(text, limit: .max, keepingLineBreaks: true), terminator: terminator)
}
