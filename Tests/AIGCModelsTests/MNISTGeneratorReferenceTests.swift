// The three MNIST generators (DCGAN, VAE + latent classifier, toy DDPM eps-model) on the real
// checkpoints against the numpy forward passes of scripts/reference/make_mnist_generator_fixtures.py,
// fed the noise stored in the fixture. The issue asks for agreement within 1e-3.
import AIGCFormats
import AIGCKernels
import AIGCLayers
import AIGCModels
import AIGCTensor
import AIGCTestSupport
import Testing

func mnistFixture(_ name: String) throws -> [Float] { try Fixtures.floats("mnist-generators/\(name).f32") }

@Suite struct MNISTGeneratorReferenceTests {
    @Test func dcganMatchesNumpy() throws {
        let weights = try PyTorchCheckpoint(path: Fixtures.mnistModel("gan/generator.pth"))
        let config = try DCGANConfiguration(weights: weights)
        #expect(config == DCGANConfiguration())
        let generator = try DCGANGenerator(configuration: config, weights: weights, pool: ComputePool(threads: 2))
        let images = generator.forward(noise: try mnistFixture("gan_z"), count: 4)
        #expect(images.shape == [4, 1, 28, 28])
        expectClose(images.values, try mnistFixture("gan_images"), atol: 1e-3, rtol: 0, "DCGAN images")
    }

    @Test func vaeDecoderEncoderAndClassifierMatchNumpy() throws {
        let weights = try PyTorchCheckpoint(path: Fixtures.mnistModel("vae/vae.pth"))
        let vae = try MNISTVAE(configuration: MNISTVAEConfiguration(weights: weights), weights: weights)
        #expect(vae.config.latentSize == 20 && vae.config.decoderChannels == 8)
        let z = try mnistFixture("vae_z")
        let images = vae.decode(latents: z, count: 4)
        #expect(images.shape == [4, 1, 28, 28])
        expectClose(images.values, try mnistFixture("vae_images"), atol: 1e-3, rtol: 0, "VAE images")
        let (mean, logVariance) = vae.encode(images)
        expectClose(mean, try mnistFixture("vae_mean"), atol: 1e-3, rtol: 1e-3, "VAE posterior mean")
        expectClose(logVariance, try mnistFixture("vae_logvar"), atol: 1e-3, rtol: 1e-3, "VAE posterior log-variance")
        let classifier = try LatentDigitClassifier(weights: PyTorchCheckpoint(path: Fixtures.mnistModel("vae/classifier.pth")))
        expectClose(classifier.logits(latents: z, count: 4), try mnistFixture("classifier_logits"), atol: 1e-4, rtol: 1e-4, "digit logits")
        #expect(classifier.digits(latents: z, count: 4) == [7, 4, 8, 2], "the digits meta.json records")
    }

    /// The classifier was trained on the VAE's latents, so a decoded latent, encoded again, should
    /// mostly keep its digit: this checks decoder, encoder and classifier together on 64 latents.
    /// The numpy reference keeps 73% of 256 prior latents (chance is 10%); we ask for half.
    @Test func decodedDigitsSurviveARoundTripThroughTheEncoder() throws {
        let weights = try PyTorchCheckpoint(path: Fixtures.mnistModel("vae/vae.pth"))
        let vae = try MNISTVAE(weights: weights)
        let classifier = try LatentDigitClassifier(weights: PyTorchCheckpoint(path: Fixtures.mnistModel("vae/classifier.pth")))
        var rng = TestRandom(seed: 64)
        let n = 64
        let z = (0..<(n * 20)).map { _ in rng.normal() }
        let before = classifier.digits(latents: z, count: n)
        let after = classifier.digits(latents: vae.encode(vae.decode(latents: z, count: n)).mean, count: n)
        let kept = zip(before, after).filter { $0 == $1 }.count
        #expect(kept >= n / 2, "only \(kept) of \(n) digits survived decode -> encode (seed \(rng.seed))")
        #expect(Set(before).count >= 6, "prior samples should cover most digits, got \(Set(before).sorted())")
    }

    @Test func ddpmEpsModelAndScheduleMatchNumpy() throws {
        let weights = try PyTorchCheckpoint(path: Fixtures.mnistModel("ddpm/ddpm_mnist.pth"))
        let config = try ToyDDPMConfiguration(weights: weights)
        #expect(config.blockChannels == [64, 128, 64])
        let model = try ToyDDPM(configuration: config, weights: weights)
        #expect(model.schedule.steps == 10)
        // beta_t = (0.02 - 1e-4) t / 10 + 1e-4 (ddpm_schedules), alpha = 1 - beta.
        expectClose(model.schedule.alpha, (0...10).map { 1 - ((0.02 - 1e-4) * Float($0) / 10 + 1e-4) }, atol: 1e-6, rtol: 0, "alpha_t")
        let x = ImageTensor(batch: 4, channels: 1, height: 28, width: 28, values: try mnistFixture("ddpm_x_T"))
        expectClose(model.predictNoise(x).values, try mnistFixture("ddpm_first_eps"), atol: 1e-3, rtol: 0, "eps of x_T")
    }

    @Test func detectionTellsTheCheckpointsApart() throws {
        let gan = try PyTorchCheckpoint(path: Fixtures.mnistModel("gan/generator.pth"))
        let vae = try PyTorchCheckpoint(path: Fixtures.mnistModel("vae/vae.pth"))
        let ddpm = try PyTorchCheckpoint(path: Fixtures.mnistModel("ddpm/ddpm_mnist.pth"))
        let classifier = try PyTorchCheckpoint(path: Fixtures.mnistModel("vae/classifier.pth"))
        #expect(DCGANGenerator.matches(gan) && !DCGANGenerator.matches(vae) && !DCGANGenerator.matches(ddpm))
        #expect(MNISTVAE.matches(vae) && !MNISTVAE.matches(gan) && !MNISTVAE.matches(classifier))
        #expect(ToyDDPM.matches(ddpm) && !ToyDDPM.matches(vae))
        #expect(LatentDigitClassifier.matches(classifier) && !LatentDigitClassifier.matches(vae))
        #expect(throws: TensorError.self) { try DCGANGenerator(weights: vae) }
        #expect(throws: TensorError.self) { try ToyDDPM(weights: gan) }
    }
}
