// TemplateAST: the parsed form of a template — statements and expressions, each node carrying its source
// location for error messages. Mirrors the subset of jinja2's `nodes.py` that chat templates use.

struct Expr: Sendable {
    indirect enum Kind: Sendable {
        case constant(Value.Constant)
        case name(String)
        case list([Expr])
        case tuple([Expr])
        case dict([(key: Expr, value: Expr)])
        /// `a.b`: attribute first, then item (jinja2 `getattr`).
        case attribute(Expr, String)
        /// `a[b]`: item first, then attribute (jinja2 `getitem`).
        case item(Expr, Expr)
        case slice(Expr, start: Expr?, stop: Expr?, step: Expr?)
        case call(Expr, Arguments)
        case filter(Expr, name: String, Arguments)
        case test(Expr, name: String, Arguments, negated: Bool)
        case negate(Expr)
        case plus(Expr)
        case not(Expr)
        case and(Expr, Expr)
        case or(Expr, Expr)
        /// `+ - * / // % **`
        case binary(String, Expr, Expr)
        /// `a ~ b ~ c`
        case concat([Expr])
        /// `a < b == c`, chained as in Python; operators include `in` and `notin`.
        case compare(Expr, [(op: String, right: Expr)])
        /// `then if condition else otherwise` (no else: undefined).
        case conditional(condition: Expr, then: Expr, otherwise: Expr?)
    }

    let kind: Kind
    let at: TemplateLocation
}

/// Positional and keyword arguments of a call, filter or test.
struct Arguments: Sendable {
    var positional: [Expr] = []
    var keywords: [(name: String, value: Expr)] = []
}

/// The left side of `set` and `for`.
enum AssignTarget: Sendable {
    case name(String)
    case names([String])
    /// `ns.attribute`, only valid on a `namespace()` object.
    case namespaceAttribute(String, String)
}

struct ForLoop: Sendable {
    let target: AssignTarget
    let iterable: Expr
    /// `for x in xs if condition`: items failing the condition are skipped and do not count in `loop`.
    let condition: Expr?
    let body: [Statement]
    let otherwise: [Statement]
    let at: TemplateLocation
}

struct Macro: Sendable {
    let name: String
    let parameters: [(name: String, defaultValue: Expr?)]
    let body: [Statement]
    let at: TemplateLocation
}

indirect enum Statement: Sendable {
    case text(String)
    case output(Expr)
    case ifChain(branches: [(condition: Expr, body: [Statement])], otherwise: [Statement])
    case forLoop(ForLoop)
    case set(AssignTarget, Expr, at: TemplateLocation)
    /// `{% set x | filters %}body{% endset %}`: the rendered body, passed through the filters.
    case setBlock(AssignTarget, filters: [(name: String, arguments: Arguments, at: TemplateLocation)], body: [Statement], at: TemplateLocation)
    case macro(Macro)
    case breakLoop(at: TemplateLocation)
    case continueLoop(at: TemplateLocation)
}
