// Bad templates fail with the line and column of the fault, rendering errors say what went wrong, and no
// input — templates are user input — crashes the process or runs without bound.
@testable import AIGCTokenizers
import AIGCTestSupport
import Foundation
import Testing

struct BadTemplate: Sendable, CustomTestStringConvertible {
    let source: String
    let expected: ChatTemplateError
    var testDescription: String { source.debugDescription }

    static func syntax(_ source: String, _ message: String, _ line: Int, _ column: Int) -> BadTemplate {
        BadTemplate(source: source, expected: .syntax(message: message, at: TemplateLocation(line: line, column: column)))
    }

    static let all: [BadTemplate] = [
        .syntax("{% if true %}x", "unexpected end of template: 'if' tag at line 1, column 4 is never closed (expected 'elif' or 'else' or 'endif')", 1, 4),
        .syntax("a\n{% for m in messages %}\n{{ m }}", "unexpected end of template: 'for' tag at line 2, column 4 is never closed (expected 'else' or 'endfor')", 2, 4),
        .syntax("{{ name ", "expected '}}' to end the expression, got end of template", 1, 9),
        .syntax("{{ 1 + }}", "expected an expression, got '}}'", 1, 8),
        .syntax("{{ 'abc }}", "unterminated string literal: expected closing '", 1, 4),
        .syntax("x\n  {% endfor %}", "unexpected 'endfor': no open block expects it here", 2, 6),
        .syntax("{% include 'x' %}", "unknown tag 'include' (supported: if, elif, else, for, set, macro, break, continue, generation, raw)", 1, 4),
        .syntax("{# never closed", "missing end of comment tag: expected '#}'", 1, 1),
        .syntax("{{ (1 + 2 }}", "unexpected '}', expected ')'", 1, 11),
        .syntax("{{ (1 + 2", "unclosed bracket: expected ')'", 1, 4),
        .syntax("{{ [1, 2) }}", "unexpected ')', expected ']'", 1, 9),
        .syntax("{{ a ? b }}", "unexpected character '?' inside a tag", 1, 6),
        .syntax("{% for in x %}{% endfor %}", "expected 'in' after the loop variable, got 'x'", 1, 11),
        .syntax("{% set x %}", "unexpected end of template: 'set' tag at line 1, column 4 is never closed (expected 'endset')", 1, 4),
        .syntax("{{ x is }}", "expected a name, got '}}'", 1, 9),
        BadTemplate(source: "{{ messages | frobnicate }}", expected: .unknownFilter(name: "frobnicate", at: TemplateLocation(line: 1, column: 15))),
        BadTemplate(source: "line one\n{% if x is shiny %}{% endif %}", expected: .unknownTest(name: "shiny", at: TemplateLocation(line: 2, column: 12))),
    ]
}

struct FailingRender: Sendable, CustomTestStringConvertible {
    let source: String
    let expected: ChatTemplateError
    var testDescription: String { source.debugDescription }

    static func at(_ line: Int, _ column: Int) -> TemplateLocation { TemplateLocation(line: line, column: column) }

    static let all: [FailingRender] = [
        FailingRender(source: "{{ nope.role }}", expected: .undefinedValue(message: "'nope' is undefined", at: at(1, 8))),
        FailingRender(source: "{{ nope['role'] }}", expected: .undefinedValue(message: "'nope' is undefined", at: at(1, 8))),
        FailingRender(source: "\n{{ messages[3]['role'] }}", expected: .undefinedValue(message: "list index 3 is out of range (length 1)", at: at(2, 15))),
        FailingRender(source: "{{ nope + 'x' }}", expected: .undefinedValue(message: "'nope' is undefined", at: at(1, 9))),
        FailingRender(source: "{{ 'a' + 1 }}", expected: .invalidOperation(message: "can only concatenate str (not \"int\") to str", at: at(1, 8))),
        FailingRender(source: "{{ 1 < 'a' }}", expected: .invalidOperation(message: "'<' not supported between instances of 'int' and 'str'", at: at(1, 4))),
        FailingRender(source: "{{ 7 // 0 }}", expected: .invalidOperation(message: "integer division or modulo by zero", at: at(1, 6))),
        FailingRender(source: "{{ 9223372036854775807 + 1 }}", expected: .invalidOperation(message: "integer overflow: the result does not fit in 64 bits", at: at(1, 24))),
        FailingRender(source: "{% for x in 5 %}{% endfor %}", expected: .invalidOperation(message: "'int' object is not iterable", at: at(1, 13))),
        FailingRender(source: "{% set x = 1 %}{% set x.y = 2 %}", expected: .invalidOperation(message: "cannot assign attribute 'y' on 'x', which is not a namespace(); create it with {% set x = namespace() %}", at: at(1, 19))),
        FailingRender(source: "{{ messages.append(1) }}", expected: .undefinedValue(message: "access to attribute 'append' of 'list' object is unsafe: templates may not modify their inputs", at: at(1, 12))),
        FailingRender(source: "{{ range(1000000)|length }}", expected: .limitExceeded(message: "range too big: the sandbox allows at most 100000 items", at: at(1, 4))),
        FailingRender(source: "{{ 'ab' * 100000000 }}", expected: .limitExceeded(message: "string repetition larger than 33554432 bytes", at: at(1, 9))),
        FailingRender(source: "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", expected: .limitExceeded(message: "macro 'f' called itself more than 64 levels deep", at: at(1, 19))),
        FailingRender(source: "{{ raise_exception('Bad roles') }}", expected: .raised(message: "Bad roles", at: at(1, 4))),
    ]
}

@Suite struct ChatTemplateErrorTests {
    @Test(arguments: BadTemplate.all)
    func badTemplatesReportWhereAndWhat(_ c: BadTemplate) {
        #expect(throws: c.expected) { try ChatTemplate(c.source) }
    }

    @Test(arguments: FailingRender.all)
    func renderErrorsReportWhereAndWhat(_ c: FailingRender) throws {
        let template = try ChatTemplate(c.source)
        #expect(throws: c.expected) {
            try template.render(messages: [ChatMessage(role: "user", content: "hi")], addGenerationPrompt: false, bosToken: nil, eosToken: nil)
        }
    }

    @Test func errorDescriptionsNameTheLocation() {
        let error = ChatTemplateError.unknownFilter(name: "frobnicate", at: TemplateLocation(line: 3, column: 9))
        #expect(error.description.hasPrefix("chat template error at line 3, column 9: unknown filter 'frobnicate'; supported filters: abs, batch"))
        #expect(ChatTemplateError.raised(message: "No system role", at: TemplateLocation(line: 1, column: 2)).description
            == "chat template rejected the conversation (raise_exception at line 1, column 2): No system role")
    }

    @Test func runawayLoopsStopAtTheStepLimit() throws {
        let template = try ChatTemplate("{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}")
        let evaluator = TemplateEvaluator(context: [:], now: Date(), limits: .init(maxOutputBytes: 1 << 20, maxSteps: 10_000, maxCallDepth: 8))
        #expect(throws: ChatTemplateError.limitExceeded(message: "more than 10000 evaluation steps", at: TemplateLocation(line: 1, column: 30))) {
            try evaluator.render(template.body)
        }
    }

    /// Templates that try to build values too deep, too big or cyclic are stopped with an error.
    @Test(arguments: [
        ("{% set ns = namespace(x=[]) %}{% for i in range(200) %}{% set ns.x = [ns.x] %}{% endfor %}", "values nest deeper than 128 levels"),
        ("{% set ns = namespace(x=1) %}{% for i in range(60) %}{% set ns.x = [ns.x, ns.x] %}{% endfor %}{{ ns.x }}", "value too large to build"),
        ("{% set ns = namespace() %}{% set ns.me = ns %}", "a namespace cannot be stored inside itself"),
        ("{% set a = namespace() %}{% set b = namespace(a=a) %}{% set a.b = [b] %}", "a namespace cannot be stored inside itself"),
        ("{% set ns = namespace(l=[1]) %}{% for i in range(30) %}{% set ns.l = ns.l + ns.l %}{% endfor %}", "sequence longer than 1000000 items"),
        ("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", "string longer than 33554432 bytes"),
        ("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}", "string longer than 33554432 bytes"),
        ("{{ ('a' * 1000000)|replace('a', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb') }}", "result larger than 33554432 bytes"),
        ("{{ 'x'|center(10000000000) }}", "result larger than 33554432 bytes"),
        ("{{ [1] * 100000000 }}", "sequence repetition longer than 1000000 items"),
        ("{{ range(-9223372036854775807, 9223372036854775807, 4611686018427387904)|list }}", ""),
    ])
    func hostileValuesAreRefused(_ source: String, _ message: String) throws {
        let template = try ChatTemplate(source)
        do {
            let output = try template.render(context: [:])
            #expect(message.isEmpty, "rendered \(output.prefix(80).debugDescription) but expected \(message)")
        } catch let error as ChatTemplateError {
            #expect(!message.isEmpty && error.description.contains(message), "\(error)")
        }
    }

    @Test func deepNestingIsASyntaxErrorNotAStackOverflow() {
        let deep = "{{ " + String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000) + " }}"
        #expect(throws: ChatTemplateError.self) { try ChatTemplate(deep) }
        let blocks = String(repeating: "{% if true %}", count: 5000)
        #expect(throws: ChatTemplateError.self) { try ChatTemplate(blocks) }
        let json = String(repeating: "[", count: 100_000)
        #expect(throws: ChatTemplateError.self) { try TemplateValue(json: json) }
    }

    /// Seeded mutations of the real templates (cut, duplicate, swap and insert characters) must parse or fail
    /// with a ChatTemplateError, and render or fail the same way: never crash.
    @Test func mutatedTemplatesNeverCrash() throws {
        let names = ["smollm2", "qwen2.5", "llama-3.1", "mistral-nemo", "gemma-2", "phi-3.5"]
        let sources = try names.map { Array(try ChatTemplateFixtures.source($0).unicodeScalars) }
        let alphabet = Array("{}%#-+()[]|.,:'\"~*/ \n=<>!abcxyz019_".unicodeScalars)
        let seed: UInt64 = 0xC4A7_7E3F
        var random = SplitMix64(seed: seed)
        var parsed = 0
        for iteration in 0..<1500 {
            var s = sources[Int(random.next() % UInt64(sources.count))]
            for _ in 0..<(1 + Int(random.next() % 4)) where !s.isEmpty {
                let i = Int(random.next() % UInt64(s.count))
                switch random.next() % 4 {
                case 0: s.remove(at: i)
                case 1: s.insert(alphabet[Int(random.next() % UInt64(alphabet.count))], at: i)
                case 2: s.swapAt(i, Int(random.next() % UInt64(s.count)))
                default: s.insert(contentsOf: s[i..<min(s.count, i + Int(random.next() % 40))], at: i)
                }
            }
            let source = String(String.UnicodeScalarView(s))
            do {
                let template = try ChatTemplate(source)
                parsed += 1
                _ = try? template.render(messages: [ChatMessage(role: "system", content: "S"), ChatMessage(role: "user", content: "U")],
                                         addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>")
            } catch is ChatTemplateError {
                continue
            } catch {
                Issue.record("seed \(seed) iteration \(iteration): unexpected error type \(error)")
            }
        }
        #expect(parsed > 100, "seed \(seed): only \(parsed) mutants parsed")
    }
}

/// A tiny deterministic generator (SplitMix64) so a failing mutation can be replayed from its seed.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
