// The DDPM ancestral loop (Algorithm 2 with n_T = 10) on the real toy checkpoint, fed x_T and every
// z of the numpy reference, must land on the reference x_0 within 1e-3.
import AIGCFormats
import AIGCImaging
import AIGCLayers
import AIGCModels
import AIGCTestSupport
import Testing

@Suite struct DDPMSamplingTests {
    func pipeline() throws -> DDPMPipeline {
        DDPMPipeline(try ToyDDPM(weights: PyTorchCheckpoint(path: Fixtures.mnistModel("ddpm/ddpm_mnist.pth"))))
    }

    @Test func ancestralSamplingWithTheFixtureNoiseMatchesNumpy() throws {
        let pipeline = try pipeline()
        let size = 4 * 28 * 28
        let initial = ImageTensor(batch: 4, channels: 1, height: 28, width: 28, values: try Fixtures.floats("mnist-generators/ddpm_x_T.f32"))
        let z = try Fixtures.floats("mnist-generators/ddpm_z.f32")
        #expect(z.count == 9 * size)
        var asked: [Int] = [], reported: [ImageProgress] = []
        // z of the fixture is stored for t = 10, 9, ..., 2.
        let x0 = pipeline.sample(initial: initial, noise: { t in
            asked.append(t)
            return Array(z[((10 - t) * size)..<((11 - t) * size)])
        }, progress: { reported.append($0) })
        #expect(asked == Array((2...10).reversed()), "z is drawn for t = 10 ... 2 and never at t = 1")
        #expect(reported.map(\.step) == Array(1...10) && reported.allSatisfy { $0.totalSteps == 10 })
        expectClose(x0.values, try Fixtures.floats("mnist-generators/ddpm_x_0.f32"), atol: 1e-3, rtol: 0, "DDPM x_0")
    }

    @Test func oneStepFollowsTheFormula() throws {
        let scheduler = try pipeline().scheduler
        var x = ImageTensor(batch: 1, channels: 1, height: 1, width: 2, values: [0.5, -1])
        let eps = ImageTensor(batch: 1, channels: 1, height: 1, width: 2, values: [0.25, 2])
        let s = scheduler.schedule
        scheduler.step(&x, predictedNoise: eps, t: 3, noise: [1, -1])
        let expected: [Float] = [s.oneOverSqrtAlpha[3] * (0.5 - 0.25 * s.noiseWeight[3]) + s.sqrtBeta[3],
                                 s.oneOverSqrtAlpha[3] * (-1 - 2 * s.noiseWeight[3]) - s.sqrtBeta[3]]
        #expect(x.values == expected)
        #expect(scheduler.timesteps == Array((1...10).reversed()))
    }
}
