// ImageGeneration: one `aigc image` run from start to finish — check the output folder, load the
// checkpoint, generate, tile the grid, label it and write the PNG. The CLI and (later) the HTTP
// API call this and only present the result.
import AIGCFormats
import AIGCKernels
import AIGCLayers
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
    /// Seconds per phase: "load_seconds", and for diffusion models "text_encode_seconds",
    /// "denoise_seconds" (all steps of all images), "decode_seconds", "vae_encode_seconds".
    public let timings: [String: Double]

    enum CodingKeys: String, CodingKey {
        case output, architecture, width, height, count, steps, seed, produceID = "produce_id", pixelDigest = "pixel_digest"
        case modelDigest = "model_digest", seconds, timings
    }
}

/// Labelled pictures, ready to encode.
public struct GeneratedImages: Sendable {
    /// One grid, or one picture per image (`ImageGeneration.Layout`).
    public let pictures: [PNGImage]
    /// The label of each picture (same order).
    public let labels: [AIGCLabel]
    /// Steps each image took.
    public let steps: Int
    /// The seed used.
    public let seed: UInt64
    /// Time spent generating (not loading or labelling).
    public let seconds: Double
    /// Seconds per phase of pipelines that report them (Stable Diffusion), keyed "<phase>_seconds".
    public let timings: [String: Double]
}

/// Runs image jobs.
public enum ImageGeneration {
    /// How a batch becomes pictures: tiled into one grid (the CLI) or one picture each (the HTTP API).
    public enum Layout: Sendable { case grid, separate }

    /// Runs `job`, reporting each finished step.
    public static func run(_ job: ImageJob, pool: ComputePool = .shared, progress: (ImageProgress) -> Void = { _ in }) throws -> ImageJobResult {
        let folder = (job.outputPath as NSString).deletingLastPathComponent
        var isFolder: ObjCBool = false
        if !folder.isEmpty && !(FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) && isFolder.boolValue) {
            throw ImagingError.outputFolderMissing(path: folder)
        }
        let loadStarted = Date()
        let model = try ImageModelLoader.load(path: job.modelPath, architecture: job.architecture, pool: pool)
        let loadSeconds = Date().timeIntervalSince(loadStarted)
        let generated = try generate(model, request: job.request, visibleLabel: job.visibleLabel, layout: .grid, progress: progress)
        let picture = generated.pictures[0], label = generated.labels[0]
        try PNGWriter.write(picture, to: job.outputPath)
        return ImageJobResult(output: job.outputPath, architecture: model.architecture.rawValue, width: picture.width, height: picture.height,
                              count: job.request.count, steps: generated.steps, seed: job.request.seed, produceID: label.produceID,
                              pixelDigest: label.reservedCode1, modelDigest: model.digest, seconds: generated.seconds,
                              timings: generated.timings.merging(["load_seconds": loadSeconds]) { a, _ in a })
    }

    /// Generates `request` with a loaded model and labels the result (implicit label always, the
    /// visible mark when asked). Not re-entrant per model: one generation at a time on `model`.
    public static func generate(_ model: LoadedImageModel, request: ImageRequest, visibleLabel: Bool, layout: Layout,
                                progress: (ImageProgress) -> Void = { _ in }) throws -> GeneratedImages {
        let steps = try model.pipeline.validate(request)
        let started = Date()
        let images = try model.pipeline.generate(request, progress: progress)
        let seconds = Date().timeIntervalSince(started)
        let batches: [ImageTensor]
        switch layout {
        case .grid: batches = [images]
        case .separate:
            let size = images.imageSize
            batches = (0..<images.batch).map { n in
                ImageTensor(batch: 1, channels: images.channels, height: images.height, width: images.width,
                            values: Array(images.values[n * size..<(n + 1) * size]))
            }
        }
        // An edit of a labelled image names the original (PROVENANCE.md: the chain of AI edits stays visible).
        let source = try request.initImage.flatMap { try PNGReader.read(path: $0).aigcLabel()?.produceID }
        var pictures: [PNGImage] = [], labels: [AIGCLabel] = []
        for batch in batches {
            var picture = ImageGrid.tile(batch)
            var provenance = ImageProvenance(request: request, modelPath: model.path, modelDigest: model.digest,
                                             architecture: model.architecture.rawValue, count: batch.batch, steps: steps, timestamp: started)
            provenance.sourceProduceID = source
            labels.append(try LabeledImage.label(&picture, provenance: provenance, visible: visibleLabel))
            pictures.append(picture)
        }
        let phases = (model.pipeline as? StableDiffusionPipeline)?.lastTimings ?? [:]
        return GeneratedImages(pictures: pictures, labels: labels, steps: steps, seed: request.seed, seconds: seconds,
                               timings: Dictionary(uniqueKeysWithValues: phases.map { ($0.key + "_seconds", $0.value) }))
    }
}
