import FoundationEssentials

/// JSON by key path, text by lines, anything else by a fingerprint of its bytes.
enum BodyFields {
    indirect enum JSONValue: Decodable {
        case null
        case bool(Bool)
        case integer(Int64)
        case number(Double)
        case string(String)
        case array([JSONValue])
        case object([String: JSONValue])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                self = .null
            } else if let value = try? container.decode(Bool.self) {
                self = .bool(value)
            } else if let value = try? container.decode(Int64.self) {
                self = .integer(value)
            } else if let value = try? container.decode(Double.self) {
                self = .number(value)
            } else if let value = try? container.decode(String.self) {
                self = .string(value)
            } else if let value = try? container.decode([JSONValue].self) {
                self = .array(value)
            } else {
                self = .object(try container.decode([String: JSONValue].self))
            }
        }
    }

    /// Leaves by path (`$.items[0].name`); arrays keep their order.
    static func flatten(_ value: JSONValue, path: String, into out: inout [(String, String)]) {
        switch value {
        case .null: out.append((path, "null"))
        case .bool(let bool): out.append((path, String(bool)))
        case .integer(let integer): out.append((path, String(integer)))
        case .number(let number): out.append((path, String(number)))
        case .string(let string): out.append((path, "\"\(string)\""))
        case .array(let items):
            if items.isEmpty { out.append((path, "[]")) }
            for (index, item) in items.enumerated() { flatten(item, path: "\(path)[\(index)]", into: &out) }
        case .object(let members):
            if members.isEmpty { out.append((path, "{}")) }
            for key in members.keys.sorted() { flatten(members[key]!, path: "\(path).\(key)", into: &out) }
        }
    }

    static func compareJSON(_ a: [UInt8], _ b: [UInt8], into out: inout [ParityDifference]) -> Int {
        let decoder = JSONDecoder()
        let left = try? decoder.decode(JSONValue.self, from: Data(a))
        let right = try? decoder.decode(JSONValue.self, from: Data(b))
        guard let left, let right else {
            if (left == nil) != (right == nil) || a != b {
                out.append(ParityDifference("body", left == nil ? "(not JSON)" : "(JSON)", right == nil ? "(not JSON)" : "(JSON)"))
            }
            return 1
        }
        var leavesA: [(String, String)] = []
        var leavesB: [(String, String)] = []
        flatten(left, path: "$", into: &leavesA)
        flatten(right, path: "$", into: &leavesB)
        let mapB = Dictionary(leavesB, uniquingKeysWith: { first, _ in first })
        let mapA = Dictionary(leavesA, uniquingKeysWith: { first, _ in first })
        for (path, value) in leavesA where mapB[path] != value { out.append(ParityDifference(path, value, mapB[path])) }
        for (path, value) in leavesB where mapA[path] == nil { out.append(ParityDifference(path, nil, value)) }
        return leavesA.count
    }

    /// Lines with trailing whitespace removed, aligned so that an inserted line is one difference.
    static func compareLines(_ a: [UInt8], _ b: [UInt8], into out: inout [ParityDifference]) -> Int {
        func lines(_ bytes: [UInt8]) -> [String] {
            String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map { line in
                var trimmed = Substring(line)
                while let last = trimmed.last, last == " " || last == "\t" || last == "\r" { trimmed = trimmed.dropLast() }
                return String(trimmed)
            }
        }
        let left = lines(a)
        let right = lines(b)
        for pair in Alignment.align(left, right, equal: ==, similar: { _, _ in true }) {
            switch pair {
            case .both(let x, let y): if left[x] != right[y] { out.append(ParityDifference("line \(x + 1)", left[x], right[y])) }
            case .onlyFirst(let x): out.append(ParityDifference("line \(x + 1)", left[x], nil))
            case .onlySecond(let y): out.append(ParityDifference("line +\(y + 1)", nil, right[y]))
            }
        }
        return left.count
    }

    /// Size and an FNV-1a hash: enough to tell two bodies apart.
    static func fingerprint(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return "\(bytes.count) bytes, fnv1a \(String(hash, radix: 16))"
    }
}
