import FoundationEssentials

/// A PHP page's answer saved for the Swift app's own tests (#27.7): `cutover parity fixtures`
/// writes one per page; a test suite loads it and compares its own response with
/// `fixture.compare(_:)` — the same comparison, noise and rules as a parity run through Apache,
/// with no server and no database:
///
///     let fixture = try ParityFixture(json: Data(contentsOf: url))
///     let result = fixture.compare(ParityResponse(status: 200, headers: headers, body: body))
///     #expect(result.verdict == .same, "\(result.differences)")
///
/// What it keeps of the page: status, headers (a `Set-Cookie` without its value: a session id
/// has no place in a repository), the body as read, the fields that changed by themselves
/// between two PHP answers (`noise`), the site's rules, and `fields`, the page's normalised form
/// for a person to read and review.
public struct ParityFixture: Sendable, Hashable, Codable {
    public static let format = "cutover-parity-fixture/1"

    public struct Rules: Sendable, Hashable, Codable {
        public var headers: [String]
        public var ignore: [String]
        public var masks: [String]
        public var cookieNames: Bool
        public var canonicalLink: Bool
        public var siteOrigin: String?
    }

    public var format: String
    /// The page's URL path (and query, for a query-identified page).
    public var path: String
    public var status: Int
    /// Header fields in the order received, each `[name, value]`.
    public var headers: [[String]]
    /// The body as read, base64.
    public var body: String
    /// The body was cut at the fetch's cap.
    public var truncated: Bool
    /// Fields that changed between two PHP answers of the page, or on enough pages of the site:
    /// never held against the Swift answer.
    public var noise: [String]
    public var rules: Rules
    /// The page's fields as the comparison sees them (for reading; `compare` parses the body).
    public var fields: [ParityField]

    public init(path: String, php: ParityResponse, noise: [String], rules: ParityRules) {
        format = Self.format
        self.path = path
        status = php.status
        headers = php.headers.map { header in
            guard header.name.lowercased() == "set-cookie" else { return [header.name, header.value] }
            let name = header.value.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
            return [header.name, name + "=(value not kept)"]
        }
        body = Data(php.body).base64EncodedString()
        truncated = php.truncated
        self.noise = noise.sorted()
        self.rules = Rules(
            headers: rules.headers,
            ignore: rules.ignore,
            masks: rules.masks,
            cookieNames: rules.cookieNames,
            canonicalLink: rules.canonicalLink,
            siteOrigin: rules.siteOrigin
        )
        fields = Parity.fields(of: php, rules: rules)
    }

    /// A fixture from its JSON file; a file of another format is refused.
    public init(json: Data) throws {
        struct Head: Decodable { var format: String? }
        // The format first: a file of another version says so instead of naming a missing key.
        let head = try JSONDecoder().decode(Head.self, from: json)
        guard head.format == Self.format else { throw FixtureError.unknownFormat(head.format ?? "(none)") }
        self = try JSONDecoder().decode(ParityFixture.self, from: json)
    }

    /// The fixture as a JSON file: keys sorted, so a regenerated fixture diffs line by line.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// The PHP answer the fixture holds.
    public var response: ParityResponse {
        ParityResponse(
            status: status,
            headers: headers.compactMap { $0.count == 2 ? ParityResponse.Header($0[0], $0[1]) : nil },
            body: Data(base64Encoded: body).map { [UInt8]($0) } ?? [],
            truncated: truncated
        )
    }

    /// The comparison rules the fixture was made with.
    public var parityRules: ParityRules {
        var parity = ParityRules()
        parity.headers = rules.headers
        parity.ignore = rules.ignore
        parity.masks = rules.masks
        parity.cookieNames = rules.cookieNames
        parity.canonicalLink = rules.canonicalLink
        parity.siteOrigin = rules.siteOrigin
        return parity
    }

    /// Compares a Swift answer with the PHP page, its noise and rules as parity through Apache would.
    public func compare(_ swift: ParityResponse) -> ParityResult {
        Parity.compare(php: response, swift: swift, rules: parityRules, siteNoise: Set(noise))
    }
}

public enum FixtureError: Error, CustomStringConvertible {
    case unknownFormat(String)

    public var description: String {
        switch self {
        case .unknownFormat(let format): "not a parity fixture of this version: format '\(format)', expected '\(ParityFixture.format)'"
        }
    }
}
