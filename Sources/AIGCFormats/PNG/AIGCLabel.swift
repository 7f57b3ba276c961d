// The implicit label of AI-generated content (GB 45438-2025, section on metadata labels) and aigc's
// own generation record. See shared/PROVENANCE.md; PNGImage+AIGCLabel writes both into PNG files.
import Foundation

/// The GB 45438-2025 implicit label: a JSON object stored under the key `AIGC`. The JSON keys are
/// spelled exactly as the standard spells them (`Label`, `ContentProducer`, `ProduceID`, ...).
public struct AIGCLabel: Codable, Sendable, Equatable {
    /// "1": generated or synthesised by AI. The standard also defines "2" (possibly) and "3" (suspected).
    public var label: String
    /// Name or registration code of the service that generated the content.
    public var contentProducer: String
    /// The producer's unique id of this piece of content.
    public var produceID: String
    /// Free for the producer; aigc puts a digest of the content that lets it verify the file.
    public var reservedCode1: String
    /// Name or code of the platform that distributes the content (empty when aigc only generates).
    public var contentPropagator: String
    /// The propagator's id of the content.
    public var propagateID: String
    /// Free for the propagator.
    public var reservedCode2: String

    enum CodingKeys: String, CodingKey, CaseIterable {
        case label = "Label", contentProducer = "ContentProducer", produceID = "ProduceID", reservedCode1 = "ReservedCode1"
        case contentPropagator = "ContentPropagator", propagateID = "PropagateID", reservedCode2 = "ReservedCode2"
    }

    public init(label: String = "1", contentProducer: String, produceID: String, reservedCode1: String = "",
                contentPropagator: String = "", propagateID: String = "", reservedCode2: String = "") {
        self.label = label
        self.contentProducer = contentProducer
        self.produceID = produceID
        self.reservedCode1 = reservedCode1
        self.contentPropagator = contentPropagator
        self.propagateID = propagateID
        self.reservedCode2 = reservedCode2
    }

    /// Lenient decoding: labels written by other tools may omit empty fields or write `Label` as a number.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func field(_ key: CodingKeys) throws -> String {
            if let s = try? c.decodeIfPresent(String.self, forKey: key) { return s }
            if let n = try? c.decodeIfPresent(Int.self, forKey: key) { return String(n) }
            return ""
        }
        label = try field(.label)
        contentProducer = try field(.contentProducer)
        produceID = try field(.produceID)
        reservedCode1 = try field(.reservedCode1)
        contentPropagator = try field(.contentPropagator)
        propagateID = try field(.propagateID)
        reservedCode2 = try field(.reservedCode2)
    }

    /// Compact JSON with the keys in the standard's order (JSONEncoder does not promise an order).
    public var json: String {
        let values = [label, contentProducer, produceID, reservedCode1, contentPropagator, propagateID, reservedCode2]
        return "{" + zip(CodingKeys.allCases, values).map { "\"\($0.rawValue)\":\(JSONText.quote($1))" }.joined(separator: ",") + "}"
    }

    /// Parses the JSON of a label; `source` names where it came from in errors.
    public init(json: String, source: String = "AIGC label") throws {
        do {
            self = try JSONDecoder().decode(AIGCLabel.self, from: Data(json.utf8))
        } catch {
            throw FormatError.invalidValue(file: source, field: "AIGC label", offset: 0, value: String(json.prefix(80)), reason: "not a JSON object: \(error)")
        }
        guard !label.isEmpty || !produceID.isEmpty || !contentProducer.isEmpty else {
            throw FormatError.invalidValue(file: source, field: "AIGC label", offset: 0, value: String(json.prefix(80)),
                                           reason: "has none of Label, ContentProducer, ProduceID")
        }
    }
}

/// aigc's own record of how a file was made, stored next to the label under `aigc:generation` so
/// `aigc inspect` can show it. Every field is text, like a `[String: String]`; absent ones are omitted.
public struct AIGCGenerationRecord: Codable, Sendable, Equatable {
    public var model: String
    /// sha256 of the weights file.
    public var modelDigest: String?
    public var prompt: String?
    /// The user's own prompt when a text model rewrote it into `prompt` (prompt enhancement).
    public var originalPrompt: String?
    /// The text model that rewrote it.
    public var promptEnhancer: String?
    public var negativePrompt: String?
    public var seed: String?
    public var steps: String?
    /// The model architecture ("dcgan", "sd15", ...), when the model path does not say it.
    public var architecture: String?
    /// Images generated together (tiled into one grid).
    public var count: String?
    public var scheduler: String?
    public var guidance: String?
    /// ISO 8601 time of generation.
    public var timestamp: String?
    /// The `ProduceID` of the label aigc wrote for this output.
    public var produceID: String?
    /// When aigc edited an image that was already labelled (img2img, upscaling): the original's `ProduceID`.
    public var sourceProduceID: String?

    enum CodingKeys: String, CodingKey {
        case model, modelDigest = "model_digest", prompt, originalPrompt = "original_prompt", promptEnhancer = "prompt_enhancer"
        case negativePrompt = "negative_prompt", seed, steps, architecture = "arch", count = "n"
        case scheduler, guidance, timestamp
        case produceID = "produce_id", sourceProduceID = "source_produce_id"
    }

    public init(model: String, modelDigest: String? = nil, prompt: String? = nil, negativePrompt: String? = nil, seed: String? = nil,
                steps: String? = nil, architecture: String? = nil, count: String? = nil, scheduler: String? = nil, guidance: String? = nil, timestamp: String? = nil,
                produceID: String? = nil, sourceProduceID: String? = nil) {
        self.model = model
        self.modelDigest = modelDigest
        self.prompt = prompt
        self.negativePrompt = negativePrompt
        self.seed = seed
        self.steps = steps
        self.architecture = architecture
        self.count = count
        self.scheduler = scheduler
        self.guidance = guidance
        self.timestamp = timestamp
        self.produceID = produceID
        self.sourceProduceID = sourceProduceID
    }

    /// Compact JSON with sorted keys (stable bytes for the same record).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    public init(json: String, source: String = "aigc:generation") throws {
        do {
            self = try JSONDecoder().decode(AIGCGenerationRecord.self, from: Data(json.utf8))
        } catch {
            throw FormatError.invalidValue(file: source, field: "aigc:generation record", offset: 0, value: String(json.prefix(80)), reason: "\(error)")
        }
    }
}

/// JSON string literals, escaped per RFC 8259.
enum JSONText {
    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
