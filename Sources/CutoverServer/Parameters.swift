import CutoverCore
import CutoverStore
import Foundation
import Hummingbird
import HummingbirdCore

/// A request's query parameters, parsed once (Hummingbird's `uri.queryParameters` splits and
/// decodes the whole query string on every access), with 422s for invalid values.
struct QueryValues {
    private let values: FlatDictionary<Substring, Substring>

    init(_ request: Request) {
        values = request.uri.queryParameters
    }

    /// The raw value, nil when absent.
    func text(_ name: String) -> String? {
        values.get(name).map { String($0) }
    }

    func int(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = values.get(name) else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw APIError(.unprocessableContent, "invalid", "'\(name)' must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    func owner(_ name: String) throws -> Owner? {
        guard let text = values.get(name) else { return nil }
        guard let owner = Owner(parsing: String(text)) else {
            throw APIError(.unprocessableContent, "invalid", "'\(name)' must be php, swift or static")
        }
        return owner
    }

    func bool(_ name: String) throws -> Bool? {
        guard let text = values.get(name) else { return nil }
        switch text.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw APIError(.unprocessableContent, "invalid", "'\(name)' must be true or false")
        }
    }
}

extension AppDatabase {
    /// The site named in the path (GRDB's async read: never on an event loop).
    func site(_ context: AppContext) async throws -> SiteRecord {
        try await sites.named(context.parameters.require("site"))
    }
}
