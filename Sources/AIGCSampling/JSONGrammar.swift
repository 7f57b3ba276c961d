// JSONGrammar: a byte-level pushdown automaton that accepts exactly the prefixes of a JSON object
// (RFC 8259), for constrained decoding: a token is allowed when its bytes keep the output a valid prefix.

public struct JSONGrammar: Sendable, Equatable {
    enum Container: Equatable { case object, array }
    /// What the next significant byte must be.
    enum Expect: Equatable {
        case start          // the top-level '{'
        case keyOrEnd       // '"' or '}' right after '{'
        case key            // '"' after ','
        case colon
        case value          // any value
        case valueOrEnd     // a value or ']' right after '['
        case commaOrEnd     // ',' or the container's end
        case done
    }
    enum Scalar: Equatable {
        case none
        case string(isKey: Bool, escape: Bool, hexLeft: Int)
        case number(NumberPhase)
        case literal(remaining: [UInt8])
    }
    enum NumberPhase: Equatable { case minus, zero, integer, dot, fraction, exponent, exponentSign, exponentDigits }

    var stack: [Container] = []
    var expect = Expect.start
    var scalar = Scalar.none
    var whitespaceRun = 0
    /// Longest run of whitespace between tokens (keeps a model from padding forever).
    static let maxWhitespace = 8
    static let maxDepth = 64

    public init() {}

    /// The object is closed: nothing more may follow.
    public var complete: Bool { expect == .done }

    /// Feeds bytes; false (and the state is then unusable) if they leave the JSON grammar.
    public mutating func feed<C: Sequence>(_ bytes: C) -> Bool where C.Element == UInt8 {
        for b in bytes where !step(b) { return false }
        return true
    }

    mutating func step(_ b: UInt8) -> Bool {
        switch scalar {
        case let .string(isKey, escape, hexLeft):
            return stepString(b, isKey: isKey, escape: escape, hexLeft: hexLeft)
        case let .literal(remaining):
            guard b == remaining[0] else { return false }
            scalar = remaining.count == 1 ? .none : .literal(remaining: Array(remaining.dropFirst()))
            if remaining.count == 1 { valueEnded() }
            return true
        case let .number(phase):
            if let next = Self.numberStep(phase, b) { scalar = .number(next); return true }
            guard [.zero, .integer, .fraction, .exponentDigits].contains(phase) else { return false }
            scalar = .none
            valueEnded()
            return step(b) // the byte that ended the number is structural
        case .none:
            return stepStructure(b)
        }
    }

    mutating func stepString(_ b: UInt8, isKey: Bool, escape: Bool, hexLeft: Int) -> Bool {
        if hexLeft > 0 {
            guard Self.isHex(b) else { return false }
            scalar = .string(isKey: isKey, escape: false, hexLeft: hexLeft - 1)
        } else if escape {
            switch b {
            case UInt8(ascii: "u"): scalar = .string(isKey: isKey, escape: false, hexLeft: 4)
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                 UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                scalar = .string(isKey: isKey, escape: false, hexLeft: 0)
            default: return false
            }
        } else if b == UInt8(ascii: "\\") {
            scalar = .string(isKey: isKey, escape: true, hexLeft: 0)
        } else if b == UInt8(ascii: "\"") {
            scalar = .none
            if isKey { expect = .colon } else { valueEnded() }
        } else if b < 0x20 {
            return false
        }
        return true
    }

    mutating func stepStructure(_ b: UInt8) -> Bool {
        if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 {
            guard expect != .start, expect != .done else { return false }
            whitespaceRun += 1
            return whitespaceRun <= Self.maxWhitespace
        }
        whitespaceRun = 0
        switch expect {
        case .start:
            guard b == UInt8(ascii: "{") else { return false }
            return open(.object)
        case .keyOrEnd, .key:
            if b == UInt8(ascii: "}") && expect == .keyOrEnd { return close(.object) }
            guard b == UInt8(ascii: "\"") else { return false }
            scalar = .string(isKey: true, escape: false, hexLeft: 0)
            return true
        case .colon:
            guard b == UInt8(ascii: ":") else { return false }
            expect = .value
            return true
        case .value, .valueOrEnd:
            if b == UInt8(ascii: "]") && expect == .valueOrEnd { return close(.array) }
            return startValue(b)
        case .commaOrEnd:
            guard let top = stack.last else { return false }
            if b == UInt8(ascii: ",") { expect = top == .object ? .key : .value; return true }
            if b == UInt8(ascii: top == .object ? "}" : "]") { return close(top) }
            return false
        case .done:
            return false
        }
    }

    mutating func startValue(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "{"): return open(.object)
        case UInt8(ascii: "["): return open(.array)
        case UInt8(ascii: "\""): scalar = .string(isKey: false, escape: false, hexLeft: 0)
        case UInt8(ascii: "t"): scalar = .literal(remaining: Array("rue".utf8))
        case UInt8(ascii: "f"): scalar = .literal(remaining: Array("alse".utf8))
        case UInt8(ascii: "n"): scalar = .literal(remaining: Array("ull".utf8))
        case UInt8(ascii: "-"): scalar = .number(.minus)
        case UInt8(ascii: "0"): scalar = .number(.zero)
        case UInt8(ascii: "1")...UInt8(ascii: "9"): scalar = .number(.integer)
        default: return false
        }
        return true
    }

    mutating func open(_ c: Container) -> Bool {
        guard stack.count < Self.maxDepth else { return false }
        stack.append(c)
        expect = c == .object ? .keyOrEnd : .valueOrEnd
        return true
    }

    mutating func close(_ c: Container) -> Bool {
        guard stack.last == c else { return false }
        stack.removeLast()
        valueEnded()
        return true
    }

    mutating func valueEnded() {
        expect = stack.isEmpty ? .done : .commaOrEnd
    }

    static func numberStep(_ phase: NumberPhase, _ b: UInt8) -> NumberPhase? {
        let digit = b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")
        switch phase {
        case .minus: return b == UInt8(ascii: "0") ? .zero : (digit ? .integer : nil)
        case .zero, .integer:
            if phase == .integer && digit { return .integer }
            if b == UInt8(ascii: ".") { return .dot }
            if b == UInt8(ascii: "e") || b == UInt8(ascii: "E") { return .exponent }
            return nil
        case .dot, .fraction:
            if digit { return .fraction }
            if phase == .fraction && (b == UInt8(ascii: "e") || b == UInt8(ascii: "E")) { return .exponent }
            return nil
        case .exponent: return b == UInt8(ascii: "+") || b == UInt8(ascii: "-") ? .exponentSign : (digit ? .exponentDigits : nil)
        case .exponentSign, .exponentDigits: return digit ? .exponentDigits : nil
        }
    }

    static func isHex(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
    }
}
