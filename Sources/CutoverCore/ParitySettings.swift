/// How a site's parity runs compare (#27.4): ignore rules, masks and the site-wide noise
/// thresholds, and whether the scheduled run ends with parity. Untrusted text: checked where it
/// enters (`problems`), shown as text.
public struct ParitySettings: Sendable, Hashable, Codable {
    /// Field names or their starts left out of the comparison: `header:vary`, `html/body/footer`,
    /// `html/body/form[@id=login]/input[@name=csrf]@value`.
    public var ignore: [String]
    /// Regular expressions; what one matches in a value is masked before the values are compared
    /// (`[0-9a-f]{32}` for a random token in a longer text).
    public var masks: [String]
    /// A field noise on at least this share of a run's compared pages, and on at least
    /// `siteNoiseMinimum` of them, is noise on every page.
    public var siteNoiseShare: Double
    public var siteNoiseMinimum: Int
    /// The scheduled run (logs, crawl, probe) ends with a parity run of every page.
    public var scheduled: Bool

    public static let defaultSiteNoiseShare = 0.2
    public static let defaultSiteNoiseMinimum = 5

    public init(
        ignore: [String] = [],
        masks: [String] = [],
        siteNoiseShare: Double = ParitySettings.defaultSiteNoiseShare,
        siteNoiseMinimum: Int = ParitySettings.defaultSiteNoiseMinimum,
        scheduled: Bool = false
    ) {
        self.ignore = ignore
        self.masks = masks
        self.siteNoiseShare = siteNoiseShare
        self.siteNoiseMinimum = siteNoiseMinimum
        self.scheduled = scheduled
    }

    enum CodingKeys: String, CodingKey {
        case ignore, masks, siteNoiseShare, siteNoiseMinimum, scheduled
    }

    /// Missing keys take their defaults: a stored `{}` is the default settings.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        ignore = try container.decodeIfPresent([String].self, forKey: .ignore) ?? []
        masks = try container.decodeIfPresent([String].self, forKey: .masks) ?? []
        siteNoiseShare = try container.decodeIfPresent(Double.self, forKey: .siteNoiseShare) ?? Self.defaultSiteNoiseShare
        siteNoiseMinimum = try container.decodeIfPresent(Int.self, forKey: .siteNoiseMinimum) ?? Self.defaultSiteNoiseMinimum
        scheduled = try container.decodeIfPresent(Bool.self, forKey: .scheduled) ?? false
    }

    /// The bytes of text the settings hold.
    public var storedBytes: Int { (ignore + masks).map(\.utf8.count).reduce(0, +) }

    /// One sentence per problem (empty when valid).
    public func problems() -> [String] {
        var found: [String] = []
        if ignore.count > 64 { found.append("at most 64 parity ignore rules") }
        for rule in ignore where rule.isEmpty || rule.utf8.count > 512 || Self.hasControl(rule) {
            found.append("parity ignore rule '\(ConfigText.visible(rule))' must be 1 to 512 bytes without control characters")
        }
        if masks.count > 32 { found.append("at most 32 parity masks") }
        for mask in masks {
            if mask.isEmpty || mask.utf8.count > 512 || Self.hasControl(mask) {
                found.append("parity mask '\(ConfigText.visible(mask))' must be 1 to 512 bytes without control characters")
            } else if (try? Regex(mask)) == nil {
                found.append("parity mask '\(ConfigText.visible(mask))' is not a valid regular expression")
            }
        }
        if !(siteNoiseShare.isFinite && siteNoiseShare > 0 && siteNoiseShare <= 1) {
            found.append("the parity site-noise share must be above 0 and at most 1")
        }
        if !(1...1_000_000).contains(siteNoiseMinimum) { found.append("the parity site-noise minimum must be between 1 and 1000000 pages") }
        return found
    }

    private static func hasControl(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }
}
