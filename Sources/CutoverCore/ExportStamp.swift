/// Every stored export carries its id in one header Apache adds to every answer, so whoever
/// reads an answer can tell which export produced it: `cutover install` waits for answers of the
/// new one (a graceful reload returns before new workers serve, and kept-alive connections still
/// reach old ones), and a probe knows which export was live when it observed a URL.
///
/// The stamp is two lines right after the owner marker; the export's hash is taken without them,
/// so the same plan rendered twice is one export.
public enum ExportStamp {
    public static let header = "X-Cutover-Export"
    static let comment = "# This export's id: Apache sends it with every answer (`cutover install` and probes read it)."

    /// `text` with the stamp of export `id` after its owner marker line (or first, when it has none).
    public static func stamp(_ text: String, id: Int64) -> String {
        var lines = strip(text).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let stampLines = [comment, "Header always set \(header) \"\(id)\""]
        if let marker = lines.firstIndex(of: ApacheSnippets.ownerMarker) {
            lines.insert(contentsOf: stampLines, at: marker + 1)
        } else {
            lines.insert(contentsOf: stampLines, at: 0)
        }
        return lines.joined(separator: "\n")
    }

    /// `text` without a stamp.
    public static func strip(_ text: String) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let index = lines.firstIndex(where: { $0 == comment }), index + 1 < lines.count,
            lines[index + 1].hasPrefix("Header always set \(header) ")
        else { return text }
        var kept = lines
        kept.removeSubrange(index...(index + 1))
        return kept.joined(separator: "\n")
    }

    /// The export id a stamped text carries.
    public static func id(in text: String) -> Int64? {
        let prefix = "Header always set \(header) \""
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return nil }
        return Int64(line.dropFirst(prefix.count).dropLast())
    }
}
