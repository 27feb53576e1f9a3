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
    /// The PHP script every URL without a file goes to, when the file makes the site a front
    /// controller app (WordPress, Laravel, DokuWiki with userewrite): `FallbackResource`, or a
    /// catch-all `RewriteRule` whose target is a `.php` script. A URL path (`/index.php`).
    public var frontController: String?

    public init(
        directory: String,
        rewriteEngine: Bool? = nil,
        rewriteOptions: [String] = [],
        ruleCount: Int = 0,
        fallbackResource: String? = nil,
        frontController: String? = nil
    ) {
        self.directory = directory
        self.rewriteEngine = rewriteEngine
        self.rewriteOptions = rewriteOptions
        self.ruleCount = ruleCount
        self.fallbackResource = fallbackResource
        self.frontController = frontController
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
            case "rewriterule":
                file.ruleCount += 1
                if file.frontController == nil, arguments.count >= 2, Self.catchAllPatterns.contains(arguments[0]) {
                    file.frontController = Self.script(arguments[1], directory: directory)
                }
            case "fallbackresource":
                file.fallbackResource = arguments.first
                if let target = arguments.first { file.frontController = Self.script(target, directory: directory) ?? file.frontController }
            default: break
            }
        }
        return file
    }

    /// Patterns that match every URL path (what front controllers write).
    static let catchAllPatterns: Set<String> = [".", "^", ".*", "^.*$", "^(.*)$", "(.*)", "^(.*)", "^(.+)$", ".+", "^/?(.*)$", "^(.*)/?$"]

    /// The `.php` script a rule or FallbackResource sends to, as a URL path; nil otherwise
    /// (`-`, a proxy or redirect target, a static file). Query and back-references are dropped.
    static func script(_ target: String, directory: String) -> String? {
        var path = Substring(target)
        if let query = path.firstIndex(of: "?") { path = path[..<query] }
        if let reference = path.firstIndex(of: "$") { path = path[..<reference] }
        while path.hasSuffix("/") { path = path.dropLast() }
        guard path.lowercased().hasSuffix(".php"), !path.contains("://"), !path.contains(where: \.isWhitespace) else { return nil }
        if path.hasPrefix("/") { return String(path) }
        return "/" + (directory.isEmpty ? "" : directory + "/") + path
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
