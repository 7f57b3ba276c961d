// Real chat templates (Tests/Fixtures/chat-templates, sources in SOURCES.md) render byte for byte as Python's
// jinja2 renders them with transformers' settings; expected.json comes from
// scripts/reference/make_chat_template_fixtures.py.
import AIGCTestSupport
import AIGCTokenizers
import Foundation
import Testing

struct ChatTemplateCase: Sendable, CustomTestStringConvertible {
    enum Expected: Sendable {
        case output(String)
        /// The template called raise_exception with this message.
        case raised(String)
        /// jinja2 failed some other way (an undefined value, a type error): Python's exception type and text.
        case failed(type: String, message: String)
    }

    let template: String
    let conversation: String
    let expected: Expected
    var testDescription: String { "\(template) × \(conversation)" }
}

enum ChatTemplateFixtures {
    static let document: TemplateValue? = {
        guard let data = FileManager.default.contents(atPath: Fixtures.fixture("chat-templates/expected.json")) else { return nil }
        return try? TemplateValue(json: String(decoding: data, as: UTF8.self))
    }()

    static let cases: [ChatTemplateCase] = (document?["cases"]?.arrayValue ?? []).compactMap { c in
        guard let template = c["template"]?.stringValue, let conversation = c["conversation"]?.stringValue else { return nil }
        let expected: ChatTemplateCase.Expected
        if let output = c["output"]?.stringValue {
            expected = .output(output)
        } else if c["error"]?.stringValue == "raise" {
            expected = .raised(c["message"]?.stringValue ?? "")
        } else {
            expected = .failed(type: c["type"]?.stringValue ?? "", message: c["message"]?.stringValue ?? "")
        }
        return ChatTemplateCase(template: template, conversation: conversation, expected: expected)
    }

    static func entry(_ section: String, _ name: String) -> TemplateValue? {
        document?[section]?.arrayValue?.first { $0["name"]?.stringValue == name }
    }

    static func source(_ name: String) throws -> String {
        try String(contentsOfFile: Fixtures.fixture("chat-templates/\(name).jinja"), encoding: .utf8)
    }

    /// The time the fixture script pins `strftime_now` to (2025-03-14 09:26:53, local time).
    static let now: Date = {
        var components = DateComponents(year: 2025, month: 3, day: 14, hour: 9, minute: 26, second: 53)
        components.timeZone = TimeZone.current
        return Calendar(identifier: .gregorian).date(from: components) ?? Date()
    }()

    static func render(_ c: ChatTemplateCase) throws -> String {
        let template = try ChatTemplate(try source(c.template))
        let info = entry("templates", c.template), conversation = entry("conversations", c.conversation)
        var variables: [String: TemplateValue] = [:]
        for (key, value) in conversation?["variables"]?.dictionaryValue ?? [:] { variables[key] = value }
        return try template.render(messages: conversation?["messages"]?.arrayValue ?? [],
                                   addGenerationPrompt: conversation?["add_generation_prompt"] == .bool(true),
                                   bosToken: info?["bos_token"]?.stringValue, eosToken: info?["eos_token"]?.stringValue,
                                   variables: variables, now: now)
    }
}

extension TemplateValue {
    subscript(key: String) -> TemplateValue? {
        if case .dictionary(let d) = self { return d[key] }
        return nil
    }
    var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    var arrayValue: [TemplateValue]? { if case .array(let a) = self { return a } else { return nil } }
    var dictionaryValue: TemplateDictionary<TemplateValue>? { if case .dictionary(let d) = self { return d } else { return nil } }
}

@Suite struct ChatTemplateTests {
    @Test func fixturesArePresent() {
        #expect(ChatTemplateFixtures.cases.count == 110)
        let templates = Set(ChatTemplateFixtures.cases.map(\.template))
        #expect(templates.isSuperset(of: ["smollm2", "llama-3.2", "qwen2.5", "mistral-v0.2", "gemma-2", "phi-3"]))
    }

    @Test(arguments: ChatTemplateFixtures.cases)
    func rendersAsJinja2Does(_ c: ChatTemplateCase) throws {
        switch c.expected {
        case .output(let expected):
            let output = try ChatTemplateFixtures.render(c)
            #expect(output == expected, "first difference at UTF-8 offset \(Self.firstDifference(output, expected))")
        case .raised(let message):
            #expect(throws: ChatTemplateError.self) { try ChatTemplateFixtures.render(c) }
            do {
                _ = try ChatTemplateFixtures.render(c)
            } catch let error as ChatTemplateError {
                guard case .raised(let got, _) = error else { Issue.record("expected raise_exception(\(message)), got \(error)"); return }
                #expect(got == message)
            }
        case .failed(let type, let message):
            do {
                let output = try ChatTemplateFixtures.render(c)
                Issue.record("jinja2 failed with \(type): \(message), but aigc rendered \(output.debugDescription)")
            } catch let error as ChatTemplateError {
                if case .raised = error { Issue.record("expected \(type), got \(error)") }
                #expect(error.location != nil)
            }
        }
    }

    @Test func raiseExceptionCarriesTheTemplatesMessageAndLocation() throws {
        let template = try ChatTemplate("{% for m in messages %}\n  {{ raise_exception('No ' ~ m.role ~ ' allowed') }}\n{% endfor %}")
        #expect(throws: ChatTemplateError.raised(message: "No tool allowed", at: TemplateLocation(line: 2, column: 6))) {
            try template.render(messages: [ChatMessage(role: "tool", content: "x")], addGenerationPrompt: false, bosToken: nil, eosToken: nil)
        }
    }

    @Test func llamaTemplateUsesStrftimeNowWithoutADateString() throws {
        let template = try ChatTemplate(try ChatTemplateFixtures.source("llama-3.2"))
        let prompt = try template.render(messages: [ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: true,
                                         bosToken: "<|begin_of_text|>", eosToken: "<|eot_id|>", now: ChatTemplateFixtures.now)
        #expect(prompt.contains("Today Date: 14 Mar 2025\n"))
        #expect(prompt.hasSuffix("<|start_header_id|>assistant<|end_header_id|>\n\n"))
    }

    @Test func everyFixtureTemplateParses() throws {
        for name in ["smollm2", "qwen2", "qwen2.5", "llama-3.1", "llama-3.2", "mistral-v0.2", "mistral-nemo", "gemma-2", "phi-3", "phi-3.5"] {
            _ = try ChatTemplate(try ChatTemplateFixtures.source(name))
        }
    }

    /// 400 seeded random templates mixing text, tags, comments, raw blocks and `-`/`+` markers: the whitespace
    /// rules (trim_blocks, lstrip_blocks) are where a Jinja port most easily drifts from jinja2.
    @Test func whitespaceControlMatchesJinja2OnRandomTemplates() throws {
        let cases = ChatTemplateFixtures.document?["whitespace_cases"]?.arrayValue ?? []
        #expect(cases.count == 400)
        var failures = 0
        for c in cases {
            guard let source = c["template"]?.stringValue, let expected = c["output"]?.stringValue else { continue }
            let output = try ChatTemplate(source).render(context: [:])
            if output != expected {
                failures += 1
                if failures <= 5 { Issue.record("\(source.debugDescription): got \(output.debugDescription), jinja2 \(expected.debugDescription)") }
            }
        }
        #expect(failures == 0)
    }

    /// 1000 seeded random expressions (operators, filters, tests, methods, undefined values): the same text as
    /// jinja2, or an error where jinja2 raised one.
    @Test func expressionsMatchJinja2OnRandomInput() throws {
        let document = ChatTemplateFixtures.document
        let cases = document?["expression_cases"]?.arrayValue ?? []
        #expect(cases.count == 1000)
        var context: [String: TemplateValue] = [:]
        for (key, value) in document?["expression_context"]?.dictionaryValue ?? [:] { context[key] = value }
        var failures = 0
        for c in cases {
            guard let source = c["template"]?.stringValue else { continue }
            let result = Result { try ChatTemplate(source).render(context: context) }
            let mismatch: String?
            switch (result, c["output"]?.stringValue) {
            case (.success(let output), let expected?): mismatch = output == expected ? nil : "got \(output.debugDescription), jinja2 \(expected.debugDescription)"
            case (.success(let output), nil): mismatch = "rendered \(output.debugDescription) where jinja2 raised \(c["error"]?.stringValue ?? "")"
            case (.failure(let error), let expected?): mismatch = "failed (\(error)) where jinja2 rendered \(expected.debugDescription)"
            case (.failure(let error), nil): mismatch = error is ChatTemplateError ? nil : "threw a \(type(of: error))"
            }
            if let mismatch {
                failures += 1
                if failures <= 10 { Issue.record("\(source): \(mismatch)") }
            }
        }
        #expect(failures == 0)
    }

    static func firstDifference(_ a: String, _ b: String) -> Int {
        zip(a.utf8, b.utf8).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.utf8.count, b.utf8.count)
    }
}
