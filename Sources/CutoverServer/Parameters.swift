import CutoverCore
import CutoverStore
import Foundation
import Hummingbird

/// Query and path parameter parsing with 422s for invalid values.
extension Request {
    func int(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = uri.queryParameters.get(name) else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw APIError(.unprocessableContent, "invalid", "'\(name)' must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    func owner(_ name: String) throws -> Owner? {
        guard let text = uri.queryParameters.get(name) else { return nil }
        guard let owner = Owner(parsing: text) else {
            throw APIError(.unprocessableContent, "invalid", "'\(name)' must be php, swift or static")
        }
        return owner
    }

    func bool(_ name: String) throws -> Bool? {
        guard let text = uri.queryParameters.get(name) else { return nil }
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
        try await site(named: context.parameters.require("site"))
    }
}
