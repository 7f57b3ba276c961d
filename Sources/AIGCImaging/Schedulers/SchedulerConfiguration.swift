// SchedulerConfiguration: a diffusers `scheduler/scheduler_config.json`, and the settings one
// scheduler takes from it. diffusers swaps schedulers with `NewScheduler.from_config(old.config)`:
// a key the file leaves out takes the default of the class the file names (`_class_name`), and only
// then the new class's own default. SD 1.5 ships a PNDMScheduler config without `timestep_spacing`,
// so its Euler sampler runs with PNDM's "leading" spacing, not Euler's "linspace"; aigc does the same.
import Foundation

/// The keys of a diffusers scheduler config that aigc's schedulers read; nil where the file is silent.
public struct SchedulerConfiguration: Codable, Sendable, Equatable {
    public var className: String?
    public var numTrainTimesteps: Int?
    public var betaStart: Double?
    public var betaEnd: Double?
    public var betaSchedule: String?
    public var trainedBetas: [Double]?
    public var predictionType: String?
    public var timestepSpacing: String?
    public var stepsOffset: Int?
    public var setAlphaToOne: Bool?
    public var clipSample: Bool?
    public var clipSampleRange: Double?
    public var thresholding: Bool?
    public var rescaleBetasZeroSNR: Bool?
    public var varianceType: String?
    public var useKarrasSigmas: Bool?
    public var interpolationType: String?
    public var solverOrder: Int?
    public var algorithmType: String?
    public var solverType: String?
    public var lowerOrderFinal: Bool?
    public var finalSigmasType: String?
    public var originalInferenceSteps: Int?
    public var timestepScaling: Double?

    enum CodingKeys: String, CodingKey {
        case className = "_class_name", numTrainTimesteps = "num_train_timesteps", betaStart = "beta_start", betaEnd = "beta_end"
        case betaSchedule = "beta_schedule", trainedBetas = "trained_betas", predictionType = "prediction_type"
        case timestepSpacing = "timestep_spacing", stepsOffset = "steps_offset", setAlphaToOne = "set_alpha_to_one"
        case clipSample = "clip_sample", clipSampleRange = "clip_sample_range", thresholding
        case rescaleBetasZeroSNR = "rescale_betas_zero_snr", varianceType = "variance_type", useKarrasSigmas = "use_karras_sigmas"
        case interpolationType = "interpolation_type", solverOrder = "solver_order", algorithmType = "algorithm_type"
        case solverType = "solver_type", lowerOrderFinal = "lower_order_final", finalSigmasType = "final_sigmas_type"
        case originalInferenceSteps = "original_inference_steps", timestepScaling = "timestep_scaling"
    }

    /// An empty configuration: every scheduler's own defaults.
    public init(className: String? = nil) { self.className = className }

    /// Stable Diffusion 1.5's `scheduler_config.json` (a PNDMScheduler config: scaled-linear betas
    /// 0.00085...0.012 over 1000 steps, "leading" spacing with steps_offset 1, epsilon prediction).
    public static let stableDiffusion15: SchedulerConfiguration = {
        var c = SchedulerConfiguration(className: "PNDMScheduler")
        c.numTrainTimesteps = 1000
        c.betaStart = 0.00085
        c.betaEnd = 0.012
        c.betaSchedule = "scaled_linear"
        c.clipSample = false
        c.setAlphaToOne = false
        c.stepsOffset = 1
        return c
    }()

    /// A config decoded from JSON; `source` names the file in errors.
    public static func decode(_ data: Data, source: String) throws -> SchedulerConfiguration {
        do {
            return try JSONDecoder().decode(SchedulerConfiguration.self, from: data)
        } catch {
            throw ImagingError.invalidSchedulerConfiguration(source: source, field: "(file)", value: "\(data.count) bytes",
                                                             reason: "not a diffusers scheduler config: \(error)")
        }
    }

    /// Each field that is nil here taken from `other`.
    func filling(_ other: SchedulerConfiguration) -> SchedulerConfiguration {
        var c = self
        c.numTrainTimesteps = numTrainTimesteps ?? other.numTrainTimesteps
        c.betaStart = betaStart ?? other.betaStart
        c.betaEnd = betaEnd ?? other.betaEnd
        c.betaSchedule = betaSchedule ?? other.betaSchedule
        c.trainedBetas = trainedBetas ?? other.trainedBetas
        c.predictionType = predictionType ?? other.predictionType
        c.timestepSpacing = timestepSpacing ?? other.timestepSpacing
        c.stepsOffset = stepsOffset ?? other.stepsOffset
        c.setAlphaToOne = setAlphaToOne ?? other.setAlphaToOne
        c.clipSample = clipSample ?? other.clipSample
        c.clipSampleRange = clipSampleRange ?? other.clipSampleRange
        c.thresholding = thresholding ?? other.thresholding
        c.rescaleBetasZeroSNR = rescaleBetasZeroSNR ?? other.rescaleBetasZeroSNR
        c.varianceType = varianceType ?? other.varianceType
        c.useKarrasSigmas = useKarrasSigmas ?? other.useKarrasSigmas
        c.interpolationType = interpolationType ?? other.interpolationType
        c.solverOrder = solverOrder ?? other.solverOrder
        c.algorithmType = algorithmType ?? other.algorithmType
        c.solverType = solverType ?? other.solverType
        c.lowerOrderFinal = lowerOrderFinal ?? other.lowerOrderFinal
        c.finalSigmasType = finalSigmasType ?? other.finalSigmasType
        c.originalInferenceSteps = originalInferenceSteps ?? other.originalInferenceSteps
        c.timestepScaling = timestepScaling ?? other.timestepScaling
        return c
    }

    /// The defaults diffusers' class `name` registers (only the keys where the classes disagree).
    static func classDefaults(_ name: String?) -> SchedulerConfiguration {
        var c = SchedulerConfiguration()
        switch name {
        case "PNDMScheduler":
            c.timestepSpacing = "leading"; c.setAlphaToOne = false
        case "DDIMScheduler":
            c.timestepSpacing = "leading"; c.setAlphaToOne = true; c.clipSample = true
        case "DDPMScheduler":
            c.timestepSpacing = "leading"; c.clipSample = true
        case "EulerDiscreteScheduler", "EulerAncestralDiscreteScheduler", "DPMSolverMultistepScheduler":
            c.timestepSpacing = "linspace"
        case "LCMScheduler":
            c.timestepSpacing = "leading"; c.setAlphaToOne = true; c.clipSample = false
            c.betaSchedule = "scaled_linear"; c.betaStart = 0.00085; c.betaEnd = 0.012
        default:
            break
        }
        return c
    }

    /// The settings scheduler `kind` runs with: this file, then its class's defaults, then `kind`'s.
    func settings(for kind: SchedulerKind, source: String = "scheduler config") throws -> SchedulerSettings {
        let c = filling(SchedulerConfiguration.classDefaults(className)).filling(SchedulerConfiguration.classDefaults(kind.diffusersClass))
        return try SchedulerSettings(c, source: source)
    }
}

/// How betas run over the training steps.
public enum BetaSchedule: String, Sendable {
    case linear, scaledLinear = "scaled_linear", cosine = "squaredcos_cap_v2"
}

/// What the model predicts.
public enum PredictionType: String, Sendable {
    case epsilon, sample, vPrediction = "v_prediction"
}

/// How inference timesteps are picked among the training steps.
public enum TimestepSpacing: String, Sendable {
    case linspace, leading, trailing
}

/// One scheduler's resolved settings, checked.
public struct SchedulerSettings: Sendable, Equatable {
    public var trainSteps = 1000
    public var betaStart = 0.0001
    public var betaEnd = 0.02
    public var betaSchedule = BetaSchedule.linear
    public var trainedBetas: [Double]?
    public var prediction = PredictionType.epsilon
    public var spacing = TimestepSpacing.leading
    public var stepsOffset = 0
    public var setAlphaToOne = true
    public var clipSample = false
    public var clipSampleRange: Float = 1
    public var lowerOrderFinal = true
    public var originalInferenceSteps = 50
    public var timestepScaling: Float = 10

    init(_ c: SchedulerConfiguration, source: String) throws {
        func invalid(_ field: String, _ value: Any, _ reason: String) -> ImagingError {
            .invalidSchedulerConfiguration(source: source, field: field, value: "\(value)", reason: reason)
        }
        func parse<E: RawRepresentable>(_ field: String, _ raw: String?, _ fallback: E) throws -> E where E.RawValue == String {
            guard let raw else { return fallback }
            guard let v = E(rawValue: raw) else { throw invalid(field, raw, "aigc knows \(E.self) values only as diffusers spells them") }
            return v
        }
        trainSteps = c.numTrainTimesteps ?? trainSteps
        guard (2...100_000).contains(trainSteps) else { throw invalid("num_train_timesteps", trainSteps, "must be 2...100000") }
        betaStart = c.betaStart ?? betaStart
        betaEnd = c.betaEnd ?? betaEnd
        guard betaStart > 0, betaEnd >= betaStart, betaEnd < 1 else {
            throw invalid("beta_start/beta_end", "\(betaStart)/\(betaEnd)", "betas must satisfy 0 < beta_start <= beta_end < 1")
        }
        betaSchedule = try parse("beta_schedule", c.betaSchedule, betaSchedule)
        if let betas = c.trainedBetas {
            guard betas.count == trainSteps, betas.allSatisfy({ $0 > 0 && $0 < 1 }) else {
                throw invalid("trained_betas", "\(betas.count) values", "needs num_train_timesteps (\(trainSteps)) values in (0, 1)")
            }
            trainedBetas = betas
        }
        prediction = try parse("prediction_type", c.predictionType, prediction)
        spacing = try parse("timestep_spacing", c.timestepSpacing, spacing)
        stepsOffset = c.stepsOffset ?? 0
        guard (0..<trainSteps).contains(stepsOffset) else { throw invalid("steps_offset", stepsOffset, "must be 0..<num_train_timesteps") }
        setAlphaToOne = c.setAlphaToOne ?? setAlphaToOne
        clipSample = c.clipSample ?? clipSample
        clipSampleRange = Float(c.clipSampleRange ?? 1)
        lowerOrderFinal = c.lowerOrderFinal ?? true
        originalInferenceSteps = c.originalInferenceSteps ?? 50
        guard (1...trainSteps).contains(originalInferenceSteps) else {
            throw invalid("original_inference_steps", originalInferenceSteps, "must be 1...num_train_timesteps")
        }
        timestepScaling = Float(c.timestepScaling ?? 10)
        // Options aigc does not implement are refused rather than ignored, so an image never comes
        // from a different sampler than the file asks for.
        func unless<T: Equatable>(_ value: T?, in allowed: [T]) -> String? { value.flatMap { allowed.contains($0) ? nil : "\($0)" } }
        let refused: [(field: String, value: String?)] = [
            ("thresholding", unless(c.thresholding, in: [false])), ("rescale_betas_zero_snr", unless(c.rescaleBetasZeroSNR, in: [false])),
            ("use_karras_sigmas", unless(c.useKarrasSigmas, in: [false])), ("variance_type", unless(c.varianceType, in: ["fixed_small"])),
            ("interpolation_type", unless(c.interpolationType, in: ["linear"])), ("solver_order", unless(c.solverOrder, in: [2])),
            ("algorithm_type", unless(c.algorithmType, in: ["dpmsolver++"])), ("solver_type", unless(c.solverType, in: ["midpoint"])),
            ("final_sigmas_type", unless(c.finalSigmasType, in: ["zero"])),
        ]
        if let (field, value) = refused.first(where: { $0.value != nil }) {
            throw invalid(field, value ?? "", "aigc implements DDPM variance fixed_small, linear sigma interpolation and DPM-Solver++ 2M "
                          + "(midpoint, final sigma zero), without thresholding, Karras sigmas or zero-SNR rescaling")
        }
    }
}
