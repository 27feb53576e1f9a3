import Foundation

package enum InstallError: Error, CustomStringConvertible {
    case apacheMissing(String)
    case apache(command: String, output: String)
    case cannotRead(String, String)
    case cannotWrite(String, String)
    case noVirtualHost(VirtualHostRefusal)
    /// Apache refused the edited config; every file is as it was, nothing was reloaded.
    case configTestFailed(output: String)
    /// The reloaded site did not answer as the export says; the files were restored and Apache reloaded again.
    case verificationFailed(checks: [LiveCheck], restored: Bool)

    package var description: String {
        switch self {
        case .apacheMissing(let binary): "\(binary) is not installed (apt-get install apache2)"
        case .apache(let command, let output): "\(command) failed: \(output.trimmingCharacters(in: .whitespacesAndNewlines))"
        case .cannotRead(let path, let reason): "cannot read \(path): \(reason)"
        case .cannotWrite(let path, let reason):
            "cannot write \(path): \(reason)" + (getuid() == 0 ? "" : " (install edits Apache's config: run it as root)")
        case .noVirtualHost(let refusal): "no <VirtualHost> chosen, nothing changed: \(refusal)"
        case .configTestFailed(let output):
            "Apache rejects the config with the include; every file is as it was and nothing was reloaded:\n"
                + output.trimmingCharacters(in: .whitespacesAndNewlines)
        case .verificationFailed(let checks, let restored):
            "the live site does not answer as the export says; "
                + (restored ? "rolled back (files restored, Apache reloaded):" : "rolling back FAILED, check the files named above:")
                + checks.filter { !$0.passed }.map { "\n  \($0.path): \($0.detail)" }.joined()
        }
    }
}
