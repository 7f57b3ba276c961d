// What the allow-listed globals do when REDUCE, NEWOBJ or BUILD apply them, and torch's persistent
// ids. Spec: torch/_utils.py (`_rebuild_tensor_v2(storage, storage_offset, size, stride,
// requires_grad, backward_hooks, metadata=None)`, `_rebuild_parameter(data, requires_grad,
// backward_hooks)`) and torch/serialization.py (`persistent_id`: ('storage', storage_type, key,
// location, numel)). Every argument is checked for type and range; a wrong one is a corrupt file.

extension PickleMachine {
    /// REDUCE: `callable(*args)` for the allow-listed callables.
    func call(_ callable: PickleValue, _ args: PickleValue) throws -> PickleValue {
        guard case let .global(g) = callable else { throw error("REDUCE needs a global to call, found \(callable.kind)") }
        guard case let .tuple(t) = args else { throw error("REDUCE needs an argument tuple, found \(args.kind)") }
        let a = t.items
        switch g {
        case .orderedDict:
            let d = newDict()
            if let first = a.first {
                guard a.count == 1, case let .list(pairs) = first else { throw error("OrderedDict() takes one list of pairs") }
                for pair in pairs.items {
                    guard case let .tuple(p) = pair, p.items.count == 2 else { throw error("OrderedDict() items must be (key, value) pairs") }
                    d.set(p.items[0], p.items[1])
                }
            }
            return .dict(d)
        case .rebuildTensorV2, .rebuildTensor:
            let expected = g == .rebuildTensor ? 4...4 : 6...7
            guard expected.contains(a.count) else { throw error("\(g.qualifiedName) takes \(expected) arguments, got \(a.count)") }
            return .tensor(try rebuildTensor(a))
        case .rebuildParameter:
            guard (2...3).contains(a.count), case .tensor = a[0] else { throw error("_rebuild_parameter needs (tensor, requires_grad, hooks)") }
            return a[0]
        case .size:
            guard a.count == 1, case let .tuple(dims) = a[0], dims.items.allSatisfy({ if case .int = $0 { true } else { false } }) else {
                throw error("torch.Size takes one tuple of integers")
            }
            return a[0]
        case .set, .frozenset:
            let l = newList()
            if let first = a.first {
                switch first {
                case let .list(items): l.items = items.items
                case let .tuple(items): l.items = items.items
                default: throw error("\(g.qualifiedName)() takes a list or tuple, found \(first.kind)")
                }
            }
            return .list(l)
        case .storageType, .dtype:
            throw error("\(g.qualifiedName) may name a storage type but is not called in a state dict")
        }
    }

    /// NEWOBJ: `cls.__new__(cls, *args)`; only containers can be created this way.
    func construct(_ cls: PickleValue, _ args: PickleValue) throws -> PickleValue {
        guard case let .global(g) = cls else { throw error("NEWOBJ needs a class, found \(cls.kind)") }
        switch g {
        case .orderedDict: return .dict(newDict())
        case .set, .frozenset: return .list(newList())
        default: throw error("NEWOBJ of \(g.qualifiedName) is not supported")
        }
    }

    /// BUILD: `obj.__setstate__(state)`. State dicts carry a `_metadata` attribute (module versions)
    /// and parameters may carry Python attributes; neither affects the tensors, so both are dropped.
    func build(_ object: PickleValue, _ state: PickleValue) throws {
        switch object {
        case .dict, .tensor: return
        default: throw error("BUILD (set state) on \(object.kind) is not supported")
        }
    }

    /// BINPERSID: torch's `('storage', torch.FloatStorage, '0', 'cpu', 12)`.
    func persistentLoad(_ pid: PickleValue) throws -> PickleValue {
        guard case let .tuple(t) = pid, t.items.count == 5, case .string("storage") = t.items[0] else {
            throw error("persistent id must be ('storage', type, key, location, numel), found \(pid.kind)")
        }
        let p = t.items
        let type: PickleStorageType
        switch p[1] {
        case let .global(.storageType(s)): type = s
        case let .global(.dtype(s)): type = s
        default: throw error("persistent id names no storage type (found \(p[1].kind))")
        }
        let key: String
        switch p[2] {
        case let .string(s): key = s
        case let .int(n): key = String(n)
        default: throw error("storage key must be a string, found \(p[2].kind)")
        }
        guard case let .string(location) = p[3] else { throw error("storage location must be a string, found \(p[3].kind)") }
        guard case let .int(numel) = p[4], numel >= 0 else { throw error("storage element count must be a non-negative integer") }
        return .storage(PickleStorage(type: type, key: key, location: location, elementCount: numel))
    }

    /// Checks storage, offset, size and stride, and that the view stays inside the storage.
    func rebuildTensor(_ a: [PickleValue]) throws -> PickleTensor {
        guard case let .storage(storage) = a[0] else { throw error("tensor storage must come from a persistent id, found \(a[0].kind)") }
        guard case let .int(offset) = a[1], offset >= 0 else { throw error("tensor storage offset must be a non-negative integer") }
        let size = try integers(a[2], "size"), stride = try integers(a[3], "stride")
        guard size.count == stride.count else { throw error("tensor size \(size) and stride \(stride) differ in rank") }
        guard size.count <= 16 else { throw error("tensor of rank \(size.count): at most 16 dimensions are supported") }
        // The last element touched is offset + sum((size_i - 1) * stride_i); it must be inside the storage.
        var last = offset, count = 1
        for (n, s) in zip(size, stride) {
            let (c, overflowCount) = count.multipliedReportingOverflow(by: n)
            guard !overflowCount, c <= Int(Int32.max) * 8 else { throw error("tensor size \(size) has too many elements") }
            count = c
            if n > 0 {
                let (step, o1) = (n - 1).multipliedReportingOverflow(by: s)
                let (sum, o2) = last.addingReportingOverflow(step)
                guard !o1, !o2 else { throw error("tensor stride \(stride) overflows") }
                last = sum
            }
        }
        guard count == 0 || last < storage.elementCount else {
            throw error("tensor view (offset \(offset), size \(size), stride \(stride)) reaches element \(last) of a storage of \(storage.elementCount)")
        }
        return PickleTensor(storage: storage, offset: offset, size: size, stride: stride)
    }

    func integers(_ value: PickleValue, _ what: String) throws -> [Int] {
        guard case let .tuple(t) = value else { throw error("tensor \(what) must be a tuple, found \(value.kind)") }
        return try t.items.map {
            guard case let .int(n) = $0, n >= 0 else { throw error("tensor \(what) must hold non-negative integers") }
            return n
        }
    }
}
