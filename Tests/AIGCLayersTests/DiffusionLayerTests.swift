// The layers of the latent-diffusion U-Net and VAE against naive versions written out here: the
// token linear maps in their three layouts and every tiling, chunked multi-head attention (self and
// cross, several query chunks, heads narrower than a SIMD register), Conv2d accumulating into a
// residual, GroupNorm fused with SiLU, the sinusoidal timestep features; on one thread and two.
import AIGCKernels
import AIGCLayers
import AIGCTensor
import AIGCTestSupport
import Foundation
import Testing

/// y[r, o] = Σ x[r, i] w[o, i] + b[o].
func naiveLinear(_ x: [Float], rows: Int, _ w: [Float], _ b: [Float]?, inFeatures k: Int, outFeatures n: Int) -> [Float] {
    var y = [Float](repeating: 0, count: rows * n)
    for r in 0..<rows {
        for o in 0..<n {
            var s = Double(b?[o] ?? 0)
            for i in 0..<k { s += Double(x[r * k + i]) * Double(w[o * k + i]) }
            y[r * n + o] = Float(s)
        }
    }
    return y
}

/// Multi-head attention of [batch * tq, c] queries to [batch * tk, c] keys and values, in Double.
func naiveAttention(_ q: [Float], _ k: [Float], _ v: [Float], batch: Int, tq: Int, tk: Int, c: Int, heads: Int) -> [Float] {
    let d = c / heads
    var out = [Float](repeating: 0, count: batch * tq * c)
    for b in 0..<batch {
        for h in 0..<heads {
            for t in 0..<tq {
                var scores = (0..<tk).map { s -> Double in
                    (0..<d).reduce(0.0) { $0 + Double(q[(b * tq + t) * c + h * d + $1]) * Double(k[(b * tk + s) * c + h * d + $1]) } / Double(d).squareRoot()
                }
                let m = scores.max()!
                scores = scores.map { exp($0 - m) }
                let total = scores.reduce(0, +)
                for j in 0..<d {
                    out[(b * tq + t) * c + h * d + j] = Float((0..<tk).reduce(0.0) { $0 + scores[$1] * Double(v[(b * tk + $1) * c + h * d + j]) } / total)
                }
            }
        }
    }
    return out
}

/// [N, C, T] <-> [N * T, C].
func transposeImage(_ x: [Float], batch: Int, channels: Int, tokens: Int) -> [Float] {
    var y = x
    for n in 0..<batch { for c in 0..<channels { for t in 0..<tokens { y[(n * tokens + t) * channels + c] = x[(n * channels + c) * tokens + t] } } }
    return y
}

@Suite struct DiffusionLayerTests {
    static let pools = [ComputePool(threads: 1), ComputePool(threads: 2)]

    static func linear(_ rng: inout TestRandom, _ n: Int, _ k: Int, bias: Bool = true) throws -> TokenLinear {
        try TokenLinear(weight: Tensor(name: "w", shape: [n, k], floats: rng.floats(n * k, scale: 0.3)),
                        bias: bias ? Tensor(name: "b", shape: [n], floats: rng.floats(n)) : nil)
    }

    @Test(arguments: [(1, 5, 3), (37, 40, 24), (700, 33, 80), (1300, 16, 12), (3, 1280, 96)])
    func tokenLinearLayoutsMatchNaive(_ shape: (Int, Int, Int)) throws {
        let (rows, n, k) = shape
        var rng = TestRandom(seed: UInt64(rows * 31 + n))
        let map = try Self.linear(&rng, n, k)
        let x = rng.floats(rows * k), w = map.weight.floats(), b = map.bias!.floats()
        let expected = naiveLinear(x, rows: rows, w, b, inFeatures: k, outFeatures: n)
        for pool in Self.pools {
            var y = [Float](repeating: 0, count: rows * n)
            map.forward(x, rows: rows, into: &y, pool: pool)
            expectClose(y, expected, atol: 1e-4, rtol: 1e-4, "rows \(pool.threads) threads")
            // Rows `ldy` apart, accumulated onto what is there.
            var wide = [Float](repeating: 1, count: rows * (n + 3))
            map.forward(x, rows: rows, into: &wide, ldy: n + 3, accumulate: true, pool: pool)
            let kept = (0..<rows).flatMap { r in wide[(r * (n + 3))..<(r * (n + 3) + n)] }
            expectClose(kept, expected.map { $0 + 1 }, atol: 1e-4, rtol: 1e-4, "accumulate \(pool.threads) threads")
            #expect((0..<rows).allSatisfy { r in wide[(r * (n + 3) + n)..<((r + 1) * (n + 3))].allSatisfy { $0 == 1 } })
        }
    }

    @Test(arguments: [(1, 5, 3, 4), (2, 40, 24, 300), (2, 16, 32, 1100)])
    func tokenLinearReadsAndWritesChannelMajorImages(_ shape: (Int, Int, Int, Int)) throws {
        let (batch, n, k, tokens) = shape
        var rng = TestRandom(seed: UInt64(tokens + n))
        let map = try Self.linear(&rng, n, k)
        let image = ImageTensor(batch: batch, channels: k, height: 1, width: tokens, values: rng.floats(batch * k * tokens))
        let expectedTokens = naiveLinear(transposeImage(image.values, batch: batch, channels: k, tokens: tokens), rows: batch * tokens,
                                         map.weight.floats(), map.bias!.floats(), inFeatures: k, outFeatures: n)
        // proj_out maps n-channel tokens back to n channels (a square map of the same sizes for brevity).
        let back = try Self.linear(&rng, n, n)
        let residual = ImageTensor(batch: batch, channels: n, height: tokens, width: 1, values: rng.floats(batch * n * tokens))
        let mapped = naiveLinear(expectedTokens, rows: batch * tokens, back.weight.floats(), back.bias!.floats(), inFeatures: n, outFeatures: n)
        var channelMajor = mapped
        for b in 0..<batch { for t in 0..<tokens { for o in 0..<n { channelMajor[(b * n + o) * tokens + t] = mapped[(b * tokens + t) * n + o] } } }
        let expectedImage = zip(residual.values, channelMajor).map(+)
        for pool in Self.pools {
            var y = [Float](repeating: 0, count: batch * tokens * n)
            map.forward(channelMajor: image, into: &y, pool: pool)
            expectClose(y, expectedTokens, atol: 1e-4, rtol: 1e-4, "channel-major in, \(pool.threads) threads")
            var out = residual
            y.withUnsafeBufferPointer { back.forward(tokens: $0.baseAddress!, addingTo: &out, pool: pool) }
            expectClose(out.values, expectedImage, atol: 1e-4, rtol: 1e-4, "channel-major out, \(pool.threads) threads")
        }
    }

    @Test func tilesCoverEveryRowAndOutputWithBalancedTasks() {
        for (rows, outputs, threads) in [(8192, 320, 2), (512, 1280, 2), (128, 10240, 2), (3, 5, 2), (8192, 320, 1), (2048, 640, 4)] {
            let (rowTile, outputTile) = TokenLinear.tiles(rows: rows, outputs: outputs, threads: threads)
            let tasks = ((rows + rowTile - 1) / rowTile) * ((outputs + outputTile - 1) / outputTile)
            #expect(rowTile >= 1 && outputTile >= 1 && rowTile <= rows && (outputTile <= outputs || outputTile % 16 == 0))
            if threads > 1 && rows * outputs >= 1 << 16 { #expect(tasks >= 2 * threads, "\(rows)x\(outputs): \(tasks) tasks") }
        }
    }

    @Test(arguments: [(1, 7, 5, 8, 2), (2, 300, 300, 16, 8), (2, 1100, 77, 40, 8), (1, 64, 64, 12, 1)])
    func attentionMatchesNaive(_ shape: (Int, Int, Int, Int, Int)) {
        let (batch, tq, tk, c, heads) = shape
        var rng = TestRandom(seed: UInt64(tq * 7 + tk))
        let q = rng.floats(batch * tq * c), k = rng.floats(batch * tk * c), v = rng.floats(batch * tk * c)
        let expected = naiveAttention(q, k, v, batch: batch, tq: tq, tk: tk, c: c, heads: heads)
        for pool in Self.pools {
            var out = [Float](repeating: .nan, count: batch * tq * c)
            MultiHeadAttention.attend(into: &out, outputStride: c, query: q, queryStride: c, key: k, value: v, keyValueStride: c,
                                      batch: batch, queryTokens: tq, keyTokens: tk, heads: heads, headSize: c / heads, pool: pool)
            expectClose(out, expected, atol: 2e-5, rtol: 1e-4, "\(pool.threads) threads")
        }
    }

    @Test func selfAndCrossAttentionLayersAddTheirOutputToTheResidual() throws {
        var rng = TestRandom(seed: 5)
        let batch = 2, tokens = 300, c = 16, contextTokens = 77, contextChannels = 12, heads = 4
        let wq = try Self.linear(&rng, c, c, bias: false), wo = try Self.linear(&rng, c, c)
        let wk = try Self.linear(&rng, c, contextChannels, bias: false), wv = try Self.linear(&rng, c, contextChannels, bias: false)
        let x = rng.floats(batch * tokens * c), context = rng.floats(batch * contextTokens * contextChannels), residual = rng.floats(batch * tokens * c)
        let cross = MultiHeadAttention(query: wq, key: wk, value: wv, output: wo, heads: heads, crossAttention: true)
        func project(_ m: TokenLinear, _ input: [Float], _ rows: Int) -> [Float] {
            naiveLinear(input, rows: rows, m.weight.floats(), m.bias?.floats(), inFeatures: m.inFeatures, outFeatures: m.outFeatures)
        }
        let attended = naiveAttention(project(wq, x, batch * tokens), project(wk, context, batch * contextTokens), project(wv, context, batch * contextTokens),
                                      batch: batch, tq: tokens, tk: contextTokens, c: c, heads: heads)
        let expected = zip(residual, project(wo, attended, batch * tokens)).map(+)
        var y = residual
        context.withUnsafeBufferPointer { ctx in
            cross.forward(x, batch: batch, tokens: tokens, context: ctx.baseAddress!, contextTokens: contextTokens, addingTo: &y,
                          workspace: Workspace(), pool: Self.pools[1])
        }
        expectClose(y, expected, atol: 1e-4, rtol: 1e-4, "cross-attention")

        let wk2 = try Self.linear(&rng, c, c, bias: false), wv2 = try Self.linear(&rng, c, c, bias: false)
        let selfAttention = MultiHeadAttention(query: wq, key: wk2, value: wv2, output: wo, heads: heads, crossAttention: false)
        let attendedSelf = naiveAttention(project(wq, x, batch * tokens), project(wk2, x, batch * tokens), project(wv2, x, batch * tokens),
                                          batch: batch, tq: tokens, tk: tokens, c: c, heads: heads)
        var z = residual
        selfAttention.forward(x, batch: batch, tokens: tokens, addingTo: &z, workspace: Workspace(), pool: Self.pools[1])
        expectClose(z, zip(residual, project(wo, attendedSelf, batch * tokens)).map(+), atol: 1e-4, rtol: 1e-4, "self-attention")
    }

    @Test func convolutionAccumulatesIntoTheResidual() throws {
        var rng = TestRandom(seed: 8)
        let conv = try Conv2d(weight: Tensor(name: "w", shape: [6, 5, 3, 3], floats: rng.floats(270, scale: 0.2)),
                              bias: Tensor(name: "b", shape: [6], floats: rng.floats(6)), padding: 1)
        let x = ImageTensor(batch: 2, channels: 5, height: 9, width: 11, values: rng.floats(2 * 5 * 99))
        let residual = ImageTensor(batch: 2, channels: 6, height: 9, width: 11, values: rng.floats(2 * 6 * 99))
        for pool in Self.pools {
            var y = residual
            conv.forward(x, addingTo: &y, pool: pool)
            expectClose(y.values, zip(conv.forward(x, pool: pool).values, residual.values).map(+), atol: 1e-5, rtol: 1e-5, "\(pool.threads) threads")
        }
    }

    /// (batch, in, out, kernel, stride, height, width): small images with enough weights to take
    /// Conv2d's across-images path (Conv2d+SmallImages.swift).
    @Test(arguments: [(2, 64, 128, 3, 1, 8, 8), (1, 64, 128, 3, 2, 9, 7), (3, 96, 256, 1, 1, 5, 5), (2, 128, 96, 3, 1, 20, 20)])
    func convolutionOfSmallImagesAcrossTheBatchMatchesNaive(_ c: (Int, Int, Int, Int, Int, Int, Int)) throws {
        let (batch, inChannels, out, kernel, stride, height, width) = c
        var rng = TestRandom(seed: UInt64(inChannels * out + height))
        let w = rng.floats(out * inChannels * kernel * kernel, scale: 0.1), b = rng.floats(out)
        let conv = try Conv2d(weight: Tensor(name: "w", shape: [out, inChannels, kernel, kernel], floats: w), bias: Tensor(name: "b", shape: [out], floats: b),
                              stride: stride, padding: kernel / 2)
        let x = ImageTensor(batch: batch, channels: inChannels, height: height, width: width, values: rng.floats(batch * inChannels * height * width))
        let expected = Reference.conv2d(x.values, batch: batch, channels: inChannels, height: height, width: width, weight: w, bias: b,
                                        outChannels: out, geometry: conv.geometry)
        let outputs = Self.pools.map { conv.forward(x, pool: $0) }
        expectClose(outputs[0].values, expected, atol: 1e-4, rtol: 1e-4, "\(c)")
        #expect(outputs[0].values == outputs[1].values, "one and two threads must give the same bits")
        var sum = outputs[0]
        conv.forward(x, addingTo: &sum, pool: Self.pools[1])
        expectClose(sum.values, expected.map { 2 * $0 }, atol: 2e-4, rtol: 1e-4, "accumulated \(c)")
    }

    @Test func groupNormFusedWithSiLUEqualsTheTwoPasses() throws {
        var rng = TestRandom(seed: 9)
        let norm = try GroupNorm(groups: 4, weight: Tensor(shape: [8], floats: rng.floats(8)), bias: Tensor(shape: [8], floats: rng.floats(8)),
                                 channels: 8, eps: 1e-6)
        let x = ImageTensor(batch: 2, channels: 8, height: 5, width: 7, values: rng.floats(2 * 8 * 35, scale: 3))
        var fused = x, separate = x
        norm.forward(&fused, activation: .silu)
        norm.forward(&separate)
        ImageActivation.silu.forward(&separate)
        expectClose(fused.values, separate.values, atol: 1e-6, rtol: 1e-6, "fused")
    }

    @Test func sinusoidalTimestepFeaturesFollowDiffusers() {
        let t: [Float] = [0, 1, 999.5]
        let dim = 6, half = 3
        let features = TimestepEmbedding.sinusoidal(t, dimension: dim)
        for (row, step) in t.enumerated() {
            for i in 0..<half {
                let frequency = exp(-log(10000.0) * Double(i) / Double(half))
                #expect(abs(features[row * dim + i] - Float(cos(Double(step) * frequency))) < 1e-4)
                #expect(abs(features[row * dim + half + i] - Float(sin(Double(step) * frequency))) < 1e-4)
            }
        }
        let unflipped = TimestepEmbedding.sinusoidal([2], dimension: 5, flipSinToCos: false, frequencyShift: 1)
        #expect(unflipped.count == 5 && unflipped[4] == 0)
        #expect(abs(unflipped[0] - sin(2)) < 1e-6 && abs(unflipped[2] - cos(2)) < 1e-6)
        #expect(abs(unflipped[1] - Float(sin(2 * exp(-log(10000.0)))))  < 1e-6)
    }

    @Test func downsamplePaddedAtBottomRightMatchesExplicitPadding() throws {
        var rng = TestRandom(seed: 10)
        let w = Tensor(name: "w", shape: [3, 2, 3, 3], floats: rng.floats(54)), b = Tensor(name: "b", shape: [3], floats: rng.floats(3))
        let x = ImageTensor(batch: 1, channels: 2, height: 6, width: 8, values: rng.floats(96))
        let down = Downsample2D(conv: try Conv2d(weight: w, bias: b, stride: 2, padding: 0), padsBottomRight: true).forward(x)
        #expect(down.shape == [1, 3, 3, 4])
        var padded = ImageTensor(batch: 1, channels: 2, height: 7, width: 9)
        for c in 0..<2 { for h in 0..<6 { for j in 0..<8 { padded.values[(c * 7 + h) * 9 + j] = x.values[(c * 6 + h) * 8 + j] } } }
        #expect(down.values == (try Conv2d(weight: w, bias: b, stride: 2, padding: 0)).forward(padded).values)
    }
}
