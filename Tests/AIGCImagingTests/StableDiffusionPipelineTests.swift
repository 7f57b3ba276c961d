// The Stable Diffusion pipeline on the tiny random-weight diffusers folder (Tests/Fixtures/sd-tiny)
// against scripts/reference/make_sd_pipeline_fixtures.py: the CLIP tokens of the prompt and the
// negative prompt, and a whole 2-step run with classifier-free guidance (DDIM and Euler) to the
// final latents and the decoded image. Then what a user sees: labelled PNGs whose record keeps the
// prompt and settings, reproducible images, image-to-image that names its source, and clear errors.
@testable import AIGCImaging
import AIGCFormats
import AIGCLayers
import AIGCTestSupport
import Foundation
import Testing

@Suite(.serialized) struct StableDiffusionPipelineTests {
    static let folder = Fixtures.fixture("sd-tiny")
    static let prompt = "a red fox in the snow at dawn", negative = "blurry"

    static func pipeline() throws -> (LoadedImageModel, StableDiffusionPipeline) {
        let model = try ImageModelLoader.load(path: folder)
        return (model, try #require(model.pipeline as? StableDiffusionPipeline))
    }

    static func maxRelativeError(_ a: [Float], _ b: [Float]) -> Float {
        let scale = max(1, b.map(abs).max() ?? 1)
        return zip(a, b).map { abs($0 - $1) }.max()! / scale
    }

    @Test(arguments: ["ddim", "euler"])
    func aTwoStepGuidedRunMatchesNumpy(_ name: String) throws {
        let (model, sd) = try Self.pipeline()
        #expect(model.architecture == .sd)
        let reference = try SafetensorsFile(path: Self.folder + "/reference/pipeline-\(name).safetensors")
        let tokens = try reference.tensor("tokens").floats().map { Int($0) }
        #expect(sd.tokenizer.encodePadded(Self.negative) == Array(tokens[..<77]))
        #expect(sd.tokenizer.encodePadded(Self.prompt) == Array(tokens[77...]))

        let context = try sd.conditioning(prompt: Self.prompt, negative: Self.negative, guided: true)
        var scheduler = try SchedulerKind(name: name).make(configuration: sd.schedulerConfiguration, steps: 2)
        let noise = try reference.tensor("noise").floats()
        let sigma = scheduler.initNoiseSigma
        var random = NormalRandom(seed: 0)
        var steps = 0
        let shape = (channels: 4, height: 16, width: 16)
        let latents = try sd.denoise(noise.map { $0 * sigma }, shape: shape, context: context, guidance: 7.5, scheduler: &scheduler, from: 0,
                                     random: &random) { steps = $0 }
        #expect(steps == 2)
        let latentError = Self.maxRelativeError(latents, try reference.tensor("latents").floats())
        #expect(latentError < 1e-3, "latents differ from numpy by \(latentError)")
        let image = sd.decode(latents, shape: shape).values.map { min(max(($0 + 1) * 0.5, 0), 1) }
        let imageError = Self.maxRelativeError(image, try reference.tensor("image").floats())
        #expect(imageError < 1e-3, "pixels differ from numpy by \(imageError)")
    }

    @Test func writesLabelledReproducibleImagesAndImageToImageNamesItsSource() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aigc-sd-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var request = ImageRequest(count: 2, seed: 42, steps: 3)
        request.prompt = Self.prompt
        request.negativePrompt = Self.negative
        request.scheduler = "euler-a"
        request.guidanceScale = 5
        var reported: [ImageProgress] = []
        let two = try ImageGeneration.run(ImageJob(modelPath: Self.folder, request: request, outputPath: dir + "/two.png")) { reported.append($0) }
        #expect(two.architecture == "sd" && two.width == 64 && two.height == 32 && two.steps == 3)
        #expect(reported.last == ImageProgress(step: 6, totalSteps: 6))
        let png = try PNGReader.read(path: dir + "/two.png")
        let record = try #require(try png.generationRecords().first)
        #expect(record.prompt == Self.prompt && record.negativePrompt == Self.negative && record.scheduler == "euler-a" && record.guidance == "5.0")
        #expect(try png.aigcLabel()?.label == "1")

        // Image 0 of two is the image of a request for one (each image has its own noise stream).
        request.count = 1
        _ = try ImageGeneration.run(ImageJob(modelPath: Self.folder, request: request, outputPath: dir + "/one.png"))
        let one = try PNGReader.read(path: dir + "/one.png")
        var left: [UInt8] = []
        let rowBytes = 64 * 3, half = 32 * 3
        for y in 0..<32 { left += png.pixels[(y * rowBytes)..<(y * rowBytes + half)] }
        #expect(left == one.pixels)

        var edit = ImageRequest(count: 1, seed: 7, steps: 4)
        edit.prompt = "a fox at night"
        edit.initImage = dir + "/one.png"
        edit.strength = 0.5
        let (_, sd) = try Self.pipeline()
        #expect(try sd.validate(edit) == 2, "strength 0.5 of 4 steps runs the last 2")
        let edited = try ImageGeneration.run(ImageJob(modelPath: Self.folder, request: edit, outputPath: dir + "/edit.png"))
        #expect(edited.steps == 2 && edited.width == 32)
        let source = try #require(try one.aigcLabel()).produceID
        #expect(try PNGReader.read(path: dir + "/edit.png").generationRecords().first?.sourceProduceID == source)
    }

    @Test func refusesWhatItCannotDo() throws {
        let (_, sd) = try Self.pipeline()
        func message(_ change: (inout ImageRequest) -> Void) -> String {
            var r = ImageRequest(count: 1, seed: 1)
            change(&r)
            do { _ = try sd.validate(r); return "" } catch { return "\(error)" }
        }
        #expect(message { $0.width = 42 }.contains("--width"), "the tiny model needs multiples of 4")
        #expect(message { $0.scheduler = "pndm" }.contains("pndm"))
        #expect(message { $0.strength = 0.5 }.contains("--init"))
        #expect(message { $0.guidanceScale = -1 }.contains("--cfg"))
        #expect(message { $0.initImage = "/nonexistent.png" }.contains("nonexistent"))
        #expect(message { _ in }.isEmpty)
    }

    @Test func badModelsGetErrorsNamingTheFile() throws {
        func message(_ path: String, _ arch: ImageArchitecture? = nil) -> String {
            do { _ = try ImageModelLoader.load(path: path, architecture: arch); return "" } catch { return "\(error)" }
        }
        let notSD = Self.folder + "/text_encoder/model.safetensors"
        #expect(message(notSD).contains("single-file Stable Diffusion"), "\(message(notSD))")
        #expect(message(Self.folder, .dcgan).contains("diffusers folder"))

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aigc-sd-bad-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/unet", withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: URL(fileURLWithPath: dir + "/model_index.json"))
        #expect(message(dir).contains("text_encoder/config.json"), "\(message(dir))")

        // A truncated single-file checkpoint is refused with the file's name, never read past its end.
        let truncated = dir + "/truncated.safetensors"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Self.folder + "/unet/diffusion_pytorch_model.safetensors"))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
        #expect(message(truncated).contains("truncated.safetensors"), "\(message(truncated))")
    }
}
