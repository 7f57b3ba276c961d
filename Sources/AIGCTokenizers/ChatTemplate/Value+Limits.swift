// Value+Limits: bounds on the values a template can build. A template is user input: without these, nesting a
// list in itself a million times (or a namespace in itself) would overflow the stack when the value is printed
// or freed, and a value shared many times over could print gigabytes.

extension Value {
    static let maxNesting = 128
    /// Containers one construction check may visit.
    static let nestingBudget = 200_000
    static let printBudget = 64 << 20
    static let jsonBudget = 2_000_000
    static let maxItems = 1_000_000

    /// Checks a newly built container: nesting at most `maxNesting` deep, not too much to walk, and (when storing
    /// into a namespace) not containing that namespace, which would make a cycle.
    func checkNesting(storingInto namespace: Namespace? = nil) throws {
        var budget = Value.nestingBudget
        try checkNesting(depth: 0, budget: &budget, forbidden: namespace)
    }

    private func checkNesting(depth: Int, budget: inout Int, forbidden: Namespace?) throws {
        let children: [Value]
        switch self {
        case .array(let items), .tuple(let items): children = items
        case .dictionary(let d): children = d.values
        case .namespace(let n):
            if let forbidden, n === forbidden { throw ValueError.invalid("a namespace cannot be stored inside itself") }
            children = n.attributes.values
        default: return
        }
        guard depth < Value.maxNesting else { throw ValueError.limit("values nest deeper than \(Value.maxNesting) levels") }
        budget -= 1
        guard budget >= 0 else { throw ValueError.limit("value too large to build (more than \(Value.nestingBudget) nested containers)") }
        for child in children { try child.checkNesting(depth: depth + 1, budget: &budget, forbidden: forbidden) }
    }

    /// Appends Python's str (or, `quoted`, repr) of the value, stopping once `budget` bytes are spent.
    func write(into out: inout String, budget: inout Int, quoted: Bool) {
        guard budget > 0 else { return }
        let before = out.utf8.count
        defer { budget -= out.utf8.count - before }
        switch self {
        case .undefined: break
        case .none: out += "None"
        case .bool(let b): out += b ? "True" : "False"
        case .int(let i): out += String(i)
        case .double(let d): out += PythonText.floatRepr(d)
        case .string(let s): out += quoted ? PythonText.repr(s) : s
        case .array(let items): Value.writeItems(items, "[", "]", into: &out, budget: &budget)
        case .tuple(let items): Value.writeItems(items, "(", items.count == 1 ? ",)" : ")", into: &out, budget: &budget)
        case .dictionary(let d):
            out += "{"
            var remaining = budget - 1
            for (i, (key, value)) in d.enumerated() where remaining > 0 {
                let start = out.utf8.count
                out += (i > 0 ? ", " : "") + PythonText.repr(key) + ": "
                remaining -= out.utf8.count - start
                value.write(into: &out, budget: &remaining, quoted: true)
            }
            out += "}"
        case .namespace(let n):
            out += "<Namespace "
            Value.dictionary(n.attributes).write(into: &out, budget: &budget, quoted: true)
            out += ">"
        case .callable(let c): out += "<function \(c.name)>"
        }
    }

    private static func writeItems(_ items: [Value], _ open: String, _ close: String, into out: inout String, budget: inout Int) {
        out += open
        var remaining = budget - 1
        for (i, item) in items.enumerated() where remaining > 0 {
            if i > 0 { out += ", "; remaining -= 2 }
            item.write(into: &out, budget: &remaining, quoted: true)
        }
        out += close
    }
}
