// Tokenizer properties beyond the llama.cpp vectors: byte-level round trips of arbitrary text, the
// GPT-2 vocab.json/merges.txt files agree with the GGUF vocabulary, special tokens, llama2.c vocabularies.
import AIGCFormats
import AIGCGeneration
import AIGCTestSupport
import AIGCTokenizers
import Foundation
import Testing

func randomText(_ rng: inout TestRandom, length: Int) -> String {
    let pools: [[Unicode.Scalar]] = [
        Array("abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789".unicodeScalars), Array(" \t\n\r  ".unicodeScalars),
        Array("'s've'll.,;:!?-_()[]{}\"@#$%^&*".unicodeScalars), Array("äöüßéèêñçøå".unicodeScalars),
        Array("人工智能生成内容床前明月光".unicodeScalars), Array("🦙😀👍🏽🇨🇳".unicodeScalars), Array("нещоБългарскиαβγ".unicodeScalars),
    ]
    var s = String.UnicodeScalarView()
    for _ in 0..<length { let pool = pools[rng.int(0..<pools.count)]; s.append(pool[rng.int(0..<pool.count)]) }
    return String(s)
}

@Suite struct TokenizerPropertyTests {
    @Test(arguments: ["gpt-2", "llama-bpe", "qwen2", "llama-spm"])
    func decodeOfEncodeIsIdentity(_ name: String) throws {
        let tokenizer = try #require(GGMLVocab.tokenizers[name])
        var rng = TestRandom(seed: 31)
        for i in 0..<300 {
            let text = randomText(&rng, length: rng.int(0..<40))
            let ids = tokenizer.encode(text, addSpecial: false)
            #expect(tokenizer.decode(ids, stripLeadingSpace: true) == text, "\(name) case \(i) seed \(rng.seed): \(text.debugDescription)")
        }
    }

    @Test func vocabJSONAndMergesMatchTheGGUFVocabulary() throws {
        let files = try Tokenizer(HuggingFaceTokenizer.vocabulary(vocabJSON: Fixtures.shared("tokenizers/gpt2/vocab.json"),
                                                                  merges: Fixtures.shared("tokenizers/gpt2/merges.txt")))
        let gguf = try #require(GGMLVocab.tokenizers["gpt-2"])
        for c in GGMLVocab.cases("gpt-2") { #expect(files.encode(c.text, addSpecial: false) == c.expected, "\(c.text.debugDescription)") }
        var rng = TestRandom(seed: 8)
        for _ in 0..<100 {
            let text = randomText(&rng, length: 30)
            #expect(files.encode(text, addSpecial: false) == gguf.encode(text, addSpecial: false))
        }
    }

    @Test func controlTokenTextBecomesTheTokenOnlyWhenAsked() throws {
        let tokenizer = try #require(GGMLVocab.tokenizers["qwen2"])
        let marker = try #require(tokenizer.id(of: "<|im_start|>"))
        let parsed = tokenizer.encode("<|im_start|>user", addSpecial: false, parseSpecial: true)
        #expect(parsed.first == marker)
        let literal = tokenizer.encode("<|im_start|>user", addSpecial: false, parseSpecial: false)
        #expect(!literal.contains(marker))
        #expect(tokenizer.decode(parsed) == "user", "control tokens print nothing by default")
        #expect(tokenizer.decode(parsed, special: true) == "<|im_start|>user")
        #expect(tokenizer.stopTokens.contains(try #require(tokenizer.id(of: "<|im_end|>"))))
    }

    @Test func bosFollowsTheVocabularyRules() throws {
        let spm = try #require(GGMLVocab.tokenizers["llama-spm"])
        #expect(spm.encode("Hi").first == 1, "SentencePiece adds BOS")
        #expect(spm.encode("Hi", addSpecial: false).first != 1)
        let gpt2 = try #require(GGMLVocab.tokenizers["gpt-2"])
        #expect(gpt2.encode("Hi") == gpt2.encode("Hi", addSpecial: false), "GPT-2 adds none")
    }

    @Test func llama2cVocabularyTokenizes() throws {
        let file = try Llama2CVocabulary(path: Fixtures.shared("models/llama2c/tok512.bin"), vocabSize: 512)
        let tokenizer = try Tokenizer(TokenizerLoader.vocabulary(fromLlama2C: file))
        let ids = tokenizer.encode("Once upon a time, Lily played.")
        #expect(ids.first == 1)
        #expect(tokenizer.decode(ids, stripLeadingSpace: true) == "Once upon a time, Lily played.")
        // Characters outside the 512-token vocabulary fall back to byte tokens and round-trip.
        let rare = tokenizer.encode("€ 🦙", addSpecial: false)
        #expect(rare.contains { (3..<259).contains($0) })
        #expect(tokenizer.decode(rare, stripLeadingSpace: true) == "€ 🦙")
    }
}
