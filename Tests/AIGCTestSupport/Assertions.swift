// expectClose: compares float arrays and reports the largest difference and the first mismatches.
import Testing

/// Result of comparing two float sequences.
public struct Closeness: CustomStringConvertible {
    public let maxAbsolute: Float
    public let maxIndex: Int
    public let mismatches: [(Int, Float, Float)]
    public var description: String {
        "max |diff| \(maxAbsolute) at \(maxIndex); first mismatches: " + mismatches.prefix(5).map { "[\($0.0)] \($0.1) vs \($0.2)" }.joined(separator: ", ")
    }
}

/// Compares `actual` with `expected` elementwise: |a - e| <= atol + rtol * |e|.
public func closeness(_ actual: [Float], _ expected: [Float], atol: Float, rtol: Float) -> Closeness {
    var maxAbs: Float = 0, maxIndex = 0
    var bad: [(Int, Float, Float)] = []
    for i in 0..<min(actual.count, expected.count) {
        let d = abs(actual[i] - expected[i])
        if d > maxAbs || d.isNaN { maxAbs = d.isNaN ? .infinity : d; maxIndex = i }
        if !(d <= atol + rtol * abs(expected[i])) { bad.append((i, actual[i], expected[i])) }
    }
    return Closeness(maxAbsolute: maxAbs, maxIndex: maxIndex, mismatches: bad)
}

public func expectClose(_ actual: [Float], _ expected: [Float], atol: Float = 1e-5, rtol: Float = 1e-4,
                        _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(what): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
    let c = closeness(actual, expected, atol: atol, rtol: rtol)
    #expect(c.mismatches.isEmpty, "\(what): \(c)", sourceLocation: sourceLocation)
}

/// A small seeded generator for tests (splitmix64); print the seed on failure.
public struct TestRandom {
    public let seed: UInt64
    private var state: UInt64
    public init(seed: UInt64) { self.seed = seed; state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    public mutating func float() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
    /// Roughly normal (sum of uniforms).
    public mutating func normal() -> Float { (0..<4).reduce(Float(0)) { acc, _ in acc + float() } * 0.866 }
    public mutating func int(_ range: Range<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    public mutating func floats(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in normal() * scale } }
    public mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
}
