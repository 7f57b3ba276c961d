// Opening an image checkpoint: read the .pth (AIGCFormats), recognise or check its architecture,
// build the pipeline (AIGCModels), and digest the file for the generation record.
import AIGCFormats
import AIGCKernels
import AIGCModels
import AIGCTensor

/// A checkpoint ready to generate with.
public struct LoadedImageModel: Sendable {
    /// The pipeline bound to the checkpoint's weights.
    public let pipeline: any ImagePipeline
    /// The checkpoint path as given.
    public let path: String
    /// "sha256:<hex>" of the checkpoint file.
    public let digest: String
    /// The architecture of the pipeline.
    public var architecture: ImageArchitecture { pipeline.architecture }
}

/// Loads image checkpoints.
public enum ImageModelLoader {
    /// Loads the checkpoint at `path`. `architecture` overrides the detection from tensor names;
    /// a checkpoint that does not hold it fails with `ImagingError.architectureMismatch`.
    public static func load(path: String, architecture: ImageArchitecture? = nil, pool: ComputePool = .shared) throws -> LoadedImageModel {
        if DiffusersFolder.looksLikeFolder(path) {
            if let architecture, architecture != .sd {
                throw ImagingError.architectureMismatch(path: path, requested: architecture.rawValue, detected: "sd",
                                                        reason: "it is a diffusers folder (Stable Diffusion)")
            }
            configureBLASSingleThreaded()
            return LoadedImageModel(pipeline: try StableDiffusionLoader.load(folder: path, pool: pool), path: path,
                                    digest: try StableDiffusionLoader.digest(folder: path))
        }
        let file = try MappedFile(path: path)
        if path.hasSuffix(".safetensors") {
            let weights = try SafetensorsFile(path: path)
            guard StableDiffusionCheckpoint.matches(tensorNames: weights.tensorNames) else {
                throw ImagingError.unknownArchitecture(path: path, hint: "a .safetensors image model must be a single-file Stable Diffusion 1.x checkpoint "
                                                       + "(model.diffusion_model.*, first_stage_model.*, cond_stage_model.*)")
            }
            if let architecture, architecture != .sd {
                throw ImagingError.architectureMismatch(path: path, requested: architecture.rawValue, detected: "sd", reason: "it is a Stable Diffusion checkpoint")
            }
            configureBLASSingleThreaded()
            return LoadedImageModel(pipeline: try StableDiffusionLoader.load(checkpoint: weights, source: path, pool: pool), path: path,
                                    digest: LabeledImage.digest(of: file))
        }
        let checkpoint = try PyTorchCheckpoint(file: file)
        let detected = ImageArchitecture.detect(checkpoint)
        guard let chosen = architecture ?? detected else {
            throw ImagingError.unknownArchitecture(path: path, hint: unknownHint(checkpoint))
        }
        // aigc parallelises around each sgemm itself; BLAS threads on top would oversubscribe the cores.
        configureBLASSingleThreaded()
        let pipeline: any ImagePipeline
        do {
            pipeline = try chosen.makePipeline(weights: checkpoint, pool: pool)
        } catch let error as TensorError {
            throw ImagingError.architectureMismatch(path: path, requested: chosen.rawValue, detected: detected == chosen ? nil : detected?.rawValue,
                                                    reason: reason(error))
        }
        return LoadedImageModel(pipeline: pipeline, path: path, digest: LabeledImage.digest(of: file))
    }

    static func unknownHint(_ weights: any WeightSource) -> String {
        if LatentDigitClassifier.matches(weights) {
            return "this is the MNIST VAE's latent digit classifier (classifier.pth), which labels latents but draws nothing; pass vae.pth"
        }
        let names = weights.tensorNames
        let shown = names.prefix(3).map { "'\($0)'" }.joined(separator: ", ")
        return names.isEmpty ? "it holds no tensors" : "its tensors (\(shown)\(names.count > 3 ? ", ..." : "")) match none of them"
    }

    static func reason(_ error: TensorError) -> String {
        switch error {
        case let .missing(name, _): return "it has no tensor '\(name)'"
        case let .shapeMismatch(name, expected, actual, _): return "tensor '\(name)' has shape \(actual), expected \(expected)"
        case .unsupportedType: return error.description
        }
    }
}
