// The JSON-object grammar accepts exactly the prefixes of JSON objects.
import AIGCSampling
import Foundation
import Testing

@Suite struct JSONGrammarTests {
    func accepts(_ text: String) -> JSONGrammar? {
        var g = JSONGrammar()
        return g.feed(Array(text.utf8)) ? g : nil
    }

    @Test(arguments: [
        #"{}"#, #"{"a": 1}"#, #"{"a":[1,2.5,-3e+2,0.1E9,true,false,null,"x\"y\u00e9"],"b":{"c":{}}}"#,
        #"{ "emoji": "🦙", "n": -0.0 }"#, #"{"nested":[[],[{}],[[1]]]}"#,
    ])
    func wholeObjectsAreAcceptedAndComplete(_ text: String) throws {
        let g = try #require(accepts(text), "\(text)")
        #expect(g.complete)
        #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) is [String: Any], "the test input is valid JSON")
        // Every prefix is accepted and none but the whole is complete.
        for n in 0..<text.utf8.count {
            let prefix = String(decoding: Array(text.utf8.prefix(n)), as: UTF8.self)
            #expect(accepts(prefix)?.complete == false, "prefix \(prefix)")
        }
    }

    @Test(arguments: [
        "[1]", "1", "\"s\"", "{a:1}", "{\"a\" 1}", "{\"a\":01}", "{\"a\":1,}", "{\"a\":tru3}", "{\"a\":\"\\x\"}",
        "{\"a\":\"\u{01}\"}", "{\"a\":1}}", "{\"a\":1} ", "{\"a\":[1,]}", "{\"a\":-}", "{\"a\":1.}", "{\"a\":1e}",
        "{\"a\":\"\\u12G4\"}", "{" + String(repeating: " ", count: 9) + "}",
    ])
    func invalidTextIsRejected(_ text: String) {
        #expect(accepts(text)?.complete != true, "\(text.debugDescription) must not be a complete object")
        if let g = accepts(text) { #expect(!g.complete) }
    }

    @Test func deepNestingIsBounded() {
        #expect(accepts("{\"a\":" + String(repeating: "[", count: 63)) != nil)
        #expect(accepts("{\"a\":" + String(repeating: "[", count: 64)) == nil)
    }
}
