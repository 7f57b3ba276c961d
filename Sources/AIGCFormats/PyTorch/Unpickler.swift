// A restricted pickle VM (protocols 2-5) that rebuilds PyTorch state dicts and nothing else.
// Spec: CPython Lib/pickletools.py (opcode table) and Lib/pickle.py (`_Unpickler`), torch/serialization.py.
//
// Layout: a stream of one-byte opcodes with inline arguments (little-endian integers, length-prefixed
// strings), ending with STOP '.'. The VM has a value stack, a mark stack (MARK '(' opens a group
// that TUPLE/SETITEMS/APPENDS consume) and a memo (BINPUT/BINGET). Python's unpickler imports any
// `module.name` that GLOBAL asks for and REDUCE calls it with any arguments — that is how a .pth
// file can run `os.system`. Here GLOBAL resolves only the `PickleGlobal` allow-list and refuses
// everything else the moment it is read, so nothing is ever called; REDUCE/NEWOBJ/BUILD only know
// how to apply those few globals.
//
// Hardening: every length is checked against the remaining bytes before reading; the stack, memo
// and mark stack are capped; tuples may nest at most `maxDepth` deep (freeing a deep tree recurses);
// lists and dicts live in a registry and are emptied when `load` returns, which breaks cycles.

/// Reads a pickle into `PickleValue`s, refusing every global outside the state-dict allow-list.
public enum Unpickler {
    /// The deepest tuple nesting accepted (state dicts nest 3-4 deep).
    public static let maxDepth = 64
    /// The most values the stack or the memo may hold.
    public static let maxValues = 1 << 22

    /// Unpickles `bytes` and passes the result to `body`. Lists and dicts inside the value are
    /// emptied afterwards, so take what you need inside `body`. `file` names the stream in errors.
    public static func load<R>(_ bytes: UnsafeRawBufferPointer, file: String, _ body: (PickleValue) throws -> R) throws -> R {
        let machine = PickleMachine(file: file, bytes: bytes)
        defer { machine.release() }
        return try body(try machine.run())
    }

    /// Convenience for in-memory pickles (tests, fuzzing).
    public static func load<R>(_ bytes: [UInt8], file: String = "pickle", _ body: (PickleValue) throws -> R) throws -> R {
        try bytes.withUnsafeBytes { try load($0, file: file, body) }
    }
}

final class PickleMachine {
    let file: String
    var reader: ByteReader
    var stack: [PickleValue] = []
    var marks: [Int] = []
    var memo: [Int: PickleValue] = [:]
    var lists: [PickleList] = []
    var dicts: [PickleDict] = []
    /// Offset of the opcode being executed, for error messages.
    var at = 0

    init(file: String, bytes: UnsafeRawBufferPointer) {
        self.file = file
        reader = ByteReader(file: file, bytes: bytes)
    }

    /// Empties every list and dict built, so reference cycles (a list appended to itself) are freed.
    func release() {
        for l in lists { l.items.removeAll() }
        for d in dicts { d.removeAll() }
        lists.removeAll()
        dicts.removeAll()
        stack.removeAll()
        memo.removeAll()
    }

    func error(_ reason: String, value: String = "") -> FormatError {
        let name = PickleMachine.opcodeNames[reader.bytes[at]] ?? "0x" + String(reader.bytes[at], radix: 16)
        return .invalidValue(file: file, field: "pickle opcode \(name)", offset: at, value: value, reason: reason)
    }

    func run() throws -> PickleValue {
        while true {
            at = reader.offset
            let op = try reader.read(UInt8.self, "pickle opcode")
            if op == 0x2E { return try pop() }  // STOP '.'
            try execute(op)
            guard stack.count <= Unpickler.maxValues, memo.count <= Unpickler.maxValues else {
                throw error("more than \(Unpickler.maxValues) values: not a state dict")
            }
        }
    }

    // MARK: stack helpers

    /// The number of stack entries that belong to the innermost MARK group.
    var floor: Int { marks.last ?? 0 }

    func push(_ value: PickleValue) { stack.append(value) }

    func pop() throws -> PickleValue {
        guard stack.count > floor else { throw error("stack underflow: the pickle is corrupt") }
        return stack.removeLast()
    }

    func top() throws -> PickleValue {
        guard stack.count > floor else { throw error("stack underflow: the pickle is corrupt") }
        return stack[stack.count - 1]
    }

    /// Pops the values pushed since the last MARK, and the mark.
    func popMark() throws -> [PickleValue] {
        guard let mark = marks.popLast() else { throw error("no MARK to close: the pickle is corrupt") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    func makeTuple(_ items: [PickleValue]) throws -> PickleValue {
        let t = PickleTuple(items)
        guard t.depth <= Unpickler.maxDepth else { throw error("tuples nested deeper than \(Unpickler.maxDepth)") }
        return .tuple(t)
    }

    func newList() -> PickleList {
        let l = PickleList()
        lists.append(l)
        return l
    }

    func newDict() -> PickleDict {
        let d = PickleDict()
        dicts.append(d)
        return d
    }

    // MARK: argument readers

    func readLength<T: FixedWidthInteger>(_: T.Type, _ field: String) throws -> Int {
        let raw = try reader.read(T.self, field)
        guard raw >= 0, UInt64(raw) <= UInt64(reader.remaining) else {
            throw FormatError.truncated(file: file, field: field, offset: reader.offset, need: Int(clamping: raw), fileSize: reader.bytes.count)
        }
        return Int(raw)
    }

    /// A newline-terminated line (GLOBAL's module and name).
    func readLine(_ field: String) throws -> String {
        let start = reader.offset
        guard let end = reader.bytes[start...].firstIndex(of: 0x0A) else {
            throw FormatError.truncated(file: file, field: field, offset: start, need: reader.remaining + 1, fileSize: reader.bytes.count)
        }
        let text = try reader.readString(end - start, field)
        reader.offset += 1
        return text
    }

    /// Latin-1 text (protocol-2 `str` from Python 2: one byte per code point).
    func readLatin1(_ count: Int, _ field: String) throws -> String {
        let raw = try reader.readBytes(count, field)
        return String(String.UnicodeScalarView(raw.map { Unicode.Scalar($0) }))
    }

    /// LONG1/LONG4: little-endian two's complement of any width; wider than 64 bits is refused.
    func readLong(_ count: Int) throws -> Int {
        guard count <= 8 else { throw error("integer of \(count) bytes is wider than 64 bits") }
        let raw = try reader.readBytes(count, "long integer")
        var value: UInt64 = 0
        for (i, b) in raw.enumerated() { value |= UInt64(b) << (8 * UInt64(i)) }
        if count > 0, count < 8, raw[count - 1] & 0x80 != 0 { value |= ~0 << (8 * UInt64(count)) }
        return Int(truncatingIfNeeded: value)
    }

    func resolveGlobal(module: String, name: String) throws -> PickleValue {
        guard let g = PickleGlobal(module: module, name: name) else {
            throw FormatError.invalidValue(
                file: file, field: "global '\(module).\(name)'", offset: at, value: "module '\(module)', attribute '\(name)'",
                reason: "refused to load global '\(module).\(name)' at offset \(at): only tensors, storages and plain containers may be unpickled"
                    + " (a checkpoint that names other code may try to run it; save model.state_dict() instead of the model)")
        }
        return .global(g)
    }

    static let opcodeNames: [UInt8: String] = [
        0x80: "PROTO", 0x95: "FRAME", 0x2E: "STOP", 0x28: "MARK", 0x30: "POP", 0x31: "POP_MARK", 0x32: "DUP",
        0x7D: "EMPTY_DICT", 0x5D: "EMPTY_LIST", 0x29: "EMPTY_TUPLE", 0x8F: "EMPTY_SET", 0x90: "ADDITEMS", 0x91: "FROZENSET",
        0x74: "TUPLE", 0x85: "TUPLE1", 0x86: "TUPLE2", 0x87: "TUPLE3", 0x6C: "LIST", 0x64: "DICT",
        0x4A: "BININT", 0x4B: "BININT1", 0x4D: "BININT2", 0x8A: "LONG1", 0x8B: "LONG4", 0x47: "BINFLOAT",
        0x8C: "SHORT_BINUNICODE", 0x58: "BINUNICODE", 0x8D: "BINUNICODE8", 0x55: "SHORT_BINSTRING", 0x54: "BINSTRING",
        0x43: "SHORT_BINBYTES", 0x42: "BINBYTES", 0x8E: "BINBYTES8", 0x96: "BYTEARRAY8",
        0x4E: "NONE", 0x88: "NEWTRUE", 0x89: "NEWFALSE",
        0x71: "BINPUT", 0x72: "LONG_BINPUT", 0x94: "MEMOIZE", 0x68: "BINGET", 0x6A: "LONG_BINGET",
        0x73: "SETITEM", 0x75: "SETITEMS", 0x61: "APPEND", 0x65: "APPENDS",
        0x63: "GLOBAL", 0x93: "STACK_GLOBAL", 0x52: "REDUCE", 0x62: "BUILD", 0x81: "NEWOBJ", 0x92: "NEWOBJ_EX",
        0x51: "BINPERSID", 0x50: "PERSID", 0x69: "INST", 0x6F: "OBJ", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4",
        0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER", 0x49: "INT", 0x4C: "LONG", 0x46: "FLOAT", 0x53: "STRING",
        0x56: "UNICODE", 0x70: "PUT", 0x67: "GET",
    ]
}
