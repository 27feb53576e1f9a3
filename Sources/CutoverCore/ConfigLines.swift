/// The last gate before rendered text leaves the renderer: whatever a stored row held, no line of
/// an export can hold a control character, and none can end with a backslash.
///
/// Apache ends a directive at a newline (a raw `\n` in a value is a new directive: `LoadModule`),
/// and joins a line that ends with `\` to the next one before it looks for comments (a comment
/// ending in `\` swallows the rule after it). Each value is checked where it is rendered; this
/// gate holds for every line of every form, comments included, so a form added later is covered
/// by construction.
public enum ConfigLines {
    public static func verify(_ lines: [String], mapFile: [UInt8]? = nil) throws {
        for (number, line) in lines.enumerated() {
            if let scalar = line.unicodeScalars.first(where: isControl) {
                throw ExportError.unsafeSetting(
                    "refusing to export: line \(number + 1) would hold a control character (U+\(String(scalar.value, radix: 16, uppercase: true))): "
                        + "'\(ConfigText.visible(line))'; a stored value was changed outside Cutover"
                )
            }
            if line.hasSuffix("\\") {
                throw ExportError.unsafeSetting(
                    "refusing to export: line \(number + 1) would end with a backslash, which joins it to the next line: '\(ConfigText.visible(line))'"
                )
            }
        }
        guard let mapFile else { return }
        for (number, line) in mapFile.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            if line.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
                throw ExportError.unsafeSetting("refusing to export: line \(number + 1) of the map file would hold a control character")
            }
        }
    }

    /// C0 controls and DEL; tab included (no Cutover line uses one). Apache reads bytes, so a C1
    /// character (UTF-8 `C2 85`) ends nothing.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7F
    }
}
