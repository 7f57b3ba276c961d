// Diffusion schedulers against numpy restatements of diffusers' (Tests/Fixtures/schedulers, made by
// scripts/reference/make_scheduler_fixtures.py): timesteps, starting noise, every step of a run with a
// synthetic model, and img2img from strength 0.6.
import AIGCImaging
import AIGCTestSupport
import Foundation
import Testing

struct SchedulerCase: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let kind: String
    let config: [String: JSONValue]
    let eta: Float
    let steps: Int
    let timesteps: [Float]
    let sigmas: [Float]?
    let init_noise_sigma: Float
    let noise_used: [Bool]
    let trajectory: [[Float]]
    let img2img_start: Int
    let img2img_noised: [Float]
    let img2img_final: [Float]
    var testDescription: String { name }
}

/// Any JSON value, to turn the case's config back into bytes for SchedulerConfiguration.decode.
enum JSONValue: Codable, Sendable {
    case number(Double), string(String), bool(Bool), null
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null } else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) } else { self = .string(try c.decode(String.self)) }
    }
    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case let .number(n): try c.encode(n)
        case let .string(s): try c.encode(s)
        case let .bool(b): try c.encode(b)
        case .null: try c.encodeNil()
        }
    }
}

struct SchedulerFixtures: Decodable {
    let size: Int
    let cases: [SchedulerCase]
    let sd15_ddim_50: [Int]
    let euler_linspace_7: [Float]
    let sd15_dpm_20: [Int]

    static let file: SchedulerFixtures? = {
        let url = URL(fileURLWithPath: Fixtures.fixture("schedulers/cases.json"))
        return (try? Data(contentsOf: url)).flatMap { try? JSONDecoder().decode(SchedulerFixtures.self, from: $0) }
    }()
}

/// The fixture's deterministic stand-ins for Gaussian noise: 1.2 sin(0.7 i + 1.3 k + 0.1).
func wave(_ k: Int, count: Int) -> [Float] {
    (0..<count).map { Float(1.2 * sin(0.7 * Double($0) + 1.3 * Double(k) + 0.1)) }
}

/// The fixture's synthetic model: 0.1 x + 0.5 sin(t / 100 + 0.05 (i mod 7)).
func syntheticModel(_ x: [Float], _ t: Float) -> [Float] {
    x.enumerated().map { i, v in 0.1 * v + Float(0.5 * sin(Double(t) / 100 + 0.05 * Double(i % 7))) }
}

@Suite struct SchedulerTests {
    static let cases = SchedulerFixtures.file?.cases ?? []

    func make(_ c: SchedulerCase, strength: Double = 1) throws -> any DiffusionScheduler {
        let config = try SchedulerConfiguration.decode(JSONEncoder().encode(c.config), source: c.name)
        if c.eta > 0 { return try DDIMScheduler(configuration: config, steps: c.steps, eta: c.eta) }
        return try SchedulerKind(name: c.kind).make(configuration: config, steps: c.steps, strength: strength, source: c.name)
    }

    @Test func fixturesArePresent() {
        #expect(Self.cases.count == 24, "Tests/Fixtures/schedulers/cases.json is missing or unreadable")
    }

    @Test(arguments: cases) func matchesDiffusers(_ c: SchedulerCase) throws {
        var scheduler = try make(c)
        #expect(scheduler.timesteps == c.timesteps)
        if let sigmas = c.sigmas {
            let actual = (scheduler as? EulerScheduler)?.sigmas ?? (scheduler as? EulerAncestralScheduler)?.sigmas
                ?? (scheduler as? DPMSolverMultistepScheduler)?.sigmas ?? []
            expectClose(actual, sigmas, atol: 0, rtol: 1e-6, "\(c.name) sigmas")
        }
        expectClose([scheduler.initNoiseSigma], [c.init_noise_sigma], atol: 0, rtol: 1e-6, "\(c.name) init noise sigma")
        let size = c.trajectory[0].count
        var x = wave(0, count: size).map { $0 * scheduler.initNoiseSigma }
        for i in 0..<c.steps {
            #expect(scheduler.needsNoise(at: i) == c.noise_used[i], "\(c.name) step \(i)")
            let out = syntheticModel(scheduler.scaleModelInput(x, stepIndex: i), scheduler.timesteps[i])
            x = scheduler.step(modelOutput: out, sample: x, stepIndex: i, noise: c.noise_used[i] ? wave(i + 1, count: size) : nil)
            expectClose(x, c.trajectory[i], atol: 1e-5, rtol: 1e-5, "\(c.name) after step \(i)")
        }
    }

    @Test(arguments: cases) func img2imgMatchesDiffusers(_ c: SchedulerCase) throws {
        var scheduler = try make(c, strength: 0.6)
        let size = c.img2img_noised.count
        let start = scheduler.startIndex(strength: 0.6)
        #expect(start == c.img2img_start)
        let clean = (0..<size).map { Float(0.5 * cos(0.3 * Double($0))) }
        var x = scheduler.addNoise(clean, noise: wave(99, count: size), stepIndex: start)
        expectClose(x, c.img2img_noised, atol: 1e-6, rtol: 1e-6, "\(c.name) noised start")
        for i in start..<c.steps {
            let out = syntheticModel(scheduler.scaleModelInput(x, stepIndex: i), scheduler.timesteps[i])
            x = scheduler.step(modelOutput: out, sample: x, stepIndex: i, noise: scheduler.needsNoise(at: i) ? wave(i + 1, count: size) : nil)
        }
        expectClose(x, c.img2img_final, atol: 1e-5, rtol: 1e-5, "\(c.name) img2img result")
    }

    @Test func stableDiffusion15Timesteps() throws {
        let file = try #require(SchedulerFixtures.file)
        let ddim = try DDIMScheduler(configuration: .stableDiffusion15, steps: 50)
        #expect(ddim.timesteps.map { Int($0) } == file.sd15_ddim_50)
        #expect(ddim.timesteps.first == 981 && ddim.timesteps.last == 1)
        let dpm = try DPMSolverMultistepScheduler(configuration: .stableDiffusion15, steps: 20)
        #expect(dpm.timesteps.map { Int($0) } == file.sd15_dpm_20)
        let euler = try EulerScheduler(configuration: SchedulerConfiguration(className: "EulerDiscreteScheduler"), steps: 7)
        #expect(euler.timesteps == file.euler_linspace_7)
    }

    @Test func registryNamesAndAliases() throws {
        #expect(try SchedulerKind(name: "euler_ancestral") == .eulerAncestral)
        #expect(try SchedulerKind(name: "dpmpp-2m") == .dpmSolver2M)
        #expect(try SchedulerKind(name: "DDIM") == .ddim)
        #expect(SchedulerKind.allCases.map(\.rawValue) == ["ddpm", "ddim", "euler", "euler-a", "dpm++2m", "lcm"])
        #expect(throws: ImagingError.unknownScheduler(name: "heun", known: ["ddpm", "ddim", "euler", "euler-a", "dpm++2m", "lcm"])) {
            try SchedulerKind(name: "heun")
        }
    }

    @Test func refusesWhatItCannotDo() throws {
        let karras = Data(#"{"_class_name": "EulerDiscreteScheduler", "use_karras_sigmas": true}"#.utf8)
        let config = try SchedulerConfiguration.decode(karras, source: "karras.json")
        #expect(throws: ImagingError.self) { try EulerScheduler(configuration: config, steps: 10, source: "karras.json") }
        let odd = Data(#"{"beta_schedule": "sigmoid"}"#.utf8)
        #expect(throws: ImagingError.invalidSchedulerConfiguration(source: "odd.json", field: "beta_schedule", value: "sigmoid",
                                                                    reason: "aigc knows BetaSchedule values only as diffusers spells them")) {
            try DDIMScheduler(configuration: SchedulerConfiguration.decode(odd, source: "odd.json"), steps: 10, source: "odd.json")
        }
        #expect(throws: ImagingError.self) { try LCMScheduler(configuration: SchedulerConfiguration(), steps: 51) }
        #expect(throws: ImagingError.self) { try LCMScheduler(configuration: SchedulerConfiguration(), steps: 31, strength: 0.6) }
        #expect(throws: ImagingError.self) { try DDPMScheduler(configuration: SchedulerConfiguration(), steps: 0) }
    }

    @Test func seededNoiseReproduces() throws {
        var a = try SchedulerKind.eulerAncestral.make(configuration: .stableDiffusion15, steps: 4)
        var b = a
        var r1 = NormalRandom(seed: 7), r2 = NormalRandom(seed: 7)
        let x = wave(0, count: 16)
        let out = syntheticModel(x, a.timesteps[0])
        #expect(a.step(modelOutput: out, sample: x, stepIndex: 0, random: &r1) == b.step(modelOutput: out, sample: x, stepIndex: 0, random: &r2))
    }
}
