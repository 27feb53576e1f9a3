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

    /// The owner stored as `bytes` (`php`, `swift`, `static`), read without making a String;
    /// anything else is static.
    public init(_ bytes: UnsafeBufferPointer<UInt8>?) {
        guard let bytes, bytes.count >= 3 else {
            self = .static
            return
        }
        if bytes[0] == UInt8(ascii: "p") {
            self = .php
        } else if bytes[1] == UInt8(ascii: "w") {
            self = .swift
        } else {
            self = .static
        }
    }

    /// Parses user input such as `php`, `Swift`, `STATIC`.
    public init?(parsing text: String) {
        self.init(rawValue: text.lowercased())
    }
}
