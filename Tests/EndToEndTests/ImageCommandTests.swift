// `aigc image` and `aigc inspect` as users call them: the PNG grid's size and pixels (the same as
// the pipeline's output for that seed), the labels inspect reads back, the visible mark, and one
// clear error line for each kind of bad input.
import AIGCFormats
import AIGCImaging
import AIGCTestSupport
import Foundation
import Testing

@Suite(.serialized) struct ImageCommandTests {
    static let models = [("dcgan", "gan/generator.pth"), ("vae", "vae/vae.pth"), ("ddpm", "ddpm/ddpm_mnist.pth")]

    @Test(arguments: 0..<3)
    func imageWritesTheSeededGridAndInspectReadsTheLabel(_ index: Int) throws {
        let (arch, relative) = ImageCommandTests.models[index]
        let folder = Fixtures.temporaryDirectory("aigc-image-e2e")
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = Fixtures.mnistModel(relative), out = folder.appendingPathComponent("\(arch).png").path
        let run = try aigc(["image", "-m", model, "-n", "4", "--seed", "11", "-o", out])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("steps/s"), "\(run.stderr)")
        let image = try PNGReader.read(path: out)
        #expect(image.width == 56 && image.height == 56 && image.channels == 1)
        let loaded = try ImageModelLoader.load(path: model)
        let expected = ImageGrid.tile(try loaded.pipeline.generate(ImageRequest(count: 4, seed: 11)) { _ in })
        #expect(image.pixels == expected.pixels, "the PNG holds the model's output for seed 11")

        let inspect = try aigc(["inspect", "--json", out])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let report = try json(inspect.stdout)
        let label = try #require(report["AIGC"] as? [String: Any])
        #expect(label["Label"] as? String == "1" && label["ContentProducer"] as? String == "aigc")
        #expect((label["ReservedCode1"] as? String)?.hasPrefix("sha256:") == true)
        #expect(report["seed"] as? String == "11" && report["model"] as? String == model && report["arch"] as? String == arch)
        #expect(report["n"] as? String == "4" && report["pixels_match"] as? Bool == true && report["xmp"] as? Bool == true)
        #expect(report["model_digest"] as? String == loaded.digest)
    }

    @Test func labelMarksTheCornerAndInspectPrintsTheLabel() throws {
        let folder = Fixtures.temporaryDirectory("aigc-image-label")
        defer { try? FileManager.default.removeItem(at: folder) }
        let plain = folder.appendingPathComponent("plain.png").path, marked = folder.appendingPathComponent("marked.png").path
        for (path, extra) in [(plain, [String]()), (marked, ["--label"])] {
            let run = try aigc(["image", "-m", Fixtures.mnistModel("gan/generator.pth"), "--seed", "5", "-o", path] + extra)
            #expect(run.status == 0, "\(run.stderr)")
        }
        let a = try PNGReader.read(path: plain), b = try PNGReader.read(path: marked)
        #expect(a.width == 112 && b.width == 112, "16 images by default: a 4 x 4 grid of 28-pixel digits")
        let p = try VisibleLabel.placement(width: 112, height: 112)
        var inside = 0, outside = 0
        for y in 0..<112 {
            for x in 0..<112 where a.pixels[y * 112 + x] != b.pixels[y * 112 + x] {
                if x >= p.x && y >= p.y { inside += 1 } else { outside += 1 }
            }
        }
        #expect(inside > p.width * p.height / 4 && outside == 0, "\(inside) pixels changed in the corner, \(outside) elsewhere")
        let text = try aigc(["inspect", marked])
        #expect(text.status == 0)
        #expect(text.stdout.contains("Label 1") && text.stdout.contains("matches the pixels") && text.stdout.contains("seed 5"), "\(text.stdout)")
    }

    @Test func badInputFailsWithOneClearLine() throws {
        let folder = Fixtures.temporaryDirectory("aigc-image-bad")
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("x.png").path
        let gan = Fixtures.mnistModel("gan/generator.pth"), vae = Fixtures.mnistModel("vae/vae.pth")
        let cases: [([String], String)] = [
            (["image", "-m", Fixtures.fixture("image-ops/meta.json"), "-o", out], "not a PyTorch zip checkpoint"),
            (["image", "-m", "/no/such/model.pth", "-o", out], "/no/such/model.pth"),
            (["image", "-m", vae, "--arch", "dcgan", "-o", out], "not a dcgan checkpoint"),
            (["image", "-m", vae, "--arch", "stylegan", "-o", out], "choose one of dcgan, vae, ddpm"),
            (["image", "-m", Fixtures.mnistModel("vae/classifier.pth"), "-o", out], "latent digit classifier"),
            (["image", "-m", gan, "-n", "0", "-o", out], "invalid -n 0"),
            (["image", "-m", gan, "-n", "300", "-o", out], "invalid -n 300"),
            (["image", "-m", gan, "-t", "0", "-o", out], "invalid --threads 0"),
            (["image", "-m", gan, "-o", folder.appendingPathComponent("missing/x.png").path], "the output folder does not exist"),
            (["image", "-m", gan, "--steps", "30", "-o", out], "--steps is not supported for this architecture"),
            (["image", "-m", gan, "--cfg", "7.5", "-o", out], "--cfg is not supported for this architecture (dcgan)"),
            (["image", "-m", Fixtures.mnistModel("ddpm/ddpm_mnist.pth"), "--scheduler", "ddim", "-o", out], "--scheduler is not supported"),
            (["image", "-m", vae, "-o", out, "a photo of a cat"], "PROMPT is not supported for this architecture (vae)"),
            (["inspect", gan], "not a PNG"),
        ]
        for (arguments, needle) in cases {
            let run = try aigc(arguments)
            #expect(run.status != 0, "\(arguments) must fail")
            let lines = run.stderr.split(separator: "\n").filter { !$0.isEmpty }
            #expect(lines.count == 1, "\(arguments): \(run.stderr)")
            #expect(run.stderr.contains(needle), "\(arguments): \(run.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: out), "no output is written when the run fails")
        // Values the argument parser itself refuses come with its usage lines.
        let seed = try aigc(["image", "-m", gan, "--seed", "minus-one", "-o", out])
        #expect(seed.status != 0 && seed.stderr.contains("--seed"), "\(seed.stderr)")
    }

    @Test func inspectReportsAnUnlabelledImage() throws {
        let run = try aigc(["inspect", "--json", Fixtures.fixture("png/color0_depth8.png")])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try json(run.stdout)
        #expect(report["AIGC"] is NSNull && report["seed"] is NSNull)
        #expect(try aigc(["inspect", Fixtures.fixture("png/color0_depth8.png")]).stdout.contains("no AIGC label"))
    }
}
