// TemplateJSON: JSON in and out for templates. `dumps` writes exactly what Python's `json.dumps` writes (the
// `tojson` filter transformers installs); `TemplateValue(json:)` parses a document keeping object keys in
// order, which Foundation's JSONSerialization does not, so tool schemas print in the caller's order.

enum TemplateJSON {
    /// Python `json.dumps(value, ensure_ascii=, indent=, separators=, sort_keys=)`.
    static func dumps(_ value: TemplateValue, indent: Int?, ensureASCII: Bool = false, separators: (String, String)? = nil, sortKeys: Bool = false) -> String {
        let (itemSeparator, keySeparator) = separators ?? (indent == nil ? (", ", ": ") : (",", ": "))
        var out = ""
        func write(_ v: TemplateValue, level: Int) {
            // Stop past the print budget; the evaluator's output limit then rejects the render.
            guard out.utf8.count <= Value.printBudget else { return }
            switch v {
            case .null: out += "null"
            case .bool(let b): out += b ? "true" : "false"
            case .int(let i): out += String(i)
            case .double(let d):
                out += d.isNaN ? "NaN" : d.isInfinite ? (d < 0 ? "-Infinity" : "Infinity") : PythonText.floatRepr(d)
            case .string(let s): writeString(s, ensureASCII: ensureASCII, into: &out)
            case .array(let items):
                guard !items.isEmpty else { out += "[]"; return }
                out += "["
                for (i, item) in items.enumerated() {
                    if i > 0 { out += itemSeparator }
                    newline(level + 1)
                    write(item, level: level + 1)
                }
                newline(level)
                out += "]"
            case .dictionary(let d):
                guard !d.isEmpty else { out += "{}"; return }
                out += "{"
                let keys = sortKeys ? d.keys.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) } : d.keys
                for (i, key) in keys.enumerated() {
                    if i > 0 { out += itemSeparator }
                    newline(level + 1)
                    writeString(key, ensureASCII: ensureASCII, into: &out)
                    out += keySeparator
                    write(d[key] ?? .null, level: level + 1)
                }
                newline(level)
                out += "}"
            }
        }
        func newline(_ level: Int) {
            guard let indent else { return }
            out += "\n" + String(repeating: " ", count: max(0, indent) * level)
        }
        write(value, level: 0)
        return out
    }

    private static func writeString(_ s: String, ensureASCII: Bool, into out: inout String) {
        out += "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if c.value < 0x20 {
                    out += PythonText.hex(c.value, prefix: "\\u", width: 4)
                } else if ensureASCII && c.value > 0x7E {
                    if c.value > 0xFFFF {
                        let v = c.value - 0x10000
                        out += PythonText.hex(0xD800 + (v >> 10), prefix: "\\u", width: 4)
                        out += PythonText.hex(0xDC00 + (v & 0x3FF), prefix: "\\u", width: 4)
                    } else {
                        out += PythonText.hex(c.value, prefix: "\\u", width: 4)
                    }
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        out += "\""
    }
}

extension TemplateValue {
    /// Parses a JSON document (RFC 8259), keeping object keys in document order. Integers that fit in `Int`
    /// stay integers; other numbers become doubles.
    public init(json: String) throws {
        var parser = JSONParser(bytes: Array(json.utf8))
        self = try parser.document()
    }

    /// The value as compact JSON, as Python's `json.dumps` writes it.
    public func jsonString(indent: Int? = nil) -> String { TemplateJSON.dumps(self, indent: indent) }
}
