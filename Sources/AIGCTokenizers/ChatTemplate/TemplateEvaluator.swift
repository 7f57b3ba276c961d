// TemplateEvaluator: runs parsed statements against a context and produces the prompt text. Scoping follows
// jinja2: `set` writes to the innermost frame; each for-loop iteration and each macro call gets a fresh frame,
// so assignments inside a loop do not leak out of it (which is why templates use `namespace()`).
import Foundation

final class TemplateEvaluator {
    /// Safety limits: a template is user input and must not exhaust memory, time or the stack.
    struct Limits {
        var maxOutputBytes = 32 << 20
        var maxSteps = 5_000_000
        var maxCallDepth = 64
    }

    enum Flow { case normal, breakLoop, continueLoop }

    private var frames: [[String: Value]]
    let limits: Limits
    private var steps = 0
    private var callDepth = 0
    /// When `strftime_now` reads the clock; fixed by tests for reproducible prompts.
    let now: Date

    init(context: [String: Value], now: Date, limits: Limits = Limits()) {
        frames = [TemplateGlobals.values(now: now), context, [:]]
        self.now = now
        self.limits = limits
    }

    func render(_ body: [Statement]) throws -> String {
        var out = ""
        _ = try execute(body, into: &out)
        return out
    }

    // MARK: - Variables

    func lookup(_ name: String) -> Value {
        for frame in frames.reversed() {
            if let value = frame[name] { return value }
        }
        return .undefined(hint: "'\(name)' is undefined")
    }

    private func assign(_ target: AssignTarget, _ value: Value, at: TemplateLocation) throws {
        switch target {
        case .name(let name):
            frames[frames.count - 1][name] = value
        case .names(let names):
            let items = try located(at) { try Self.unpack(value, count: names.count) }
            for (name, item) in zip(names, items) { frames[frames.count - 1][name] = item }
        case .namespaceAttribute(let name, let attribute):
            guard case .namespace(let namespace) = lookup(name) else {
                throw ChatTemplateError.invalidOperation(message: "cannot assign attribute '\(attribute)' on '\(name)', which is not a namespace(); create it with {% set \(name) = namespace() %}", at: at)
            }
            try located(at) { try value.checkNesting(storingInto: namespace) }
            namespace.attributes[attribute] = value
        }
    }

    /// Tuple unpacking (`for key, value in d.items()`).
    static func unpack(_ value: Value, count: Int) throws -> [Value] {
        let items = try value.iterate()
        if case .undefined(let hint) = value { throw ValueError.undefined(hint) }
        guard items.count == count else {
            throw ValueError.invalid(items.count > count ? "too many values to unpack (expected \(count))"
                                                          : "not enough values to unpack (expected \(count), got \(items.count))")
        }
        return items
    }

    // MARK: - Statements

    private func step(_ at: TemplateLocation) throws {
        steps += 1
        if steps > limits.maxSteps {
            throw ChatTemplateError.limitExceeded(message: "more than \(limits.maxSteps) evaluation steps", at: at)
        }
    }

    func execute(_ statements: [Statement], into out: inout String) throws -> Flow {
        for statement in statements {
            switch statement {
            case .text(let text):
                try write(text, into: &out, at: nil)
            case .output(let expr):
                try step(expr.at)
                try write(try evaluate(expr).str, into: &out, at: expr.at)
            case .ifChain(let branches, let otherwise):
                var taken: [Statement] = otherwise
                for branch in branches where try evaluate(branch.condition).isTruthy {
                    taken = branch.body
                    break
                }
                let flow = try execute(taken, into: &out)
                if flow != .normal { return flow }
            case .forLoop(let loop):
                try runLoop(loop, into: &out)
            case .set(let target, let expr, let at):
                try step(at)
                try assign(target, try evaluate(expr), at: at)
            case .setBlock(let target, let filters, let body, let at):
                var captured = ""
                _ = try execute(body, into: &captured)
                var value = Value.string(captured)
                for filter in filters {
                    let arguments = try evaluate(filter.arguments)
                    value = try located(filter.at) { try TemplateFilters.apply(filter.name, to: value, arguments, evaluator: self) }
                }
                try assign(target, value, at: at)
            case .macro(let macro):
                frames[frames.count - 1][macro.name] = .callable(Callable(name: macro.name) { [unowned self] arguments in
                    try self.call(macro, arguments)
                })
            case .breakLoop:
                return .breakLoop
            case .continueLoop:
                return .continueLoop
            }
        }
        return .normal
    }

    private func write(_ text: String, into out: inout String, at: TemplateLocation?) throws {
        out += text
        if out.utf8.count > limits.maxOutputBytes {
            throw ChatTemplateError.limitExceeded(message: "output is larger than \(limits.maxOutputBytes) bytes",
                                                  at: at ?? TemplateLocation(line: 1, column: 1))
        }
    }

    private func runLoop(_ loop: ForLoop, into out: inout String) throws {
        let iterable = try evaluate(loop.iterable)
        if case .undefined = iterable {} else if case .callable = iterable {
            throw ChatTemplateError.invalidOperation(message: "'function' object is not iterable (did you mean to call it?)", at: loop.iterable.at)
        }
        var items = try located(loop.iterable.at) { try iterable.iterate() }
        if let condition = loop.condition {
            items = try items.filter { item in
                frames.append([:])
                defer { frames.removeLast() }
                try assign(loop.target, item, at: loop.at)
                return try evaluate(condition).isTruthy
            }
        }
        if items.isEmpty {
            _ = try execute(loop.otherwise, into: &out)
            return
        }
        for (i, item) in items.enumerated() {
            try step(loop.at)
            frames.append(["loop": loopObject(index: i, items: items)])
            defer { frames.removeLast() }
            try assign(loop.target, item, at: loop.at)
            if try execute(loop.body, into: &out) == .breakLoop { break }
        }
    }

    /// jinja2's `loop` variable for iteration `index` of `items` (`depth` is 1: recursive loops are not supported).
    private func loopObject(index: Int, items: [Value]) -> Value {
        let count = items.count
        var loop: TemplateDictionary<Value> = [
            "index": .int(index + 1), "index0": .int(index), "revindex": .int(count - index), "revindex0": .int(count - index - 1),
            "first": .bool(index == 0), "last": .bool(index == count - 1), "length": .int(count),
            "depth": .int(1), "depth0": .int(0),
        ]
        if index > 0 { loop["previtem"] = items[index - 1] }
        if index + 1 < count { loop["nextitem"] = items[index + 1] }
        loop["cycle"] = .callable(Callable(name: "loop.cycle") { arguments in
            guard !arguments.positional.isEmpty else { throw ValueError.invalid("no items for cycling given") }
            return arguments.positional[index % arguments.positional.count]
        })
        return .dictionary(loop)
    }

    private func call(_ macro: Macro, _ arguments: CallArguments) throws -> Value {
        callDepth += 1
        defer { callDepth -= 1 }
        if callDepth > limits.maxCallDepth {
            throw ValueError.limit("macro '\(macro.name)' called itself more than \(limits.maxCallDepth) levels deep")
        }
        if arguments.positional.count > macro.parameters.count {
            throw ValueError.invalid("macro '\(macro.name)' takes \(macro.parameters.count) arguments but \(arguments.positional.count) were given")
        }
        if let bad = arguments.keywords.first(where: { k in !macro.parameters.contains { $0.name == k.name } }) {
            throw ValueError.invalid("macro '\(macro.name)' has no parameter '\(bad.name)'")
        }
        frames.append([:])
        defer { frames.removeLast() }
        for (i, parameter) in macro.parameters.enumerated() {
            if let value = arguments.value(i, parameter.name) {
                frames[frames.count - 1][parameter.name] = value
            } else if let defaultValue = parameter.defaultValue {
                frames[frames.count - 1][parameter.name] = try evaluate(defaultValue)
            } else {
                frames[frames.count - 1][parameter.name] = .undefined(hint: "parameter '\(parameter.name)' was not provided")
            }
        }
        var out = ""
        _ = try execute(macro.body, into: &out)
        return .string(out)
    }

    /// Runs `body`, turning location-free `ValueError`s into `ChatTemplateError`s at `at`.
    func located<T>(_ at: TemplateLocation, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ValueError {
            switch error {
            case .undefined(let message): throw ChatTemplateError.undefinedValue(message: message, at: at)
            case .invalid(let message): throw ChatTemplateError.invalidOperation(message: message, at: at)
            case .raised(let message): throw ChatTemplateError.raised(message: message, at: at)
            case .limit(let message): throw ChatTemplateError.limitExceeded(message: message, at: at)
            }
        }
    }
}
