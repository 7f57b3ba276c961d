// llama.cpp's tokenizer test vectors (shared/data/tokenizers/ggml-vocab): every case must encode to
// exactly the expected ids, and decode back to the input.
import AIGCFormats
import AIGCGeneration
import AIGCTestSupport
import AIGCTokenizers
import Foundation
import Testing

struct VocabCase: CustomTestStringConvertible, Sendable {
    let vocab: String
    let index: Int
    let text: String
    let expected: [Int]
    var testDescription: String { "\(vocab) #\(index)" }
}

enum GGMLVocab {
    static let names = ["gpt-2", "llama-spm", "llama-bpe", "qwen2", "phi-3"]

    static func path(_ name: String) -> String { Fixtures.shared("tokenizers/ggml-vocab/ggml-vocab-\(name).gguf") }

    static func cases(_ name: String) -> [VocabCase] {
        guard let inp = try? String(contentsOfFile: path(name) + ".inp", encoding: .utf8),
              let out = try? String(contentsOfFile: path(name) + ".out", encoding: .utf8) else { return [] }
        // Cases are separated (and the file ended) by a separator line, as llama.cpp's test-tokenizer-0 reads them.
        let texts = inp.components(separatedBy: "\n__ggml_vocab_test__\n")
        var lines = out.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        var result: [VocabCase] = []
        for (i, text) in texts.enumerated() where i < lines.count {
            let ids = lines[i].split(separator: " ").compactMap { Int($0) }
            result.append(VocabCase(vocab: name, index: i, text: text, expected: ids))
        }
        return result
    }

    static let tokenizers: [String: Tokenizer] = {
        var result: [String: Tokenizer] = [:]
        for name in names {
            if let gguf = try? GGUFFile(path: path(name)), let v = try? TokenizerLoader.vocabulary(fromGGUF: gguf) {
                result[name] = try? Tokenizer(v)
            }
        }
        return result
    }()

    static let allCases: [VocabCase] = names.flatMap(cases)
}

@Suite struct GGMLVocabVectorTests {
    @Test func everyVocabularyHasAllCases() {
        for name in GGMLVocab.names {
            // 46 cases per vocabulary (shared/data/SOURCES.md says 47, counting the trailing separator).
            #expect(GGMLVocab.cases(name).count == 46, "\(name) vectors")
            #expect(GGMLVocab.tokenizers[name] != nil, "\(name) tokenizer loads")
        }
    }

    @Test(arguments: GGMLVocab.allCases)
    func encodesExactly(_ c: VocabCase) throws {
        let tokenizer = try #require(GGMLVocab.tokenizers[c.vocab])
        let ids = tokenizer.encode(c.text, addSpecial: false, parseSpecial: false)
        #expect(ids == c.expected, "text: \(c.text.debugDescription)")
    }

    @Test(arguments: GGMLVocab.allCases)
    func decodesBack(_ c: VocabCase) throws {
        let tokenizer = try #require(GGMLVocab.tokenizers[c.vocab])
        let text = tokenizer.decode(c.expected, stripLeadingSpace: true)
        #expect(text == c.text, "ids: \(c.expected)")
    }
}
