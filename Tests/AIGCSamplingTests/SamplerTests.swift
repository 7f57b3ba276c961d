// Sampling stages as properties over random logits (seeded; the seed is in each message).
import AIGCSampling
import Testing

func randomLogits(_ n: Int, seed: UInt64) -> [Float] {
    var g = SeededRandom(seed: seed)
    return (0..<n).map { _ in (g.nextUnit() - 0.5) * 20 }
}

func softmax(_ x: [Float]) -> [Float] {
    let m = x.max()!
    let e = x.map { expf($0 - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}

@Suite struct SamplerTests {
    static let seeds: [UInt64] = Array(1...20)

    @Test(arguments: seeds)
    func topKNeverPicksOutsideTheKBest(_ seed: UInt64) {
        let logits = randomLogits(500, seed: seed)
        let k = Int(seed % 7) + 1
        let allowed = Set(logits.indices.sorted { logits[$0] > logits[$1] }.prefix(k))
        var p = SamplingParameters()
        p.topK = k
        p.topP = 1
        p.minP = 0
        p.temperature = 5
        var sampler = Sampler(p, seed: seed)
        for _ in 0..<200 { #expect(allowed.contains(sampler.sample(logits[...], context: SamplingContext())), "seed \(seed)") }
    }

    @Test(arguments: seeds)
    func topPKeepsTheSmallestNucleus(_ seed: UInt64) {
        let logits = randomLogits(300, seed: seed)
        var c = Candidates(logits: logits)
        TopP(0.8).process(&c, context: SamplingContext())
        let probabilities = softmax(logits).sorted(by: >)
        let kept = probabilities.prefix(c.count).reduce(0, +)
        let withoutLast = probabilities.prefix(c.count - 1).reduce(0, +)
        #expect(kept >= 0.8 - 1e-5 && withoutLast < 0.8 + 1e-5, "seed \(seed): kept \(c.count)")
    }

    @Test(arguments: seeds)
    func minPKeepsTokensNearTheBest(_ seed: UInt64) {
        let logits = randomLogits(300, seed: seed)
        var c = Candidates(logits: logits)
        MinP(0.1).process(&c, context: SamplingContext())
        let p = softmax(logits)
        let best = p.max()!
        let kept = Set(c.ids.map(Int.init))
        // Tokens within float rounding of the threshold may go either way.
        for i in p.indices where p[i] > 0.1 * best * 1.0001 { #expect(kept.contains(i), "seed \(seed): token \(i) above min-p dropped") }
        for i in p.indices where p[i] < 0.1 * best * 0.9999 { #expect(!kept.contains(i), "seed \(seed): token \(i) below min-p kept") }
    }

    @Test(arguments: seeds)
    func temperatureTowardsZeroIsArgmax(_ seed: UInt64) {
        let logits = randomLogits(1000, seed: seed)
        let argmax = logits.indices.max { logits[$0] < logits[$1] }!
        var greedy = Sampler(.greedy, seed: seed)
        #expect(greedy.sample(logits[...], context: SamplingContext()) == argmax)
        var p = SamplingParameters()
        p.temperature = 1e-3
        p.topK = 0
        p.minP = 0
        p.topP = 1
        var cold = Sampler(p, seed: seed)
        #expect(cold.sample(logits[...], context: SamplingContext()) == argmax)
    }

    @Test func sameSeedSameDraws() {
        let logits = randomLogits(100, seed: 3)
        var p = SamplingParameters()
        p.temperature = 1
        var a = Sampler(p, seed: 99), b = Sampler(p, seed: 99), c = Sampler(p, seed: 100)
        let ra = (0..<50).map { _ in a.sample(logits[...], context: SamplingContext()) }
        let rb = (0..<50).map { _ in b.sample(logits[...], context: SamplingContext()) }
        let rc = (0..<50).map { _ in c.sample(logits[...], context: SamplingContext()) }
        #expect(ra == rb)
        #expect(ra != rc)
    }

    @Test func drawsFollowTheDistribution() {
        let logits: [Float] = [log(0.5), log(0.3), log(0.2)]
        var p = SamplingParameters()
        p.temperature = 1
        p.topK = 0
        p.topP = 1
        p.minP = 0
        var s = Sampler(p, seed: 5)
        var counts = [0, 0, 0]
        for _ in 0..<20000 { counts[s.sample(logits[...], context: SamplingContext())] += 1 }
        #expect(abs(Double(counts[0]) / 20000 - 0.5) < 0.02)
        #expect(abs(Double(counts[2]) / 20000 - 0.2) < 0.02)
    }

    @Test func penaltiesFollowTheirDefinitions() {
        var c = Candidates(logits: [2, -2, 1, 0.5])
        RepetitionPenalty(repetition: 2, presence: 0.5, frequency: 0.25, window: 3)
            .process(&c, context: SamplingContext(history: [9, 0, 1, 1]))
        // token 0 seen once: 2/2 - 0.25 - 0.5; token 1 seen twice: -2*2 - 0.5 - 0.5; others untouched.
        #expect(c.logits == [0.25, -5, 1, 0.5])
        var window = Candidates(logits: [2, 2])
        RepetitionPenalty(repetition: 2, window: 1).process(&window, context: SamplingContext(history: [0, 1]))
        #expect(window.logits == [2, 1], "only the last token is in a window of 1")
    }

    @Test func logitBiasCanBanAndForce() {
        let logits: [Float] = [5, 4, 3]
        var p = SamplingParameters.greedy
        p.logitBias = [0: -.infinity]
        var s = Sampler(p, seed: 1)
        #expect(s.sample(logits[...], context: SamplingContext()) == 1)
        p.logitBias = [2: 10]
        s = Sampler(p, seed: 1)
        #expect(s.sample(logits[...], context: SamplingContext()) == 2)
    }

    @Test func invalidParametersAreNamed() {
        var p = SamplingParameters()
        p.topP = 0
        #expect(p.problem()?.contains("top-p") == true)
        p = SamplingParameters()
        p.temperature = -1
        #expect(p.problem()?.contains("temperature") == true)
        p = SamplingParameters()
        p.repeatPenalty = 0
        #expect(p.problem()?.contains("repeat penalty") == true)
    }
}

#if canImport(Glibc)
import Glibc
#endif
