import Foundation

/// Finds the files a PHP source includes, from its text: `include`, `include_once`, `require`
/// and `require_once` of an expression made of string literals, `__DIR__`, `dirname(__FILE__)`,
/// `dirname(__DIR__)` and constants the same file defines from those (`define('ROOT', __DIR__)`,
/// `const ROOT = __DIR__ . '/..';`), joined with `.`. Anything else (variables, function calls,
/// autoloaders) is counted as unresolved, never guessed.
package enum PHPIncludes {
    package struct Result: Sendable, Hashable {
        /// Absolute paths, `.` and `..` resolved (they may not exist).
        package var targets: [String] = []
        package var unresolved = 0
    }

    /// `source` of the file at `file` (an absolute path). Relative include paths are taken from
    /// the including file's folder, as PHP does for a script run from its own folder.
    package static func scan(_ source: String, file: String) -> Result {
        scan(Array(source.utf8), file: file)
    }

    /// Byte-level: one pass tells code from strings and comments and cuts out the statements
    /// that start with `include`, `require`, `define` or `const`; only those short texts are
    /// parsed (a whole-file regex took seconds per large file in a debug build).
    package static func scan(_ bytes: [UInt8], file: String) -> Result {
        let folder = (file as NSString).deletingLastPathComponent
        var constants: [String: String] = [:]
        var result = Result()
        let statements = bytes.withUnsafeBufferPointer { statementsOfInterest($0) }
        for statement in statements where statement.keyword == "define" || statement.keyword == "const" {
            let text = statement.text
            let parsed: (String, String)?
            if statement.keyword == "define" {
                parsed = text.firstMatch(of: definition).map { (String($0.output.1), String($0.output.2)) }
            } else {
                parsed = text.firstMatch(of: constDefinition).map { (String($0.output.1), String($0.output.2)) }
            }
            if let (name, expression) = parsed, let value = evaluate(expression, folder: folder, file: file, constants: constants) {
                constants[name] = value
            }
        }
        for statement in statements where statement.keyword != "define" && statement.keyword != "const" {
            var expression = statement.text.trimmingCharacters(in: .whitespacesAndNewlines)
            if expression.hasPrefix("("), expression.hasSuffix(")") { expression = String(expression.dropFirst().dropLast()) }
            guard let value = evaluate(expression, folder: folder, file: file, constants: constants) else {
                result.unresolved += 1
                continue
            }
            let absolute = value.hasPrefix("/") ? value : folder + "/" + value
            result.targets.append(normalized(absolute))
        }
        return result
    }

    struct Statement {
        var keyword: String
        /// For include/require: the expression after the keyword; for define/const: the whole statement.
        var text: String
    }

    static let keywords: [(String, [UInt8])] = ["include_once", "require_once", "include", "require", "define", "const"].map { ($0, Array($0.utf8)) }

    /// The statements of interest, outside strings and comments, in source order.
    static func statementsOfInterest(_ bytes: UnsafeBufferPointer<UInt8>) -> [Statement] {
        var found: [Statement] = []
        var index = 0
        let count = bytes.count
        func isWord(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F || byte >= 0x80
        }
        /// Skips a string starting at `index` (its quote); returns the index after it.
        func skipString(_ start: Int) -> Int {
            let quote = bytes[start]
            var position = start + 1
            while position < count {
                if bytes[position] == 0x5C {
                    position += 2
                    continue
                }
                if bytes[position] == quote { return position + 1 }
                position += 1
            }
            return count
        }
        while index < count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                index = skipString(index)
            case UInt8(ascii: "#"):
                while index < count, bytes[index] != 10 { index += 1 }
            case UInt8(ascii: "/") where index + 1 < count && bytes[index + 1] == UInt8(ascii: "/"):
                while index < count, bytes[index] != 10 {
                    if bytes[index] == UInt8(ascii: "?"), index + 1 < count, bytes[index + 1] == UInt8(ascii: ">") { break }
                    index += 1
                }
            case UInt8(ascii: "/") where index + 1 < count && bytes[index + 1] == UInt8(ascii: "*"):
                index += 2
                while index + 1 < count, !(bytes[index] == UInt8(ascii: "*") && bytes[index + 1] == UInt8(ascii: "/")) { index += 1 }
                index += 2
            default:
                guard isWord(byte), index == 0 || !isWord(bytes[index - 1]) else {
                    index += 1
                    continue
                }
                var matched: (String, Int)?
                for (name, word) in keywords where index + word.count <= count {
                    // PHP keywords ignore case.
                    if (0..<word.count).allSatisfy({
                        let b = bytes[index + $0]
                        return (b >= 0x41 && b <= 0x5A ? b | 0x20 : b) == word[$0]
                    }),
                        index + word.count == count || !isWord(bytes[index + word.count])
                    {
                        matched = (name, word.count)
                        break
                    }
                }
                guard let (name, length) = matched else {
                    while index < count, isWord(bytes[index]) { index += 1 }
                    continue
                }
                // The statement runs to `;` or `?>` outside strings, at most 1,000 bytes.
                let start = name == "define" || name == "const" ? index : index + length
                var end = index + length
                while end < count, end - start < 1000 {
                    let next = bytes[end]
                    if next == UInt8(ascii: "'") || next == UInt8(ascii: "\"") {
                        end = skipString(end)
                        continue
                    }
                    if next == UInt8(ascii: ";") { break }
                    if next == UInt8(ascii: "?"), end + 1 < count, bytes[end + 1] == UInt8(ascii: ">") { break }
                    end += 1
                }
                let end2 = min(end, count)
                found.append(Statement(keyword: name, text: String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end2]), as: UTF8.self)))
                index = end2
            }
        }
        return found
    }

    nonisolated(unsafe) static let definition = /^define\s*\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*,\s*(.+?)\s*\)\s*$/
    nonisolated(unsafe) static let constDefinition = /^const\s+([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+?)\s*$/

    /// The value of `expression` (terms joined by `.`), or nil when a term is not understood.
    static func evaluate(_ expression: String, folder: String, file: String, constants: [String: String]) -> String? {
        var value = ""
        for term in splitTerms(expression) {
            let term = term.trimmingCharacters(in: .whitespacesAndNewlines)
            let compact = term.replacingOccurrences(of: " ", with: "")
            if compact == "__DIR__" || compact == "dirname(__FILE__)" {
                value += folder
            } else if compact == "dirname(__DIR__)" || compact == "dirname(dirname(__FILE__))" || compact == "dirname(__FILE__,2)" {
                value += (folder as NSString).deletingLastPathComponent
            } else if compact == "__FILE__" {
                value += file
            } else if let literal = literal(term) {
                value += literal
            } else if let constant = constants[compact] {
                value += constant
            } else {
                return nil
            }
        }
        return value.isEmpty ? nil : value
    }

    /// `'text'` or `"text"` without variables or escapes it cannot read.
    static func literal(_ term: String) -> String? {
        guard term.count >= 2, let quote = term.first, quote == "'" || quote == "\"", term.last == quote else { return nil }
        let inner = term.dropFirst().dropLast()
        if inner.contains(quote) || inner.contains("\\") { return nil }
        if quote == "\"", inner.contains("$") { return nil }
        return String(inner)
    }

    /// Splits on `.` outside quotes and parentheses.
    static func splitTerms(_ expression: String) -> [String] {
        var terms: [String] = []
        var current = ""
        var quote: Character?
        var depth = 0
        for character in expression {
            if let open = quote {
                current.append(character)
                if character == open { quote = nil }
                continue
            }
            switch character {
            case "'", "\"":
                quote = character
                current.append(character)
            case "(":
                depth += 1
                current.append(character)
            case ")":
                depth -= 1
                current.append(character)
            case "." where depth == 0:
                terms.append(current)
                current = ""
            default:
                current.append(character)
            }
        }
        terms.append(current)
        return terms
    }

    /// `/a/b/../c/./d` → `/a/c/d`.
    static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." || part.isEmpty { continue }
            if part == ".." {
                _ = parts.popLast()
            } else {
                parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }
}
