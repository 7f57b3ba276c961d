// GPT-2's reversible map between bytes and printable Unicode characters (bytes_to_unicode in
// openai/gpt-2 encoder.py): printable Latin-1 bytes map to themselves, the rest to U+0100 upwards.

public enum ByteLevel {
    /// byte -> character
    public static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            if printable {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// character -> byte + 1 (0: not a byte-level character), for the 324 code points the map uses.
    static let scalarToByte: [UInt16] = {
        var table = [UInt16](repeating: 0, count: 324)
        for (b, s) in byteToScalar.enumerated() { table[Int(s.value)] = UInt16(b) + 1 }
        return table
    }()

    /// The mapped text of raw bytes.
    public static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(byteToScalar[Int(b)]) }
        return String(s)
    }

    /// The bytes of mapped text, or nil if it contains a character outside the map.
    public static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        return decode(text, into: &out) ? out : nil
    }

    /// Appends the bytes of mapped text; false (and `out` unchanged) if a character is outside the map.
    public static func decode(_ text: String, into out: inout [UInt8]) -> Bool {
        let start = out.count
        let table = scalarToByte
        for s in text.unicodeScalars {
            let v = Int(s.value)
            guard v < table.count, table[v] != 0 else {
                out.removeSubrange(start...)
                return false
            }
            out.append(UInt8(table[v] - 1))
        }
        return true
    }
}
