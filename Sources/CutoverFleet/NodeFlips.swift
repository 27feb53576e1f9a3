import CutoverCore
import CutoverExport

/// Where a node keeps its flips for Apache, with the plan version they are from: one kind per
/// export form an agent can keep (the form's export reads the same place).
package protocol NodeFlips: Sendable {
    /// The map file or the marker folder.
    var path: String { get }
    /// The plan version the flips are from (nil: none there, or not written by an agent).
    func servedVersion() -> Int64?
    /// Makes `keys` the node's flips, from plan `version`, so that Apache sees the old flips or
    /// the new ones.
    func write(keys: [[UInt8]], version: Int64) throws
}

/// The flips of `form` at `path`; nil for a form no agent keeps (rules, `txt:` maps, `.htaccess`).
package func nodeFlips(form: ExportForm, path: String) -> (any NodeFlips)? {
    switch form {
    case .dbm: HashedMapFlips(path: path)
    case .tree: MarkerTreeFlips(path: path)
    case .vhost, .htaccess, .rewritemap: nil
    }
}

/// The dbm form: one GNU dbm file, written under a temporary name and renamed; the version is
/// the key `cutover:plan` (request paths start with `/`, so it never collides with a page).
struct HashedMapFlips: NodeFlips {
    static let planKey = "cutover:plan"
    let path: String

    func servedVersion() -> Int64? { HashedMapFile.value(forKey: Self.planKey, in: path).flatMap { Int64($0) } }

    func write(keys: [[UInt8]], version: Int64) throws {
        try HashedMapFile.write(keys: keys, extra: [(Self.planKey, String(version))], to: path)
    }
}

/// The tree form: a marker file per flipped page, written page by page, the version beside the
/// folder once they are all there.
struct MarkerTreeFlips: NodeFlips {
    let path: String

    func servedVersion() -> Int64? { MarkerTree.servedVersion(path).flatMap { Int64($0) } }

    func write(keys: [[UInt8]], version: Int64) throws { try MarkerTree.write(keys: keys, to: path, version: String(version)) }
}
