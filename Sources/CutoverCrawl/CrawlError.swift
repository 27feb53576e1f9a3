import CutoverCore

/// Why a crawl could not run at all. Problems with single files are crawl issues instead.
package enum CrawlError: Error, CustomStringConvertible, Equatable {
    case docrootMissing(String)
    case docrootNotDirectory(String)
    case docrootUnreadable(String, String)

    package var description: String {
        switch self {
        case .docrootMissing(let path): "docroot '\(path)' does not exist"
        case .docrootNotDirectory(let path): "docroot '\(path)' is not a directory"
        case .docrootUnreadable(let path, let reason): "docroot '\(path)' cannot be read: \(reason)"
        }
    }
}

extension CrawlError: ReportedError {
    package var kind: ErrorKind { .invalid }
}
