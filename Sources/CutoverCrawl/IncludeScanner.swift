import CutoverStore
import Foundation

/// Reads the site's PHP sources for the files they include (`PHPIncludes`) after a crawl: only
/// files whose content changed since they were last read, each at most `maxBytes`.
package struct IncludeScanner: Sendable {
    package let database: AppDatabase
    package static let maxBytes = 1 << 20

    package init(database: AppDatabase) {
        self.database = database
    }

    package func scan(site: SiteRecord, isCancelled: () -> Bool = { false }) throws -> IncludeScanSummary {
        let siteID = site.id
        let docroot = Self.realPath(site.docroot)
        var scans: [PHPIncludeScan] = []
        for file in try database.crawls.phpFilesToScan(siteID: siteID) where file.scannedHash != file.contentHash {
            if isCancelled() { throw CancellationError() }
            // A file of an Alias directory carries its absolute path.
            let path = file.filePath.hasPrefix("/") ? file.filePath : docroot + "/" + file.filePath
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                (attributes[.size] as? Int ?? Int.max) <= Self.maxBytes,
                let data = FileManager.default.contents(atPath: path)
            else {
                // Unreadable or too big (a bundled library): recorded as read, with nothing found.
                scans.append(PHPIncludeScan(filePath: file.filePath, contentHash: file.contentHash, targets: [], unresolved: 0))
                continue
            }
            let found = PHPIncludes.scan([UInt8](data), file: path)
            let targets = Set(
                found.targets.compactMap { target -> String? in
                    guard target.hasPrefix(docroot + "/") else { return nil }
                    return String(target.dropFirst(docroot.count + 1))
                }
            )
            scans.append(
                PHPIncludeScan(filePath: file.filePath, contentHash: file.contentHash, targets: targets.sorted(), unresolved: found.unresolved)
            )
        }
        return try database.crawls.saveIncludeScans(siteID: siteID, scans)
    }

    static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
