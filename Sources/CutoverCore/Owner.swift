/// Who answers a URL on the live site.
public enum Owner: String, Codable, Sendable, CaseIterable, Comparable {
    /// A `.php` file in the docroot, executed by mod_php.
    case php
    /// The Swift application behind mod_proxy (through the fallback or a per-page flip).
    case swift
    /// A file Apache serves as it is.
    case `static`

    public static func < (lhs: Owner, rhs: Owner) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// Parses user input such as `php`, `Swift`, `STATIC`.
    public init?(parsing text: String) {
        self.init(rawValue: text.lowercased())
    }
}
