// Every image layer against the numpy fixtures of scripts/reference/make_image_op_fixtures.py
// (numpy versions of the PyTorch definitions; conv-transpose derived differently from ours).
import AIGCKernels
import AIGCLayers
import AIGCTensor
import AIGCTestSupport
import Foundation
import Testing

struct ImageOpCase: Decodable, CustomTestStringConvertible, Sendable {
    struct Array: Decodable, Sendable {
        let shape: [Int]
        let values: [Float]
    }

    let name: String
    let op: String
    let params: [String: Param]
    let input: Array
    let tensors: [String: Array]
    let output: Array
    var testDescription: String { name }

    enum Param: Decodable, Sendable {
        case number(Double), text(String)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let d = try? c.decode(Double.self) { self = .number(d) } else { self = .text(try c.decode(String.self)) }
        }
    }

    func int(_ key: String) -> Int { if case let .number(d) = params[key] { return Int(d) }; return 0 }
    func float(_ key: String) -> Float { if case let .number(d) = params[key] { return Float(d) }; return 0 }
    func text(_ key: String) -> String { if case let .text(s) = params[key] { return s }; return "" }
    func tensor(_ key: String) -> Tensor? { tensors[key].map { Tensor(name: key, shape: $0.shape, floats: $0.values) } }

    static let all: [ImageOpCase] = {
        let url = URL(fileURLWithPath: Fixtures.fixture("image-ops/cases.json"))
        return (try? JSONDecoder().decode([ImageOpCase].self, from: Data(contentsOf: url))) ?? []
    }()
}

@Suite struct ImageOpFixtureTests {
    @Test func fixturesArePresent() {
        #expect(ImageOpCase.all.count >= 25, "Tests/Fixtures/image-ops/cases.json: run scripts/reference/make_image_op_fixtures.py")
    }

    @Test(arguments: ImageOpCase.all)
    func layerMatchesNumpy(_ c: ImageOpCase) throws {
        let s = c.input.shape
        var x = ImageTensor(batch: s[0], channels: s[1], height: s[2], width: s[3], values: c.input.values)
        let pool = ComputePool(threads: 2)
        switch c.op {
        case "conv2d":
            let mode: PaddingMode = c.text("padding_mode") == "replicate" ? .replicate : .zeros
            let conv = try Conv2d(weight: c.tensor("weight")!, bias: c.tensor("bias"), stride: c.int("stride"), padding: c.int("padding"),
                                  dilation: c.int("dilation"), groups: c.int("groups"), paddingMode: mode)
            x = conv.forward(x, pool: pool)
        case "conv_transpose2d":
            let conv = try ConvTranspose2d(weight: c.tensor("weight")!, bias: c.tensor("bias"), stride: c.int("stride"), padding: c.int("padding"),
                                           outputPadding: c.int("output_padding"), dilation: c.int("dilation"), groups: c.int("groups"))
            x = conv.forward(x, pool: pool)
        case "batch_norm2d":
            try BatchNorm2d(weight: c.tensor("weight"), bias: c.tensor("bias"), runningMean: c.tensor("running_mean")!,
                            runningVariance: c.tensor("running_var")!, eps: c.float("eps")).forward(&x, pool: pool)
        case "group_norm":
            try GroupNorm(groups: c.int("groups"), weight: c.tensor("weight"), bias: c.tensor("bias"), channels: s[1], eps: c.float("eps"))
                .forward(&x, pool: pool)
        case "channel_layer_norm":
            try ChannelLayerNorm(weight: c.tensor("weight"), bias: c.tensor("bias"), channels: s[1], eps: c.float("eps")).forward(&x, pool: pool)
        case "upsample_nearest":
            x = UpsampleNearest(factor: c.int("factor")).forward(x, pool: pool)
        case "pool2d":
            x = Pool2d(c.text("mode") == "max" ? .max : .average, kernel: c.int("kernel"), stride: c.int("stride"), padding: c.int("padding"))
                .forward(x, pool: pool)
        case "activation":
            let kinds: [String: ImageActivation] = ["relu": .relu, "leaky_relu_0.2": .leakyReLU(slope: 0.2), "sigmoid": .sigmoid, "tanh": .tanh,
                                                    "silu": .silu, "gelu": .gelu, "gelu_tanh": .geluTanh]
            try #require(kinds[c.text("kind")]).forward(&x, pool: pool)
        default:
            Issue.record("unknown op \(c.op) in the fixture")
        }
        #expect(x.shape == c.output.shape, "\(c.name)")
        expectClose(x.values, c.output.values, atol: 1e-4, rtol: 1e-4, c.name)
    }
}
