// Labelling a generated picture before it is written (shared/PROVENANCE.md): the optional visible
// mark first, then the GB 45438-2025 implicit label (AIGC iTXt chunk + TC260 XMP) whose
// ReservedCode1 is the sha256 of the final pixels, and aigc's generation record beside it.
import AIGCFormats
import Crypto
import Foundation

/// How an image was made: what goes into the generation record.
public struct ImageProvenance: Sendable, Equatable {
    /// Path of the checkpoint.
    public var modelPath: String
    /// "sha256:<hex>" of the checkpoint file.
    public var modelDigest: String
    /// Architecture name (`--arch` spelling).
    public var architecture: String
    /// Seed of the noise.
    public var seed: UInt64
    /// Images in the grid.
    public var count: Int
    /// Steps each image took.
    public var steps: Int
    /// When the images were generated.
    public var timestamp: Date
    /// Text conditioning, guidance and sampler (text-to-image models).
    public var prompt: String?
    public var originalPrompt: String?
    public var promptEnhancer: String?
    public var negativePrompt: String?
    public var scheduler: String?
    public var guidance: Float?
    /// ProduceID of a labelled image this one was made from (image-to-image).
    public var sourceProduceID: String?

    /// Provenance of one generation.
    public init(modelPath: String, modelDigest: String, architecture: String, seed: UInt64, count: Int, steps: Int, timestamp: Date = Date()) {
        self.modelPath = modelPath
        self.modelDigest = modelDigest
        self.architecture = architecture
        self.seed = seed
        self.count = count
        self.steps = steps
        self.timestamp = timestamp
    }

    /// Provenance of `request` run by a model: the conditioning settings come from the request.
    public init(request: ImageRequest, modelPath: String, modelDigest: String, architecture: String, count: Int, steps: Int, timestamp: Date = Date()) {
        self.init(modelPath: modelPath, modelDigest: modelDigest, architecture: architecture, seed: request.seed, count: count, steps: steps, timestamp: timestamp)
        prompt = request.prompt
        originalPrompt = request.originalPrompt
        promptEnhancer = request.promptEnhancer
        negativePrompt = request.negativePrompt
        scheduler = request.scheduler
        guidance = request.guidanceScale
    }

    /// The record stored under `aigc:generation`.
    public func record(produceID: String) -> AIGCGenerationRecord {
        let formatter = ISO8601DateFormatter()
        var record = AIGCGenerationRecord(model: modelPath, modelDigest: modelDigest, prompt: prompt, negativePrompt: negativePrompt, seed: String(seed),
                                          steps: String(steps), architecture: architecture, count: String(count), scheduler: scheduler,
                                          guidance: guidance.map { String($0) }, timestamp: formatter.string(from: timestamp),
                                          produceID: produceID, sourceProduceID: sourceProduceID)
        record.originalPrompt = originalPrompt
        record.promptEnhancer = promptEnhancer
        return record
    }
}

/// Adds aigc's labels to generated pictures.
public enum LabeledImage {
    /// The producer named in every label aigc writes.
    public static let producer = "aigc"

    /// "sha256:<hex>" of `bytes`.
    public static func digest<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        "sha256:" + SHA256.hash(data: Array(bytes)).map { String(format: "%02x", $0) }.joined()
    }

    /// "sha256:<hex>" of a file's bytes, read through a memory map.
    public static func digest(of file: MappedFile) -> String {
        "sha256:" + SHA256.hash(data: file.bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// Draws the visible mark when `visible` is set, then adds the implicit label and the record.
    /// Returns the label written (its ProduceID identifies this picture).
    @discardableResult
    public static func label(_ image: inout PNGImage, provenance: ImageProvenance, visible: Bool,
                             produceID: String = UUID().uuidString.lowercased()) throws -> AIGCLabel {
        if visible { try VisibleLabel.draw(on: &image) }
        let label = AIGCLabel(label: "1", contentProducer: producer, produceID: produceID, reservedCode1: digest(image.pixels))
        image.addAIGCLabel(label, record: provenance.record(produceID: produceID))
        return label
    }
}
