/// Query values that are secrets of the site's visitors, not page names: password-reset tokens,
/// e-mail addresses, OAuth codes, session ids. Access logs carry them; Cutover's database and
/// its open reads (on loopback) must not. They are replaced by `***` at import, in every stored
/// form (normalised query strings, query values, and so URLs made from values), before anything
/// is written; keys a site declared as page keys are exempt (their values name pages).
///
/// A key is sensitive when one of its words (split at punctuation and camelCase) is in `keyWords`
/// or it contains `token`, `password`, `passwd` or `secret` (`resetToken`, `user_password`). A
/// value is sensitive when it looks like an e-mail address, or like a long random string: 20 or
/// more URL-safe characters with letters and digits and no run of six letters of one case
/// (hex and base64 tokens, JWTs, UUIDs; not `product-12345-blue-widget`).
package struct SensitiveQuery: Sendable {
    package static let mask = Array("***".utf8)
    package static let keyWords: Set<String> = [
        "token", "password", "passwd", "pwd", "pass", "secret", "code", "key", "apikey", "email", "mail", "session", "sessid",
        "auth", "otp", "nonce", "signature", "sig", "ssn", "jwt", "bearer", "credential", "credentials", "hash", "ticket",
    ]
    static let containedWords = ["token", "password", "passwd", "secret"]

    /// Keys declared as page keys, by script path: never masked there.
    let exempt: [String: Set<String>]
    /// The site's own sensitive keys (`sensitiveQueryKeys`), lowercased: masked by exact name.
    let extraKeys: Set<String>

    package init(pageKeys: [(script: String, key: String)] = [], extraKeys: [String] = []) {
        var exempt: [String: Set<String>] = [:]
        for pageKey in pageKeys { exempt[pageKey.script, default: []].insert(pageKey.key) }
        self.exempt = exempt
        self.extraKeys = Set(extraKeys.map { $0.lowercased() })
    }

    /// The pairs with every sensitive value replaced by `***`.
    func masked(
        _ pairs: [(key: ArraySlice<UInt8>, value: ArraySlice<UInt8>?)],
        path: String
    ) -> [(key: ArraySlice<UInt8>, value: ArraySlice<UInt8>?)] {
        let declared = exempt[path] ?? []
        return pairs.map { pair in
            guard let value = pair.value, !value.isEmpty else { return pair }
            let key = RequestTarget.percentDecode(pair.key, plusIsSpace: true) ?? Array(pair.key)
            if !declared.isEmpty, let name = String(validating: key, as: UTF8.self), declared.contains(name) { return pair }
            let decodedValue = RequestTarget.percentDecode(value, plusIsSpace: true) ?? Array(value)
            let named = !extraKeys.isEmpty && extraKeys.contains(String(decoding: key, as: UTF8.self).lowercased())
            guard named || Self.isSensitive(key: key) || Self.isSensitive(value: decodedValue) else { return pair }
            return (pair.key, ArraySlice(Self.mask))
        }
    }

    package static func isSensitive(key: [UInt8]) -> Bool {
        var words: [String] = []
        var word: [UInt8] = []
        var previousLower = false
        for byte in key {
            let isUpper = byte >= 0x41 && byte <= 0x5A
            let isLower = byte >= 0x61 && byte <= 0x7A
            let isDigit = byte >= 0x30 && byte <= 0x39
            if !(isUpper || isLower || isDigit) || (isUpper && previousLower) {
                if !word.isEmpty { words.append(String(decoding: word, as: UTF8.self)) }
                word = []
            }
            if isUpper || isLower || isDigit { word.append(isUpper ? byte | 0x20 : byte) }
            previousLower = isLower
        }
        if !word.isEmpty { words.append(String(decoding: word, as: UTF8.self)) }
        if words.contains(where: keyWords.contains) { return true }
        let lowered = String(decoding: key.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
        return containedWords.contains { lowered.contains($0) }
    }

    package static func isSensitive(value: [UInt8]) -> Bool {
        if let at = value.firstIndex(of: UInt8(ascii: "@")), at > 0, value[(at + 1)...].contains(UInt8(ascii: ".")),
            !value.contains(UInt8(ascii: " "))
        {
            return true
        }
        guard value.count >= 20 else { return false }
        var letters = false
        var digits = false
        var run = 0
        var runIsUpper = false
        for byte in value {
            let isUpper = byte >= 0x41 && byte <= 0x5A
            let isLower = byte >= 0x61 && byte <= 0x7A
            if byte >= 0x30 && byte <= 0x39 {
                digits = true
                run = 0
            } else if isUpper || isLower {
                letters = true
                run = run > 0 && runIsUpper == isUpper ? run + 1 : 1
                runIsUpper = isUpper
                if run >= 6 { return false }
            } else if "-_.~+/=".utf8.contains(byte) {
                run = 0
            } else {
                return false
            }
        }
        return letters && digits
    }
}
