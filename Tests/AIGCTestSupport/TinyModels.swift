// The tiny random-weight models of Tests/Fixtures/tiny-models and their numpy reference outputs.
import Foundation

public struct TinyReference: Decodable, Sendable {
    public struct Beam: Decodable, Sendable {
        public let beams: Int
        public let maxNew: Int
        public let lengthPenalty: Float
        public let earlyStopping: Bool
        public let noRepeatNgram: Int
        public let tokens: [Int]
        public let score: Double
        public let endedWithEOS: Bool
        enum CodingKeys: String, CodingKey {
            case beams, tokens, score, maxNew = "max_new", lengthPenalty = "length_penalty", earlyStopping = "early_stopping"
            case noRepeatNgram = "no_repeat_ngram", endedWithEOS = "ended_with_eos"
        }
    }

    public let prompt: [Int]
    public let logits: [[Float]]
    public let greedy: [Int]
    public let beamSearch: [Beam]?

    enum CodingKeys: String, CodingKey { case prompt, logits, greedy, beamSearch = "beam_search" }
}

public enum TinyModels {
    public static let names = ["llama", "qwen2", "gpt2"]

    public static func gguf(_ name: String) -> String { Fixtures.fixture("tiny-models/\(name)/model.gguf") }
    public static func huggingFace(_ name: String) -> String { Fixtures.fixture("tiny-models/\(name)/hf") }

    public static func reference(_ name: String) throws -> TinyReference {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.fixture("tiny-models/\(name)/reference.json")))
        return try JSONDecoder().decode(TinyReference.self, from: data)
    }
}
