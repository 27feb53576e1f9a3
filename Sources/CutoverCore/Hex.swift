/// Lower-case hexadecimal text of bytes (digests).
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Writes the hex text of `bytes` (2 per byte) to `out`.
    public static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes, into out: UnsafeMutablePointer<UInt8>) {
        var offset = 0
        for byte in bytes {
            out[offset] = digits[Int(byte >> 4)]
            out[offset + 1] = digits[Int(byte & 0x0F)]
            offset += 2
        }
    }
}
