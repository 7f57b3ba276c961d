// Streaming text: UTF-8 characters split across byte tokens come out whole; stop strings are held back.
import AIGCFormats
@testable import AIGCGeneration
import AIGCTestSupport
import AIGCTokenizers
import Testing

@Suite struct StreamingTests {
    @Test func chineseSplitAcrossTokensStreamsWholeCharacters() throws {
        let tokenizer = try Tokenizer(TokenizerLoader.vocabulary(fromGGUF: GGUFFile(path: Fixtures.shared("tokenizers/ggml-vocab/ggml-vocab-gpt-2.gguf"))))
        let text = "人工智能生成的内容：床前明月光，疑是地上霜。🦙"
        let ids = tokenizer.encode(text, addSpecial: false)
        #expect(ids.contains { String(validating: tokenizer.bytes(of: $0), as: UTF8.self) == nil }, "some tokens hold partial characters")
        var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
        var streamed = ""
        for id in ids {
            let piece = detokenizer.append(id)
            #expect(!piece.unicodeScalars.contains("\u{FFFD}"), "no broken character in \(piece.debugDescription)")
            streamed += piece
        }
        streamed += detokenizer.flush()
        #expect(streamed == text)
    }

    @Test func incompleteSequencesAreHeldAndInvalidBytesReplaced() {
        #expect(StreamingDetokenizer.completePrefixLength([0x41, 0xE4, 0xBD]) == 1)
        #expect(StreamingDetokenizer.completePrefixLength([0x41, 0xE4, 0xBD, 0xA0]) == 4)
        #expect(StreamingDetokenizer.completePrefixLength([0xF0, 0x9F, 0xA6]) == 0)
        #expect(StreamingDetokenizer.completePrefixLength([0x80, 0x80]) == 2, "stray continuation bytes cannot complete")
        #expect(StreamingDetokenizer.completePrefixLength([0xFF]) == 1, "an invalid byte is emitted (as U+FFFD)")
    }
}
