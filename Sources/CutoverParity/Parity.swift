import FoundationEssentials

/// What parity compares and what it leaves out, per site.
public struct ParityRules: Sendable, Hashable {
    /// Headers compared by default, besides status, `Location` and `Content-Type`.
    public static let defaultHeaders = ["cache-control", "content-language", "vary", "x-robots-tag"]
    /// Never compared: they differ between any two answers, or say which side answered.
    public static let neverCompared: Set<String> = [
        "date", "server", "content-length", "connection", "keep-alive", "transfer-encoding", "etag", "last-modified", "age",
        "x-cutover-handler", "x-cutover-export", "x-cutover-owner", "x-powered-by",
    ]

    public var headers = ParityRules.defaultHeaders
    /// The names of the cookies each side sets (`set-cookie names`), not their values.
    public var cookieNames = true
    /// `Link: <…>; rel="canonical"` (`link rel=canonical`).
    public var canonicalLink = true
    /// Field names (or their starts) left out: `header:vary`, `html/body/footer`.
    public var ignore: [String] = []
    /// Regular expressions; what they match in a value is masked before values are compared.
    public var masks: [String] = []
    /// The site's origin (`https://example.org`): a `Location` on it compares as its path.
    public var siteOrigin: String?
    /// Bodies are compared up to this many bytes.
    public var maxBodyBytes = 2 << 20
    /// A page whose two PHP answers differ in more than this share of its fields (and in at least
    /// `noisyMinimum` of them) is too noisy to judge.
    public var noisyShare = 0.2
    public var noisyMinimum = 5
    /// A field that is noise on at least this share of a run's compared pages, and on at least
    /// `siteNoiseMinimum` of them (a CSRF input, a footer timestamp), is noise on every page.
    public var siteNoiseShare = 0.2
    public var siteNoiseMinimum = 5

    public init() {}
}

/// One field of an answer and its value (a fixture's normalised form of a page).
public struct ParityField: Sendable, Hashable, Codable {
    public var field: String
    public var value: String

    public init(field: String, value: String) {
        self.field = field
        self.value = value
    }
}

/// One field whose values differ; nil is a field the side does not have.
public struct ParityDifference: Sendable, Hashable {
    public var field: String
    public var php: String?
    public var swift: String?

    /// Longest value kept in a difference (a whole page's text is not one).
    public static let maxValueLength = 300

    public init(field: String, php: String?, swift: String?) {
        self.init(field, php, swift)
    }

    init(_ field: String, _ php: String?, _ swift: String?) {
        self.field = field
        self.php = php.map(Self.shortened)
        self.swift = swift.map(Self.shortened)
    }

    static func shortened(_ value: String) -> String {
        value.count <= maxValueLength ? value : String(value.prefix(maxValueLength)) + "…"
    }
}

public enum ParityVerdict: String, Sendable, Hashable, CaseIterable {
    /// Every field the same, noise aside.
    case same
    /// At least one field differs beyond noise (status and redirect always count).
    case different
    /// Too many fields differ between the two PHP answers to judge the Swift one.
    case noisy
    /// One side could not be fetched or read.
    case error
}

public struct ParityResult: Sendable, Hashable {
    public var verdict: ParityVerdict
    /// The fields that differ, noise and ignore rules aside.
    public var differences: [ParityDifference]
    /// Fields that differ between the two PHP answers (noise for this URL), or site-wide noise.
    public var noise: [String]
    /// How many differences each ignore rule or mask hid.
    public var hidden: [String: Int]
    /// Fields compared (elements, attributes, headers), for the noisy share.
    public var fields: Int
    /// Why the verdict is `error` or `noisy`.
    public var reason: String?

    public init(
        verdict: ParityVerdict,
        differences: [ParityDifference],
        noise: [String],
        hidden: [String: Int],
        fields: Int,
        reason: String?
    ) {
        self.verdict = verdict
        self.differences = differences
        self.noise = noise
        self.hidden = hidden
        self.fields = fields
        self.reason = reason
    }

    public static func failed(_ reason: String) -> ParityResult {
        ParityResult(verdict: .error, differences: [], noise: [], hidden: [:], fields: 0, reason: reason)
    }

    /// This result with `siteNoise` (from `Parity.siteNoise`) held as noise too: a difference in
    /// one of its fields moves to the noise, and a page left without differences is the same.
    /// Status, `Location` and `Content-Type` always count.
    public func applyingSiteNoise(_ siteNoise: Set<String>) -> ParityResult {
        guard verdict == .different, !siteNoise.isEmpty else { return self }
        var changed = self
        let moved = differences.filter { siteNoise.contains($0.field) && !Parity.alwaysCompared.contains($0.field) }
        guard !moved.isEmpty else { return self }
        changed.differences.removeAll { siteNoise.contains($0.field) && !Parity.alwaysCompared.contains($0.field) }
        changed.noise = Set(noise).union(moved.map(\.field)).sorted()
        if changed.differences.isEmpty { changed.verdict = .same }
        return changed
    }
}

/// Compares a Swift answer with a PHP answer, using a second PHP answer as the noise reference
/// (Diffy's primary / secondary / candidate): a field that differs between the two PHP answers
/// changes by itself (a CSRF token, the time) and is not held against Swift.
public enum Parity {
    public static func compare(
        php: ParityResponse,
        swift: ParityResponse,
        phpAgain: ParityResponse? = nil,
        rules: ParityRules = ParityRules(),
        siteNoise: Set<String> = []
    ) -> ParityResult {
        let comparer = Comparer(rules: rules)
        var (raw, fields) = comparer.differences(php, swift)
        var noise: [String] = []
        if let phpAgain {
            noise = comparer.differences(php, phpAgain).differences.map(\.field)
        }
        let noiseSet = Set(noise).union(siteNoise)
        let always = alwaysCompared
        raw = raw.filter { always.contains($0.field) || !noiseSet.contains($0.field) }
        var hidden: [String: Int] = [:]
        let kept = raw.filter { difference in
            guard !always.contains(difference.field) else { return true }
            if let rule = rules.ignore.first(where: {
                difference.field == $0 || difference.field.hasPrefix($0 + "/") || difference.field.hasPrefix($0 + "@")
            }) {
                hidden[rule, default: 0] += 1
                return false
            }
            if let rule = comparer.maskHiding(difference) {
                hidden[rule, default: 0] += 1
                return false
            }
            return true
        }
        fields = max(fields, 1)
        let result = ParityResult(verdict: .same, differences: kept, noise: noise.sorted(), hidden: hidden, fields: fields, reason: nil)
        if !kept.isEmpty { return with(result, .different) }
        if noise.count >= rules.noisyMinimum, Double(noise.count) > rules.noisyShare * Double(fields) {
            return with(
                result,
                .noisy,
                reason: "\(noise.count) of \(fields) fields differ between the two PHP answers (more than \(Int(rules.noisyShare * 100)) %)"
            )
        }
        return result
    }

    /// Every field of `response` with its value, as `compare` names them.
    public static func fields(of response: ParityResponse, rules: ParityRules = ParityRules()) -> [ParityField] {
        Comparer(rules: rules).fields(response)
    }

    /// The fields that were noise on enough of `results`' compared pages (those not in error) to
    /// be noise on every page: on at least `rules.siteNoiseShare` of them and at least
    /// `rules.siteNoiseMinimum`.
    public static func siteNoise(_ results: [ParityResult], rules: ParityRules = ParityRules()) -> Set<String> {
        let compared = results.filter { $0.verdict != .error }
        var pages: [String: Int] = [:]
        for result in compared {
            for field in Set(result.noise) { pages[field, default: 0] += 1 }
        }
        let needed = max(Double(rules.siteNoiseMinimum), rules.siteNoiseShare * Double(compared.count))
        return Set(pages.filter { Double($0.value) >= needed }.keys)
    }

    /// Fields that always count: a redirect, a 404 or another media type is never noise.
    static let alwaysCompared: Set<String> = ["status", "location", "content-type"]

    private static func with(_ result: ParityResult, _ verdict: ParityVerdict, reason: String? = nil) -> ParityResult {
        var changed = result
        changed.verdict = verdict
        changed.reason = reason
        return changed
    }
}

/// Trees parsed during one comparison, by body: the same body is parsed once.
final class TreeCache {
    private var entries: [(body: [UInt8], kind: BodyKind, encoding: String?, tree: Element?)] = []

    func tree(_ body: [UInt8], kind: BodyKind, encoding: String?) -> Element? {
        // Array equality checks the buffer's identity first: the same answer's body matches at once.
        if let entry = entries.first(where: { $0.kind == kind && $0.encoding == encoding && $0.body == body }) { return entry.tree }
        let tree = kind == .xml ? DocumentParser.xml(body) : DocumentParser.html(body, encoding: encoding)
        entries.append((body, kind, encoding, tree))
        return tree
    }
}

/// The field-by-field comparison of two answers.
struct Comparer {
    let rules: ParityRules
    let masks: [(pattern: String, regex: Regex<AnyRegexOutput>)]
    /// The PHP answer is compared twice (with Swift's, with the second PHP one): parsed once.
    let trees = TreeCache()

    init(rules: ParityRules) {
        self.rules = rules
        masks = rules.masks.compactMap { pattern in (try? Regex(pattern)).map { (pattern, $0) } }
    }

    /// The mask that makes both values of `difference` equal, if one does.
    func maskHiding(_ difference: ParityDifference) -> String? {
        guard let php = difference.php, let swift = difference.swift, !masks.isEmpty else { return nil }
        var a = php
        var b = swift
        for mask in masks {
            a = a.replacing(mask.regex, with: "…")
            b = b.replacing(mask.regex, with: "…")
            if a == b { return mask.pattern }
        }
        return nil
    }

    func differences(_ a: ParityResponse, _ b: ParityResponse) -> (differences: [ParityDifference], fields: Int) {
        var out: [ParityDifference] = []
        var fields = 3
        func field(_ name: String, _ x: String?, _ y: String?) {
            if x != y { out.append(ParityDifference(name, x, y)) }
        }
        field("status", String(a.status), String(b.status))
        field("location", a.values("location").first.map(location), b.values("location").first.map(location))
        let typeA = a.contentType
        let typeB = b.contentType
        field("content-type", typeA?.mediaType, typeB?.mediaType)
        field("content-type charset", typeA?.charset, typeB?.charset)
        for name in rules.headers.map({ $0.lowercased() }) where !ParityRules.neverCompared.contains(name) {
            fields += 1
            field("header:\(name)", joined(a.values(name)), joined(b.values(name)))
        }
        if rules.cookieNames { field("set-cookie names", cookieNames(a), cookieNames(b)) }
        if rules.canonicalLink { field("link rel=canonical", canonical(a), canonical(b)) }
        // A different media type is one difference, found at once: the bodies are not read.
        guard typeA?.mediaType == typeB?.mediaType else { return (out, fields) }
        if a.truncated || b.truncated || a.body.count > rules.maxBodyBytes || b.body.count > rules.maxBodyBytes {
            field(
                "body truncated",
                String(a.truncated || a.body.count > rules.maxBodyBytes),
                String(b.truncated || b.body.count > rules.maxBodyBytes)
            )
        }
        let bodyA = Array(a.body.prefix(rules.maxBodyBytes))
        let bodyB = Array(b.body.prefix(rules.maxBodyBytes))
        switch typeA?.kind ?? .bytes {
        case .html:
            let treeA = trees.tree(bodyA, kind: .html, encoding: typeA?.charset)
            let treeB = trees.tree(bodyB, kind: .html, encoding: typeB?.charset)
            fields += compareTrees(treeA, treeB, into: &out)
        case .xml:
            fields += compareTrees(trees.tree(bodyA, kind: .xml, encoding: nil), trees.tree(bodyB, kind: .xml, encoding: nil), into: &out)
        case .json:
            fields += BodyFields.compareJSON(bodyA, bodyB, into: &out)
        case .text:
            fields += BodyFields.compareLines(bodyA, bodyB, into: &out)
        case .bytes:
            fields += 1
            field("body", BodyFields.fingerprint(bodyA), BodyFields.fingerprint(bodyB))
        }
        return (out, fields)
    }

    /// Every field of one answer with its value, named as `differences` names them: what a
    /// fixture shows of a page (its normalised form, to read and review).
    func fields(_ response: ParityResponse) -> [ParityField] {
        var out: [ParityField] = []
        func field(_ name: String, _ value: String?) {
            if let value { out.append(ParityField(field: name, value: value)) }
        }
        field("status", String(response.status))
        field("location", response.values("location").first.map(location))
        let type = response.contentType
        field("content-type", type?.mediaType)
        field("content-type charset", type?.charset)
        for name in rules.headers.map({ $0.lowercased() }) where !ParityRules.neverCompared.contains(name) {
            field("header:\(name)", joined(response.values(name)))
        }
        if rules.cookieNames { field("set-cookie names", cookieNames(response)) }
        if rules.canonicalLink { field("link rel=canonical", canonical(response)) }
        let body = Array(response.body.prefix(rules.maxBodyBytes))
        switch type?.kind ?? .bytes {
        case .html:
            if let tree = DocumentParser.html(body, encoding: type?.charset) { TreeDiff.fields(tree, path: tree.tag, into: &out) }
        case .xml:
            if let tree = DocumentParser.xml(body) { TreeDiff.fields(tree, path: tree.tag, into: &out) }
        case .json:
            if let value = try? JSONDecoder().decode(BodyFields.JSONValue.self, from: Data(body)) {
                var leaves: [(String, String)] = []
                BodyFields.flatten(value, path: "$", into: &leaves)
                out += leaves.map { ParityField(field: $0.0, value: $0.1) }
            } else {
                field("body", "(not JSON)")
            }
        case .text:
            var differences: [ParityDifference] = []
            _ = BodyFields.compareLines(body, [], into: &differences)
            out += differences.compactMap { difference in difference.php.map { ParityField(field: difference.field, value: $0) } }
        case .bytes:
            field("body", BodyFields.fingerprint(body))
        }
        return out
    }

    private func compareTrees(_ a: Element?, _ b: Element?, into out: inout [ParityDifference]) -> Int {
        switch (a, b) {
        case (let a?, let b?):
            TreeDiff.compare(a, b, path: a.tag == b.tag ? a.tag : "/", into: &out)
            return a.size
        case (nil, nil):
            return 0
        default:
            out.append(ParityDifference("body", a == nil ? "(no document)" : "(a document)", b == nil ? "(no document)" : "(a document)"))
            return 1
        }
    }

    /// A `Location` on the site's own origin compares as its path.
    private func location(_ value: String) -> String {
        guard let origin = rules.siteOrigin?.lowercased(), !origin.isEmpty else { return value }
        let trimmed = origin.hasSuffix("/") ? String(origin.dropLast()) : origin
        if value.lowercased().hasPrefix(trimmed) {
            let rest = value.dropFirst(trimmed.count)
            if rest.isEmpty { return "/" }
            if rest.first == "/" || rest.first == "?" { return String(rest) }
        }
        return value
    }

    private func joined(_ values: [String]) -> String? { values.isEmpty ? nil : values.joined(separator: ", ") }

    private func cookieNames(_ response: ParityResponse) -> String? {
        let names = response.values("set-cookie").compactMap { cookie in
            cookie.split(separator: "=", maxSplits: 1).first.map { $0.trimming(" \t") }
        }
        return names.isEmpty ? nil : Set(names).sorted().joined(separator: ", ")
    }

    private func canonical(_ response: ParityResponse) -> String? {
        for header in response.values("link") {
            for link in header.split(separator: ",")
            where link.lowercased().contains("rel=\"canonical\"") || link.lowercased().contains("rel=canonical") {
                if let start = link.firstIndex(of: "<"), let end = link.firstIndex(of: ">"), start < end {
                    return location(String(link[link.index(after: start)..<end]))
                }
            }
        }
        return nil
    }
}
