/// What the docroot's `.htaccess` files mean for one export: the subdirectories that need their
/// own fallback block, notes for the reader, and conflicts that make the export not do what it
/// says (`export --check` fails on those).
package struct HtaccessFindings {
    package struct Subdirectory {
        /// Absolute folder path, for `<Directory>`.
        package var path: String
        /// Relative to the docroot, for messages.
        package var relative: String
    }

    package private(set) var subdirectoryBlocks: [Subdirectory] = []
    package private(set) var conflicts: [String] = []
    package private(set) var htaccessGuidance: [String] = []
    package private(set) var vhostNotes: [String] = []

    /// `directoryContext`: the export is itself a `.htaccess` (see `ExportFormRules`).
    /// `writesDirectoryBlocks` is false on a front-controller site, whose export has no `<Directory>`
    /// section: a folder name that could not be written into one is then no conflict.
    package init(_ files: [HtaccessFile], flips: [PageFlip], directoryContext: Bool, docroot: String, writesDirectoryBlocks: Bool = true) {
        let base = docroot.hasSuffix("/") ? String(docroot.dropLast()) : docroot
        let withRules = files.filter(\.hasOwnRewriteRules)
        for file in files {
            let shown = Self.shown(file.directory)
            if let option = file.blocksInheritance {
                conflicts.append(
                    directoryContext
                        ? "\(shown).htaccess sets '\(option)': no rule of this export applies to URLs below \(shown)"
                        : "\(shown).htaccess sets '\(option)': the fallback does not apply to URLs below \(shown) (flips still do)"
                )
            }
        }
        if directoryContext {
            if let root = withRules.first(where: { $0.directory.isEmpty }) {
                htaccessGuidance.append(
                    "# The docroot's .htaccess already has \(root.ruleCount) RewriteRule lines of the app: keep them at the marked place below."
                )
            }
            for file in withRules where !file.directory.isEmpty {
                let below = flips.filter { Self.isBelow($0.path, file.directory) }.map(\.path)
                guard !below.isEmpty else { continue }
                conflicts.append(
                    "\(Self.shown(file.directory)).htaccess has its own rewrite rules, which replace this file's below \(Self.shown(file.directory)): "
                        + "\(below.count) flipped pages there would stay PHP (\(below.prefix(3).joined(separator: ", "))); use the vhost or rewritemap form"
                )
            }
        } else {
            if !withRules.isEmpty {
                vhostNotes.append(
                    "# .htaccess files with their own rewrite rules: \(withRules.map { Self.shown($0.directory) }.joined(separator: ", ")). "
                        + "Their rules run before the fallback; flips run before them."
                )
            }
            for file in withRules where !file.directory.isEmpty && writesDirectoryBlocks {
                let path = base + "/" + file.directory
                if ConfigText.pathProblem(path) != nil || file.directory.contains(where: { "*?[]\u{FFFD}".contains($0) }) {
                    conflicts.append(
                        "\(Self.shown(file.directory)).htaccess has its own rewrite rules, but its folder name cannot be written into a <Directory> "
                            + "section safely: the fallback does not apply to URLs below it"
                    )
                    continue
                }
                subdirectoryBlocks.append(Subdirectory(path: path, relative: file.directory))
            }
        }
    }

    /// `/blog/` for `blog`, `/` for the docroot; control characters escaped.
    static func shown(_ directory: String) -> String {
        directory.isEmpty ? "/" : "/" + ConfigText.visible(directory) + "/"
    }

    static func isBelow(_ path: String, _ directory: String) -> Bool {
        // A query-identified page is where its script is.
        let script = path.firstIndex(of: "?").map { String(path[..<$0]) } ?? path
        guard let bytes = PathEncoding.decode(script) else { return false }
        let prefix = Array(("/" + directory + "/").utf8)
        return bytes.count >= prefix.count && Array(bytes[0..<prefix.count]) == prefix
    }
}
