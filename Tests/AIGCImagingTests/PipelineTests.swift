// The three pipelines through ImageArchitecture's registry: seeded determinism, the noise order
// (a larger request starts with the smaller one's images), value ranges, and every request and
// checkpoint error with its message.
import AIGCFormats
import AIGCImaging
import AIGCLayers
import AIGCTestSupport
import Foundation
import Testing

func loadImageModel(_ relative: String, _ architecture: ImageArchitecture? = nil) throws -> LoadedImageModel {
    try ImageModelLoader.load(path: Fixtures.mnistModel(relative), architecture: architecture)
}

/// The message of the error `body` throws ("" when it does not throw).
func errorMessage(_ body: () throws -> Void) -> String {
    do { try body() } catch { return "\(error)" }
    return ""
}

@Suite struct PipelineTests {
    static let checkpoints: [(String, ImageArchitecture)] = [("gan/generator.pth", .dcgan), ("vae/vae.pth", .vae), ("ddpm/ddpm_mnist.pth", .ddpm)]

    @Test(arguments: 0..<3)
    func detectsTheArchitectureAndGeneratesDeterministically(_ index: Int) throws {
        let (path, architecture) = PipelineTests.checkpoints[index]
        let model = try loadImageModel(path)
        #expect(model.architecture == architecture)
        #expect(model.digest.hasPrefix("sha256:") && model.digest.count == 71)
        var steps: [Int] = []
        let request = ImageRequest(count: 3, seed: 7)
        let a = try model.pipeline.generate(request) { steps.append($0.step) }
        let b = try model.pipeline.generate(request) { _ in }
        #expect(a.shape == [3, 1, 28, 28])
        #expect(a.values == b.values, "same seed, same images")
        #expect(a.values.allSatisfy { $0 >= 0 && $0 <= 1 }, "pipelines return values in [0, 1]")
        #expect(steps == Array(1...(architecture == .ddpm ? 10 : 1)))
        let other = try model.pipeline.generate(ImageRequest(count: 3, seed: 8)) { _ in }
        #expect(other.values != a.values, "another seed, other images")
        // Image-major noise: the first image of a 3-image request is the 1-image request's.
        let single = try model.pipeline.generate(ImageRequest(count: 1, seed: 7)) { _ in }
        #expect(Array(a.values.prefix(784)) == single.values)
    }

    @Test func normalRandomIsSeededAndStandard() {
        var a = NormalRandom(seed: 5), b = NormalRandom(seed: 5)
        let x = a.values(20000)
        #expect(x == b.values(20000))
        let mean = x.reduce(0, +) / Float(x.count)
        let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(x.count)
        #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.04, "mean \(mean), variance \(variance)")
        #expect(x.contains { $0 > 3 } && x.contains { $0 < -3 }, "tails are there")
    }

    @Test func oneShotGeneratorsRejectStepsAndConditioning() throws {
        for path in ["gan/generator.pth", "vae/vae.pth"] {
            let pipeline = try loadImageModel(path).pipeline
            var request = ImageRequest(count: 2, seed: 1, steps: 20)
            let steps = errorMessage { _ = try pipeline.validate(request) }
            #expect(steps.contains("--steps is not supported for this architecture"), "\(steps)")
            request.steps = 1
            #expect(try pipeline.validate(request) == 1)
            request.prompt = "a cat"
            #expect(errorMessage { _ = try pipeline.validate(request) }.contains("PROMPT is not supported for this architecture"))
        }
    }

    @Test func everyConditioningOptionIsNamedWhenRejected() throws {
        let pipeline = try loadImageModel("ddpm/ddpm_mnist.pth").pipeline
        let settings: [(String, (inout ImageRequest) -> Void)] = [
            ("--negative", { $0.negativePrompt = "blurry" }), ("--cfg", { $0.guidanceScale = 7.5 }), ("--scheduler", { $0.scheduler = "ddim" }),
            ("--init", { $0.initImage = "x.png" }), ("--strength", { $0.strength = 0.5 }), ("--width", { $0.width = 64 }),
            ("--height", { $0.height = 64 }),
        ]
        for (option, set) in settings {
            var request = ImageRequest(count: 1, seed: 1)
            set(&request)
            let message = errorMessage { _ = try pipeline.validate(request) }
            #expect(message.hasPrefix("\(option) is not supported for this architecture (ddpm)"), "\(message)")
        }
        #expect(try pipeline.validate(ImageRequest(count: 1, seed: 1, steps: 10)) == 10)
        let steps = errorMessage { _ = try pipeline.validate(ImageRequest(count: 1, seed: 1, steps: 50)) }
        #expect(steps.contains("schedule has 10 steps"), "\(steps)")
    }

    @Test func countsOutsideTheRangeAreRefused() throws {
        let pipeline = try loadImageModel("gan/generator.pth").pipeline
        for count in [0, -3, ImageRequest.maxCount + 1] {
            let message = errorMessage { _ = try pipeline.validate(ImageRequest(count: count, seed: 1)) }
            #expect(message.contains("invalid -n \(count)"), "\(message)")
        }
        #expect(errorMessage { _ = try pipeline.validate(ImageRequest(count: 1, seed: 1, steps: 0)) }.contains("--steps"))
    }

    @Test func checkpointErrorsNameTheFileAndTheFix() throws {
        let mismatch = errorMessage { _ = try loadImageModel("vae/vae.pth", .dcgan) }
        #expect(mismatch.contains("not a dcgan checkpoint") && mismatch.contains("layer_stack.1.weight") && mismatch.contains("--arch vae"), "\(mismatch)")
        let ddpmAsVAE = errorMessage { _ = try loadImageModel("ddpm/ddpm_mnist.pth", .vae) }
        #expect(ddpmAsVAE.contains("not a vae checkpoint") && ddpmAsVAE.contains("looks like ddpm"), "\(ddpmAsVAE)")
        let classifier = errorMessage { _ = try loadImageModel("vae/classifier.pth") }
        #expect(classifier.contains("latent digit classifier") && classifier.contains("vae.pth"), "\(classifier)")
        let tinyCheckpoint = errorMessage { _ = try ImageModelLoader.load(path: Fixtures.fixture("pytorch/small.pth")) }
        #expect(tinyCheckpoint.contains("not an image generator aigc knows"), "\(tinyCheckpoint)")
        let notACheckpoint = errorMessage { _ = try ImageModelLoader.load(path: Fixtures.fixture("image-ops/meta.json")) }
        #expect(notACheckpoint.contains("not a PyTorch zip checkpoint"), "\(notACheckpoint)")
        let missing = errorMessage { _ = try ImageModelLoader.load(path: "/no/such/model.pth") }
        #expect(missing.contains("/no/such/model.pth"), "\(missing)")
    }
}
