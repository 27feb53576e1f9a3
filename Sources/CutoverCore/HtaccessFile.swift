/// What a docroot `.htaccess` does with mod_rewrite, as far as the export cares: per-directory
/// rewrite rules of a `.htaccess` replace those of the vhost's `<Directory>` block for every URL
/// below it (APACHE-NOTES), so the export must know where they are.
public struct HtaccessFile: Sendable, Hashable, Codable {
    /// The folder holding the file, relative to the docroot, without slashes at either end
    /// (`""` for the docroot itself, `blog`, `blog/wp-admin`).
    public var directory: String
    /// The last `RewriteEngine` setting in the file: true (on), false (off), nil (not set).
    public var rewriteEngine: Bool?
    /// Every `RewriteOptions` argument, lowercased (`inherit`, `ignoreinherit`, ...).
    public var rewriteOptions: [String]
    /// How many `RewriteRule` lines the file has.
    public var ruleCount: Int
    /// The argument of `FallbackResource`, when set.
    public var fallbackResource: String?

    public init(directory: String, rewriteEngine: Bool? = nil, rewriteOptions: [String] = [], ruleCount: Int = 0, fallbackResource: String? = nil) {
        self.directory = directory
        self.rewriteEngine = rewriteEngine
        self.rewriteOptions = rewriteOptions
        self.ruleCount = ruleCount
        self.fallbackResource = fallbackResource
    }

    /// Rewrite rules of its own: they replace the exported `<Directory>` rules below this folder.
    public var hasOwnRewriteRules: Bool { rewriteEngine == true }

    /// Options that stop the exported rules from being inherited here (the fallback then never
    /// applies below this folder), or that turn rewriting off entirely.
    public var blocksInheritance: String? {
        if rewriteEngine == false { return "RewriteEngine Off" }
        if rewriteOptions.contains("ignoreinherit") { return "RewriteOptions IgnoreInherit" }
        return nil
    }

    /// Reads the directives that matter from the file's text. Apache's syntax: one directive per
    /// line, a trailing `\` continues the line, `#` starts a comment line, names are
    /// case-insensitive. Directives inside `<IfModule !mod_rewrite.c>` and friends are counted
    /// as written (the common `<IfModule mod_rewrite.c>` wrapper is what real apps use).
    public static func parse(_ text: String, directory: String) -> HtaccessFile {
        var file = HtaccessFile(directory: directory)
        var logical: [String] = []
        var pending = ""
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            var line = Substring(rawLine)
            if line.hasSuffix("\\") {
                line.removeLast()
                pending += line + " "
                continue
            }
            logical.append(pending + line)
            pending = ""
        }
        if !pending.isEmpty { logical.append(pending) }
        for line in logical {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let name = words.first?.lowercased(), !name.hasPrefix("#") else { continue }
            let arguments = words.dropFirst().map { $0.trimmingCharacters(in: ["\""]) }
            switch name {
            case "rewriteengine": file.rewriteEngine = arguments.first?.lowercased() == "on"
            case "rewriteoptions": file.rewriteOptions += arguments.map { $0.lowercased() }
            case "rewriterule": file.ruleCount += 1
            case "fallbackresource": file.fallbackResource = arguments.first
            default: break
            }
        }
        return file
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Set<Character>) -> String {
        var slice = self
        while let first = slice.first, set.contains(first) { slice.removeFirst() }
        while let last = slice.last, set.contains(last) { slice.removeLast() }
        return String(slice)
    }
}
