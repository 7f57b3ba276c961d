// CLIP tokenizer against open_clip's SimpleTokenizer on the same vocabulary
// (Tests/Fixtures/clip-tokenizer, made by scripts/reference/make_clip_tokenizer_fixtures.py).
import AIGCTestSupport
import AIGCTokenizers
import Foundation
import Testing

struct CLIPTokenizerCase: Decodable, CustomTestStringConvertible {
    let prompt: String
    let cleaned: String
    let tokens: [Int]
    let ids: [Int]
    let hf_ids: [Int]
    let hf_differs: Bool
    var testDescription: String { prompt.debugDescription }
}

struct CLIPTokenizerCases: Decodable {
    let context: Int
    let cases: [CLIPTokenizerCase]
}

@Suite struct CLIPTokenizerTests {
    static let tokenizer = Result { try CLIPTokenizer.bundled() }
    static let cases: [CLIPTokenizerCase] = {
        let url = URL(fileURLWithPath: Fixtures.fixture("clip-tokenizer/cases.json"))
        guard let data = try? Data(contentsOf: url), let file = try? JSONDecoder().decode(CLIPTokenizerCases.self, from: data) else { return [] }
        return file.cases
    }()

    @Test func bundledVocabularyHasCLIPsIds() throws {
        let t = try Self.tokenizer.get()
        #expect(t.tokens.count == 49408)
        #expect(t.startOfText == 49406 && t.endOfText == 49407 && t.padding == 49407)
        #expect(t.tokens[0] == "!" && t.tokens[256] == "!</w>" && t.tokens[512] == "in")
        #expect(Self.cases.count >= 38, "the fixture file is missing or unreadable")
    }

    @Test(arguments: cases) func matchesOpenCLIP(_ c: CLIPTokenizerCase) throws {
        let t = try Self.tokenizer.get()
        #expect(CLIPNormalizer.clean(c.prompt) == c.cleaned)
        #expect(t.encode(c.prompt) == c.tokens)
        let padded = t.encodePadded(c.prompt, length: 77)
        #expect(padded == c.ids)
        #expect(padded.count == 77 && padded.first == 49406 && padded.contains(49407))
        if !c.hf_differs { #expect(padded == c.hf_ids) }
    }

    @Test func longPromptKeepsEOSLast() throws {
        let t = try Self.tokenizer.get()
        let ids = t.encodePadded(String(repeating: "cat ", count: 100))
        #expect(ids.count == 77 && ids[76] == t.endOfText && ids[75] != t.endOfText)
        #expect(t.encodePadded("", length: 5) == [49406, 49407, 49407, 49407, 49407])
    }

    @Test func decodesWords() throws {
        let t = try Self.tokenizer.get()
        let text = "a photograph of an astronaut riding a horse, 4k!"
        #expect(t.decode(t.encodePadded(text)) == "a photograph of an astronaut riding a horse , 4 k !")
        #expect(t.decode(t.encode("naïve café 人工")) == "naïve café 人工")
    }

    @Test func loadsHuggingFaceVocabularyFiles() throws {
        // A vocabulary of the 512 byte symbols, three merges and the specials, numbered as CLIP numbers them.
        let bundled = try Self.tokenizer.get()
        var tokens = Array(bundled.tokens[0..<512])
        tokens += ["hi", "hi</w>", "hihi</w>", "<|startoftext|>", "<|endoftext|>"]
        let json = Dictionary(uniqueKeysWithValues: tokens.enumerated().map { ($0.element, $0.offset) })
        let data = try JSONSerialization.data(withJSONObject: json)
        let t = try CLIPTokenizer(vocabularyJSON: data, mergesText: "#version: 0.2\nh i\nh i</w>\nhi hi</w>\n", source: "test vocabulary")
        #expect(t.startOfText == 515 && t.endOfText == 516)
        #expect(t.encode("HI hihi hih") == [513, 514, 512, tokens.firstIndex(of: "h</w>")!])
        #expect(throws: TokenizerError.self) {
            try CLIPTokenizer(vocabularyJSON: data, mergesText: "h q\n", source: "bad merges")
        }
    }
}
