// NormalRandom: standard normal draws from a seed (Box-Muller over AIGCSampling's xoshiro256**),
// so the same seed gives the same noise, and so the same images, on every run and thread count.
import AIGCSampling
#if canImport(Glibc)
import Glibc
#endif

/// A seeded N(0, 1) generator. Draws come in Box-Muller pairs computed in Double: each pair takes
/// two 53-bit uniforms u1 in (0, 1] and u2 in [0, 1) and yields r cos(2πu2), then r sin(2πu2),
/// with r = sqrt(-2 ln u1).
public struct NormalRandom: Sendable {
    private var uniform: SeededRandom
    private var spare: Float?
    /// The seed the sequence started from.
    public let seed: UInt64

    /// The sequence of `seed`.
    public init(seed: UInt64) {
        self.seed = seed
        uniform = SeededRandom(seed: seed)
    }

    /// The next standard normal value.
    public mutating func next() -> Float {
        if let s = spare {
            spare = nil
            return s
        }
        let scale = 1.0 / 9007199254740992.0  // 2^-53
        let u1 = Double((uniform.next() >> 11) + 1) * scale
        let u2 = Double(uniform.next() >> 11) * scale
        let r = (-2 * Glibc.log(u1)).squareRoot(), angle = 2 * Double.pi * u2
        spare = Float(r * Glibc.sin(angle))
        return Float(r * Glibc.cos(angle))
    }

    /// The next `count` values.
    public mutating func values(_ count: Int) -> [Float] {
        (0..<count).map { _ in next() }
    }
}
