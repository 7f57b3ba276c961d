// ChatTemplateError: everything that can go wrong while parsing or rendering a chat template, each with the
// line and column in the template so a model author (or a user pasting a template) can find the fault.

/// A position in a template's source: 1-based line and column, counted in Unicode scalars after newlines are
/// normalised to `\n` (as jinja2 does before lexing).
public struct TemplateLocation: Sendable, Hashable, CustomStringConvertible {
    public let line: Int
    public let column: Int
    public init(line: Int, column: Int) { self.line = line; self.column = column }
    public var description: String { "line \(line), column \(column)" }
}

/// Errors raised by `ChatTemplate`. Syntax errors are raised by `init`; the rest by `render`.
public enum ChatTemplateError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The template is not valid Jinja: `message` says what was found and what was expected.
    case syntax(message: String, at: TemplateLocation)
    /// A filter (`x | name`) that this interpreter does not provide.
    case unknownFilter(name: String, at: TemplateLocation)
    /// A test (`x is name`) that this interpreter does not provide.
    case unknownTest(name: String, at: TemplateLocation)
    /// The template itself called `raise_exception(message)`, usually to reject a conversation it cannot format
    /// (for example roles that do not alternate).
    case raised(message: String, at: TemplateLocation)
    /// An undefined variable or attribute was used where a value is needed (subscripted, added, called...).
    case undefinedValue(message: String, at: TemplateLocation)
    /// An operation on values of the wrong type, a bad argument, division by zero and the like.
    case invalidOperation(message: String, at: TemplateLocation)
    /// The template ran past a safety limit (output size, loop steps, recursion); templates are user input.
    case limitExceeded(message: String, at: TemplateLocation)
    /// A JSON document handed to `TemplateValue(json:)` could not be parsed.
    case invalidJSON(message: String, offset: Int)

    /// Where in the template the error happened (nil for JSON input errors).
    public var location: TemplateLocation? {
        switch self {
        case .syntax(_, let at), .unknownFilter(_, let at), .unknownTest(_, let at), .raised(_, let at),
             .undefinedValue(_, let at), .invalidOperation(_, let at), .limitExceeded(_, let at):
            return at
        case .invalidJSON:
            return nil
        }
    }

    public var description: String {
        switch self {
        case .syntax(let message, let at):
            return "chat template syntax error at \(at): \(message)"
        case .unknownFilter(let name, let at):
            return "chat template error at \(at): unknown filter '\(name)'; supported filters: \(TemplateFilters.names.sorted().joined(separator: ", "))"
        case .unknownTest(let name, let at):
            return "chat template error at \(at): unknown test '\(name)'; supported tests: \(TemplateTests.names.sorted().joined(separator: ", "))"
        case .raised(let message, let at):
            return "chat template rejected the conversation (raise_exception at \(at)): \(message)"
        case .undefinedValue(let message, let at):
            return "chat template error at \(at): \(message)"
        case .invalidOperation(let message, let at):
            return "chat template error at \(at): \(message)"
        case .limitExceeded(let message, let at):
            return "chat template stopped at \(at): \(message)"
        case .invalidJSON(let message, let offset):
            return "invalid JSON at byte \(offset): \(message)"
        }
    }
}
