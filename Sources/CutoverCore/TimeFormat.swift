/// The time of a log line: `%t` (`[10/Oct/2000:13:55:36 -0700]`) or a `%{...}t` format, read
/// straight from the line's bytes into seconds since 1970 (UTC).
public enum TimeFormat: Sendable, Equatable {
    case epochSeconds
    case epochMilliseconds
    case epochMicroseconds
    /// `msec_frac` / `usec_frac`: digits that add nothing Cutover keeps.
    case fraction
    case strftime([Piece])

    public enum Piece: Sendable, Equatable {
        case literal(UInt8)
        case year4, year2, month, monthName, day, dayPadded, hour, minute, second, zoneOffset
        /// `%a`, `%A`, `%Z`: letters, read past.
        case word
    }

    package init(_ argument: String, directive: String) throws(LogFormatError) {
        var format = Substring(argument)
        for prefix in ["begin:", "end:"] where format.hasPrefix(prefix) {
            format = format.dropFirst(prefix.count)
        }
        switch format {
        case "sec": self = .epochSeconds
        case "msec": self = .epochMilliseconds
        case "usec": self = .epochMicroseconds
        case "msec_frac", "usec_frac": self = .fraction
        default: self = .strftime(try Self.compile(Array(format.utf8), directive: directive))
        }
    }

    static func compile(_ bytes: [UInt8], directive: String) throws(LogFormatError) -> [Piece] {
        var pieces: [Piece] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            guard byte == UInt8(ascii: "%") else {
                pieces.append(.literal(byte))
                continue
            }
            guard index < bytes.count else { throw .malformed(directive, "the time format ends with a lone %") }
            let letter = Character(UnicodeScalar(bytes[index]))
            index += 1
            switch letter {
            case "Y": pieces.append(.year4)
            case "y": pieces.append(.year2)
            case "m": pieces.append(.month)
            case "b", "h", "B": pieces.append(.monthName)
            case "d": pieces.append(.day)
            case "e": pieces.append(.dayPadded)
            case "H": pieces.append(.hour)
            case "M": pieces.append(.minute)
            case "S": pieces.append(.second)
            case "z": pieces.append(.zoneOffset)
            case "a", "A", "Z": pieces.append(.word)
            case "T": pieces += [.hour, .literal(UInt8(ascii: ":")), .minute, .literal(UInt8(ascii: ":")), .second]
            case "F": pieces += [.year4, .literal(UInt8(ascii: "-")), .month, .literal(UInt8(ascii: "-")), .day]
            case "D": pieces += [.month, .literal(UInt8(ascii: "/")), .day, .literal(UInt8(ascii: "/")), .year2]
            case "%": pieces.append(.literal(UInt8(ascii: "%")))
            case "n": pieces.append(.literal(10))
            case "t": pieces.append(.literal(9))
            default:
                throw .unsupported("\(directive) (the time conversion %\(letter))")
            }
        }
        guard pieces.contains(.day) || pieces.contains(.dayPadded) else {
            throw .malformed(directive, "the time format has no day (%d or %e)")
        }
        return pieces
    }

    /// Reads this format at `index`; returns seconds since 1970 (nil for `.fraction`) and moves
    /// `index` past it, or returns false when the bytes do not have this shape.
    package func read(_ line: UnsafeBufferPointer<UInt8>, at index: inout Int, into seconds: inout Int?) -> Bool {
        switch self {
        case .epochSeconds, .epochMilliseconds, .epochMicroseconds, .fraction:
            let start = index
            var value = 0
            while index < line.count, line[index] &- 0x30 < 10, index - start < 19 {
                value = value * 10 + Int(line[index] &- 0x30)
                index += 1
            }
            guard index > start else { return false }
            switch self {
            case .epochSeconds: seconds = value
            case .epochMilliseconds: seconds = value / 1000
            case .epochMicroseconds: seconds = value / 1_000_000
            default: break
            }
            return true
        case .strftime(let pieces):
            var year = 1970
            var month = 1
            var day = 1
            var hour = 0
            var minute = 0
            var second = 0
            var offset = 0
            for piece in pieces {
                switch piece {
                case .literal(let byte):
                    guard index < line.count, line[index] == byte else { return false }
                    index += 1
                case .year4:
                    guard let value = LogBytes.digits(line, &index, count: 4) else { return false }
                    year = value
                case .year2:
                    guard let value = LogBytes.digits(line, &index, count: 2) else { return false }
                    year = 2000 + value
                case .month:
                    guard let value = LogBytes.digits(line, &index, count: 2) else { return false }
                    month = value
                case .monthName:
                    guard let value = LogBytes.monthName(line, &index) else { return false }
                    month = value
                case .day:
                    guard let value = LogBytes.digits(line, &index, count: 2) else { return false }
                    day = value
                case .dayPadded:
                    if index < line.count, line[index] == UInt8(ascii: " ") {
                        index += 1
                        guard let value = LogBytes.digits(line, &index, count: 1) else { return false }
                        day = value
                    } else {
                        guard let value = LogBytes.digits(line, &index, count: 2) else { return false }
                        day = value
                    }
                case .hour:
                    guard let value = LogBytes.digits(line, &index, count: 2) else { return false }
                    hour = value
                case .minute:
                    guard let value = LogBytes.digits(line, &index, count: 2) else { return false }
                    minute = value
                case .second:
                    guard let value = LogBytes.digits(line, &index, count: 2) else { return false }
                    second = value
                case .zoneOffset:
                    guard index < line.count, line[index] == UInt8(ascii: "+") || line[index] == UInt8(ascii: "-") else { return false }
                    let sign = line[index] == UInt8(ascii: "-") ? -1 : 1
                    index += 1
                    guard let hours = LogBytes.digits(line, &index, count: 2), let minutes = LogBytes.digits(line, &index, count: 2) else {
                        return false
                    }
                    offset = sign * (hours * 3600 + minutes * 60)
                case .word:
                    let start = index
                    while index < line.count, (line[index] | 0x20) >= UInt8(ascii: "a"), (line[index] | 0x20) <= UInt8(ascii: "z") { index += 1 }
                    guard index > start else { return false }
                }
            }
            guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return false }
            seconds = LogBytes.epochSeconds(year: year, month: month, day: day) + hour * 3600 + minute * 60 + second - offset
            return true
        }
    }
}

/// Byte-level readers shared by the line parser and the time formats.
enum LogBytes {
    @inline(__always)
    static func digits(_ line: UnsafeBufferPointer<UInt8>, _ index: inout Int, count: Int) -> Int? {
        guard index + count <= line.count else { return nil }
        var value = 0
        for offset in 0..<count {
            let digit = line[index + offset] &- 0x30
            guard digit < 10 else { return nil }
            value = value * 10 + Int(digit)
        }
        index += count
        return value
    }

    /// `Jan` ... `Dec` (any case), as 1...12.
    @inline(__always)
    static func monthName(_ line: UnsafeBufferPointer<UInt8>, _ index: inout Int) -> Int? {
        guard index + 3 <= line.count else { return nil }
        let key = UInt32(line[index] | 0x20) << 16 | UInt32(line[index + 1] | 0x20) << 8 | UInt32(line[index + 2] | 0x20)
        let month: Int
        switch key {
        case 0x6a_616e: month = 1  // jan
        case 0x66_6562: month = 2  // feb
        case 0x6d_6172: month = 3  // mar
        case 0x61_7072: month = 4  // apr
        case 0x6d_6179: month = 5  // may
        case 0x6a_756e: month = 6  // jun
        case 0x6a_756c: month = 7  // jul
        case 0x61_7567: month = 8  // aug
        case 0x73_6570: month = 9  // sep
        case 0x6f_6374: month = 10  // oct
        case 0x6e_6f76: month = 11  // nov
        case 0x64_6563: month = 12  // dec
        default: return nil
        }
        index += 3
        // A full month name (%B) reads the same way: skip its remaining letters.
        while index < line.count, (line[index] | 0x20) >= UInt8(ascii: "a"), (line[index] | 0x20) <= UInt8(ascii: "z") { index += 1 }
        return month
    }

    /// Seconds since 1970 at midnight UTC of a civil date (Howard Hinnant's days_from_civil).
    static func epochSeconds(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return (era * 146_097 + dayOfEra - 719_468) * 86_400
    }
}
