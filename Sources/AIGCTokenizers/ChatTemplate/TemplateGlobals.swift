// TemplateGlobals: the functions every chat template can call — jinja2's `range`, `namespace`, `dict`, plus
// the two transformers adds in `_compile_jinja_template`: `raise_exception(message)` and
// `strftime_now(format)`.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum TemplateGlobals {
    /// jinja2's sandbox refuses ranges longer than this (`MAX_RANGE`).
    static let maxRange = 100_000

    static func values(now: Date) -> [String: Value] {
        [
            "range": .callable(Callable(name: "range", call: range)),
            "namespace": .callable(Callable(name: "namespace") { arguments in
                var attributes = TemplateDictionary<Value>()
                for initial in arguments.positional {
                    guard case .dictionary(let d) = initial else { throw ValueError.invalid("namespace() takes dicts and keyword arguments") }
                    for (key, value) in d { attributes[key] = value }
                }
                for (key, value) in arguments.keywords { attributes[key] = value }
                let namespace = Value.namespace(Namespace(attributes))
                try namespace.checkNesting()
                return namespace
            }),
            "dict": .callable(Callable(name: "dict") { arguments in
                let dictionary = Value.dictionary(TemplateDictionary(arguments.keywords.map { ($0.name, $0.value) }))
                try dictionary.checkNesting()
                return dictionary
            }),
            "raise_exception": .callable(Callable(name: "raise_exception") { arguments in
                throw ValueError.raised(arguments.value(0, "message")?.str ?? "")
            }),
            "strftime_now": .callable(Callable(name: "strftime_now") { arguments in
                guard case .string(let format)? = arguments.value(0, "format") else {
                    throw ValueError.invalid("strftime_now needs a format string such as \"%d %b %Y\"")
                }
                return .string(strftime(format, now))
            }),
        ]
    }

    private static func range(_ arguments: CallArguments) throws -> Value {
        let numbers = try arguments.positional.map { value -> Int in
            guard let i = value.integer else { throw ValueError.invalid("'\(value.typeName)' object cannot be interpreted as an integer") }
            return i
        }
        let (start, stop, step): (Int, Int, Int)
        switch numbers.count {
        case 1: (start, stop, step) = (0, numbers[0], 1)
        case 2: (start, stop, step) = (numbers[0], numbers[1], 1)
        case 3: (start, stop, step) = (numbers[0], numbers[1], numbers[2])
        default: throw ValueError.invalid("range expected 1 to 3 integer arguments, got \(numbers.count)")
        }
        guard step != 0 else { throw ValueError.invalid("range() arg 3 must not be zero") }
        // In Double, so extreme bounds cannot overflow; the exact count is only needed when it is small.
        let span = step > 0 ? Double(stop) - Double(start) : Double(start) - Double(stop)
        let magnitude = step > 0 ? Double(step) : -Double(step)
        guard span <= 0 || (span / magnitude).rounded(.up) <= Double(maxRange) else {
            throw ValueError.limit("range too big: the sandbox allows at most \(maxRange) items")
        }
        var values: [Value] = []
        var i = start
        while step > 0 ? i < stop : i > stop {
            values.append(.int(i))
            let (next, overflow) = i.addingReportingOverflow(step)
            if overflow { break }
            i = next
        }
        return .array(values)
    }

    /// C `strftime` of the local time at `date`, as Python's `datetime.now().strftime` formats it.
    static func strftime(_ format: String, _ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        localtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 512)
        let count = format.withCString { Foundation.strftime(&buffer, buffer.count, $0, &parts) }
        if count == 0 && !format.isEmpty { return "" }
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
