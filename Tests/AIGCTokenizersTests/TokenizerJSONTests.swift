// Hugging Face tokenizer.json files (made with the `tokenizers` library by
// scripts/reference/make_tokenizer_json.py) encode exactly as `tokenizers` does.
import AIGCGeneration
import AIGCTestSupport
import AIGCTokenizers
import Foundation
import Testing

struct TokenizerJSONCase: Decodable, Sendable, CustomTestStringConvertible {
    let text: String
    let ids: [Int]
    var vocabulary = ""
    var testDescription: String { "\(vocabulary): \(text.debugDescription)" }
    enum CodingKeys: String, CodingKey { case text, ids }
}

enum TokenizerJSONFixtures {
    struct File: Decodable { let vocabularies: [Vocabulary] }
    struct Vocabulary: Decodable { let name: String; let cases: [TokenizerJSONCase] }

    static let all: [TokenizerJSONCase] = {
        guard let data = FileManager.default.contents(atPath: Fixtures.fixture("tokenizer-json/cases.json")),
              let file = try? JSONDecoder().decode(File.self, from: data) else { return [] }
        return file.vocabularies.flatMap { v in v.cases.map { var c = $0; c.vocabulary = v.name; return c } }
    }()
}

@Suite struct TokenizerJSONTests {
    @Test func fixturesArePresent() { #expect(TokenizerJSONFixtures.all.count == 30) }

    @Test(arguments: TokenizerJSONFixtures.all)
    func encodesAsHuggingFaceTokenizersDoes(_ c: TokenizerJSONCase) throws {
        let path = Fixtures.fixture("tokenizer-json/\(c.vocabulary)/tokenizer.json")
        let vocabulary = try HuggingFaceTokenizer.vocabulary(tokenizerJSON: path)
        let expectedKind: PreTokenizerKind = ["gpt2": .gpt2, "llama3": .llama3, "smollm": .digitsGPT2][c.vocabulary]!
        #expect(vocabulary.model == .byteLevelBPE(expectedKind))
        let tokenizer = try Tokenizer(vocabulary)
        // `tokenizers` matches added tokens in any text, as aigc does with parseSpecial.
        #expect(tokenizer.encode(c.text, addSpecial: true, parseSpecial: true) == c.ids)
        #expect(tokenizer.decode(c.ids, special: true) == c.text)
        #expect(tokenizer.eos == 0 && tokenizer.stopTokens.contains(0))
    }
}
