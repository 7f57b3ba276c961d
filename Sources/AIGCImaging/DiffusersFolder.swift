// DiffusersFolder: a diffusers pipeline saved with `save_pretrained` — model_index.json naming the
// pipeline class and its components, and one subfolder per component: unet/, vae/, text_encoder/
// (config.json + diffusion_pytorch_model.safetensors or model.safetensors, possibly sharded with an
// index, possibly an fp16 variant), tokenizer/ (vocab.json, merges.txt), scheduler/
// (scheduler_config.json). This file only finds and opens files; the models read their own names.
import AIGCFormats
import AIGCKernels
import AIGCModels
import AIGCTensor
import Foundation

/// A diffusers-layout folder and its components.
public struct DiffusersFolder: Sendable {
    /// The folder.
    public let path: String
    /// `_class_name` of model_index.json (e.g. "StableDiffusionPipeline"), nil without the file.
    public let pipelineClass: String?
    /// Component name -> class name from model_index.json (e.g. "unet" -> "UNet2DConditionModel").
    public let components: [String: String]

    /// Whether `path` looks like a diffusers folder (model_index.json, or a unet/config.json).
    public static func looksLikeFolder(_ path: String) -> Bool {
        let fm = FileManager.default
        return fm.fileExists(atPath: (path as NSString).appendingPathComponent("model_index.json"))
            || fm.fileExists(atPath: (path as NSString).appendingPathComponent("unet/config.json"))
    }

    /// Reads model_index.json when present (a folder of bare component subfolders works too).
    public init(path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw FormatError.missingFile(path: path, hint: "A diffusers model is a folder with model_index.json and unet/, vae/, text_encoder/ subfolders.")
        }
        self.path = path
        let index = (path as NSString).appendingPathComponent("model_index.json")
        guard let data = FileManager.default.contents(atPath: index) else {
            pipelineClass = nil
            components = [:]
            return
        }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw FormatError.invalidValue(file: index, field: "model_index", offset: 0, value: "", reason: "expected a JSON object")
        }
        pipelineClass = json["_class_name"] as? String
        var components: [String: String] = [:]
        for (name, value) in json where !name.hasPrefix("_") {
            // ["diffusers", "UNet2DConditionModel"]; [null, null] marks a component saved as absent.
            if let pair = value as? [Any], pair.count == 2, let className = pair[1] as? String { components[name] = className }
        }
        self.components = components
    }

    /// The subfolder of component `name`.
    public func componentPath(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// The configuration JSON of component `name`: config.json, or scheduler_config.json for schedulers.
    public func configuration(_ name: String) throws -> Data {
        let folder = componentPath(name)
        for file in ["config.json", "scheduler_config.json"] {
            if let data = FileManager.default.contents(atPath: (folder as NSString).appendingPathComponent(file)) { return data }
        }
        throw FormatError.missingFile(path: (folder as NSString).appendingPathComponent("config.json"),
                                      hint: "Component '\(name)' of a diffusers folder needs its config.json (scheduler_config.json for a scheduler).")
    }

    /// Weight files tried, in order: diffusers' name, transformers' name, then their fp16 variants.
    static let weightStems = ["diffusion_pytorch_model", "model", "diffusion_pytorch_model.fp16", "model.fp16"]

    /// The weights of component `name` (memory-mapped; single file or shards with an index).
    public func weights(_ name: String) throws -> any WeightSource {
        let folder = componentPath(name), fm = FileManager.default
        for stem in DiffusersFolder.weightStems {
            let single = (folder as NSString).appendingPathComponent(stem + ".safetensors")
            if fm.fileExists(atPath: single) || fm.fileExists(atPath: single + ".index.json") {
                return try SafetensorsFolder(path: folder, stem: stem)
            }
        }
        throw FormatError.missingFile(path: (folder as NSString).appendingPathComponent("diffusion_pytorch_model.safetensors"),
                                      hint: "Component '\(name)' needs diffusion_pytorch_model.safetensors or model.safetensors "
                                          + "(sharded: the .index.json beside the shards); convert .bin weights to safetensors first.")
    }

    /// The U-Net of `unet/`.
    public func unet(pool: ComputePool = .shared) throws -> UNet2DConditionModel {
        let config = try decode(UNet2DConfiguration.self, "unet")
        return try UNet2DConditionModel(configuration: config, weights: weights("unet"), pool: pool)
    }

    /// The VAE of `vae/` (with its encoder when the weights hold one).
    public func vae(pool: ComputePool = .shared) throws -> AutoencoderKL {
        let config = try decode(AutoencoderKLConfiguration.self, "vae")
        return try AutoencoderKL(configuration: config, weights: weights("vae"), pool: pool)
    }

    /// A component's configuration decoded as `type`, errors naming the file.
    public func decode<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        let data = try configuration(name), file = (componentPath(name) as NSString).appendingPathComponent("config.json")
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let ModelError.invalidConfiguration(message) {
            throw ModelError.invalidConfiguration("\(file): \(message)")
        } catch {
            throw FormatError.invalidValue(file: file, field: String(describing: type), offset: 0, value: "", reason: "\(error)")
        }
    }
}
