// ImageGeneration: one `aigc image` run from start to finish — check the output folder, load the
// checkpoint, generate, tile the grid, label it and write the PNG. The CLI and (later) the HTTP
// API call this and only present the result.
import AIGCFormats
import AIGCKernels
import Foundation

/// Everything one run needs.
public struct ImageJob: Sendable {
    /// Path of the checkpoint.
    public var modelPath: String
    /// nil: detect from the checkpoint's tensor names.
    public var architecture: ImageArchitecture?
    /// What to generate.
    public var request: ImageRequest
    /// Where the PNG goes (its folder must exist).
    public var outputPath: String
    /// Draw the visible "AI生成 / AI-generated" mark.
    public var visibleLabel: Bool

    /// A job; `architecture` nil detects it from the checkpoint.
    public init(modelPath: String, architecture: ImageArchitecture? = nil, request: ImageRequest, outputPath: String, visibleLabel: Bool = false) {
        self.modelPath = modelPath
        self.architecture = architecture
        self.request = request
        self.outputPath = outputPath
        self.visibleLabel = visibleLabel
    }
}

/// What a run produced.
public struct ImageJobResult: Sendable, Encodable {
    /// The PNG written.
    public let output: String
    /// The architecture that generated it (`--arch` spelling).
    public let architecture: String
    /// Grid width in pixels.
    public let width: Int
    /// Grid height in pixels.
    public let height: Int
    /// Images in the grid.
    public let count: Int
    /// Steps each image took.
    public let steps: Int
    /// The seed used (given or drawn).
    public let seed: UInt64
    /// The label's ProduceID.
    public let produceID: String
    /// "sha256:<hex>" of the pixels (the label's ReservedCode1).
    public let pixelDigest: String
    /// "sha256:<hex>" of the checkpoint.
    public let modelDigest: String
    /// Time spent generating (not loading or writing).
    public let seconds: Double

    enum CodingKeys: String, CodingKey {
        case output, architecture, width, height, count, steps, seed, produceID = "produce_id", pixelDigest = "pixel_digest"
        case modelDigest = "model_digest", seconds
    }
}

/// Runs image jobs.
public enum ImageGeneration {
    /// Runs `job`, reporting each finished step.
    public static func run(_ job: ImageJob, pool: ComputePool = .shared, progress: (ImageProgress) -> Void = { _ in }) throws -> ImageJobResult {
        let folder = (job.outputPath as NSString).deletingLastPathComponent
        var isFolder: ObjCBool = false
        if !folder.isEmpty && !(FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) && isFolder.boolValue) {
            throw ImagingError.outputFolderMissing(path: folder)
        }
        let model = try ImageModelLoader.load(path: job.modelPath, architecture: job.architecture, pool: pool)
        let steps = try model.pipeline.validate(job.request)
        let started = Date()
        let images = try model.pipeline.generate(job.request, progress: progress)
        let seconds = Date().timeIntervalSince(started)
        var picture = ImageGrid.tile(images)
        let provenance = ImageProvenance(modelPath: model.path, modelDigest: model.digest, architecture: model.architecture.rawValue,
                                         seed: job.request.seed, count: job.request.count, steps: steps)
        let label = try LabeledImage.label(&picture, provenance: provenance, visible: job.visibleLabel)
        try PNGWriter.write(picture, to: job.outputPath)
        return ImageJobResult(output: job.outputPath, architecture: model.architecture.rawValue, width: picture.width, height: picture.height,
                              count: job.request.count, steps: steps, seed: job.request.seed, produceID: label.produceID,
                              pixelDigest: label.reservedCode1, modelDigest: model.digest, seconds: seconds)
    }
}
