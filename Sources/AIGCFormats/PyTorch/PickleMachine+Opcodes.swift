// The opcode switch of the restricted pickle VM: one case per opcode of protocols 2-5 that a
// state dict can use. Opcodes that import by name in other ways (INST, OBJ, EXT*) or need
// out-of-band data (NEXT_BUFFER) are refused; text opcodes of protocols 0-1 are not supported.

extension PickleMachine {
    // swiftlint:disable:next cyclomatic_complexity function_body_length
    func execute(_ op: UInt8) throws {
        switch op {
        case 0x80:  // PROTO
            let version = try reader.read(UInt8.self, "pickle protocol")
            guard version <= 5 else { throw FormatError.unsupportedVersion(file: file, version: Int(version), supported: "pickle protocols 2-5") }
        case 0x95:  // FRAME: a length that only helps buffered readers; check it and go on.
            _ = try readLength(UInt64.self, "pickle frame")
        case 0x28: marks.append(stack.count)  // MARK
        case 0x30: _ = try pop()  // POP
        case 0x31: _ = try popMark()  // POP_MARK
        case 0x32: push(try top())  // DUP
        case 0x4E: push(.none)
        case 0x88: push(.bool(true))
        case 0x89: push(.bool(false))
        case 0x4A: push(.int(Int(try reader.read(Int32.self, "BININT"))))
        case 0x4B: push(.int(Int(try reader.read(UInt8.self, "BININT1"))))
        case 0x4D: push(.int(Int(try reader.read(UInt16.self, "BININT2"))))
        case 0x8A: push(.int(try readLong(Int(try reader.read(UInt8.self, "LONG1 length")))))
        case 0x8B: push(.int(try readLong(try readLength(Int32.self, "LONG4 length"))))
        case 0x47: push(.float(Double(bitPattern: try reader.read(UInt64.self, "BINFLOAT").byteSwapped)))  // big-endian
        case 0x8C: push(.string(try reader.readString(Int(try reader.read(UInt8.self, "SHORT_BINUNICODE length")), "SHORT_BINUNICODE")))
        case 0x58: push(.string(try reader.readString(try readLength(UInt32.self, "BINUNICODE length"), "BINUNICODE")))
        case 0x8D: push(.string(try reader.readString(try readLength(UInt64.self, "BINUNICODE8 length"), "BINUNICODE8")))
        case 0x55: push(.string(try readLatin1(Int(try reader.read(UInt8.self, "SHORT_BINSTRING length")), "SHORT_BINSTRING")))
        case 0x54: push(.string(try readLatin1(try readLength(Int32.self, "BINSTRING length"), "BINSTRING")))
        case 0x43: push(.bytes(Array(try reader.readBytes(Int(try reader.read(UInt8.self, "SHORT_BINBYTES length")), "SHORT_BINBYTES"))))
        case 0x42: push(.bytes(Array(try reader.readBytes(try readLength(UInt32.self, "BINBYTES length"), "BINBYTES"))))
        case 0x8E, 0x96: push(.bytes(Array(try reader.readBytes(try readLength(UInt64.self, "BINBYTES8 length"), "BINBYTES8"))))
        case 0x29: push(try makeTuple([]))  // EMPTY_TUPLE
        case 0x85, 0x86, 0x87:  // TUPLE1..3
            let n = Int(op - 0x84)
            guard stack.count - floor >= n else { throw error("stack underflow: the pickle is corrupt") }
            let items = Array(stack.suffix(n))
            stack.removeLast(n)
            push(try makeTuple(items))
        case 0x74: push(try makeTuple(try popMark()))  // TUPLE
        case 0x5D: push(.list(newList()))  // EMPTY_LIST
        case 0x6C:  // LIST
            let l = newList()
            l.items = try popMark()
            push(.list(l))
        case 0x7D: push(.dict(newDict()))  // EMPTY_DICT
        case 0x64:  // DICT
            let d = newDict()
            try setItems(d, try popMark())
            push(.dict(d))
        case 0x8F: push(.list(newList()))  // EMPTY_SET: sets are kept as lists
        case 0x90:  // ADDITEMS
            let items = try popMark()
            guard case let .list(l) = try top() else { throw error("ADDITEMS needs a set, found \(try top().kind)") }
            l.items += items
        case 0x91:  // FROZENSET
            let l = newList()
            l.items = try popMark()
            push(.list(l))
        case 0x61:  // APPEND
            let value = try pop()
            guard case let .list(l) = try top() else { throw error("APPEND needs a list, found \(try top().kind)") }
            l.items.append(value)
        case 0x65:  // APPENDS
            let items = try popMark()
            guard case let .list(l) = try top() else { throw error("APPENDS needs a list, found \(try top().kind)") }
            l.items += items
        case 0x73:  // SETITEM
            let value = try pop(), key = try pop()
            guard case let .dict(d) = try top() else { throw error("SETITEM needs a dict, found \(try top().kind)") }
            d.set(key, value)
        case 0x75:  // SETITEMS
            let items = try popMark()
            guard case let .dict(d) = try top() else { throw error("SETITEMS needs a dict, found \(try top().kind)") }
            try setItems(d, items)
        case 0x71: memo[Int(try reader.read(UInt8.self, "BINPUT index"))] = try top()
        case 0x72: memo[Int(try reader.read(UInt32.self, "LONG_BINPUT index"))] = try top()
        case 0x94: memo[memo.count] = try top()  // MEMOIZE
        case 0x68: push(try memoValue(Int(try reader.read(UInt8.self, "BINGET index"))))
        case 0x6A: push(try memoValue(Int(try reader.read(UInt32.self, "LONG_BINGET index"))))
        case 0x63:  // GLOBAL "module\nname\n"
            let module = try readLine("GLOBAL module"), name = try readLine("GLOBAL name")
            push(try resolveGlobal(module: module, name: name))
        case 0x93:  // STACK_GLOBAL
            let name = try pop(), module = try pop()
            guard case let .string(m) = module, case let .string(n) = name else {
                throw error("STACK_GLOBAL needs two strings, found \(module.kind) and \(name.kind)")
            }
            push(try resolveGlobal(module: m, name: n))
        case 0x69:  // INST "module\nname\n": imports and calls like GLOBAL + REDUCE; refuse by name
            let module = try readLine("INST module"), name = try readLine("INST name")
            _ = try resolveGlobal(module: module, name: name)
            throw error("INST (protocol 0 object creation) is not supported")
        case 0x52:  // REDUCE
            let args = try pop(), callable = try pop()
            push(try call(callable, args))
        case 0x81:  // NEWOBJ
            let args = try pop(), cls = try pop()
            push(try construct(cls, args))
        case 0x92:  // NEWOBJ_EX
            _ = try pop()
            let args = try pop(), cls = try pop()
            push(try construct(cls, args))
        case 0x62:  // BUILD
            let state = try pop()
            try build(try top(), state)
        case 0x51: push(try persistentLoad(try pop()))  // BINPERSID
        case 0x6F, 0x82, 0x83, 0x84:
            throw error("object creation through the extension registry or OBJ is refused: only state dicts are supported")
        case 0x97, 0x98:
            throw error("out-of-band buffers (pickle protocol 5) are not supported in checkpoints")
        default:
            let known = PickleMachine.opcodeNames[op] != nil
            throw error(known ? "text opcodes of pickle protocols 0-1 are not supported" : "unknown opcode: not a pickle, or corrupt",
                        value: "0x" + String(op, radix: 16))
        }
    }

    func memoValue(_ index: Int) throws -> PickleValue {
        guard let v = memo[index] else { throw error("memo slot \(index) was never stored: the pickle is corrupt") }
        return v
    }

    func setItems(_ dict: PickleDict, _ items: [PickleValue]) throws {
        guard items.count % 2 == 0 else { throw error("odd number of items (\(items.count)) for a dict") }
        for i in stride(from: 0, to: items.count, by: 2) { dict.set(items[i], items[i + 1]) }
    }
}
