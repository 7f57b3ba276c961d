// ChatTemplate: renders a model's chat template (GGUF `tokenizer.chat_template`, or `chat_template` in a
// Hugging Face tokenizer_config.json) the way transformers' `apply_chat_template` does: jinja2 with
// trim_blocks and lstrip_blocks, `raise_exception`, `strftime_now`, and a `tojson` that is plain json.dumps.
// Reference: transformers `utils/chat_template_utils.py` (`_compile_jinja_template`, `render_jinja_template`).
import Foundation

/// One turn of a conversation.
public struct ChatMessage: Codable, Sendable, Hashable {
    public var role: String
    public var content: String
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// A parsed chat template, ready to render conversations into prompt text.
///
/// Supports the Jinja that model templates use: `{{ }}`, `{% %}`, `{# #}`, `{% raw %}`, whitespace control
/// (`-`, `+`, trim_blocks, lstrip_blocks), `if/elif/else`, `for` (with `loop.*`, `else`, `if` filters, tuple
/// unpacking, `break`/`continue`), `set` (also `{% set x %}...{% endset %}` and `namespace()` attributes),
/// macros, `{% generation %}`, Python-style operators, literals, slices, methods (`strip`, `split`, `items`,
/// `get`...), jinja2's tests and common filters. Not supported: template inheritance and includes
/// (`extends`, `block`, `include`, `import`), `call`/`filter` blocks, recursive loops, `*args` in calls.
public struct ChatTemplate: Sendable {
    /// The template as given.
    public let source: String
    let body: [Statement]

    /// Parses `source`; throws `ChatTemplateError.syntax`, `.unknownFilter` or `.unknownTest` with the line and
    /// column of the fault.
    public init(_ source: String) throws {
        self.source = source
        body = try TemplateParser.parse(source)
    }

    /// Renders a plain conversation. `bosToken`/`eosToken` left nil are undefined in the template, as special
    /// tokens a tokenizer lacks are in transformers. `variables` adds or overrides template variables (`tools`,
    /// `date_string`, `enable_thinking`...). `now` is the time `strftime_now` formats.
    public func render(messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String?, eosToken: String?,
                       variables: [String: TemplateValue] = [:], now: Date = Date()) throws -> String {
        try render(messages: messages.map(TemplateValue.init), addGenerationPrompt: addGenerationPrompt,
                   bosToken: bosToken, eosToken: eosToken, variables: variables, now: now)
    }

    /// Renders messages given as values, so they can carry more than role and content (`tool_calls`,
    /// `tool_call_id`, structured content).
    public func render(messages: [TemplateValue], addGenerationPrompt: Bool, bosToken: String?, eosToken: String?,
                       variables: [String: TemplateValue] = [:], now: Date = Date()) throws -> String {
        // transformers always passes `tools` and `documents`, as None when the caller gives none.
        var context: [String: TemplateValue] = ["tools": .null, "documents": .null]
        context["messages"] = .array(messages)
        context["add_generation_prompt"] = .bool(addGenerationPrompt)
        if let bosToken { context["bos_token"] = .string(bosToken) }
        if let eosToken { context["eos_token"] = .string(eosToken) }
        context.merge(variables) { _, new in new }
        return try render(context: context, now: now)
    }

    /// Renders with exactly the given variables (besides the globals every template has).
    public func render(context: [String: TemplateValue], now: Date = Date()) throws -> String {
        let evaluator = TemplateEvaluator(context: context.mapValues(Value.init), now: now)
        return try evaluator.render(body)
    }
}
