// KVCache: keys and values of past positions, per layer and per sequence, so each new token attends
// to the past without recomputing it. Several sequences share one cache (batched decoding, beams).
// Rows are half floats by default, as in llama.cpp's default cache: a decode step reads every cached
// row of every layer cold (the weights streamed since the last token evicted them), so half the
// bytes is the cheaper step, and the longer the context the more it saves (2000-token generations
// of SmolLM2 ran 1.17-1.2x faster, BENCHMARKS.md). Prefill attention widens the rows it reads to
// floats. Float rows remain for comparisons with float references (`--kv-cache f32`).
import AIGCKernels
import CKernels

/// The element type of cached keys and values.
public enum KVCachePrecision: String, Sendable, CaseIterable {
    case f16, f32

    var bytes: Int { self == .f16 ? 2 : 4 }
}

public final class KVCache: @unchecked Sendable {
    public let layers: Int
    public let kvDim: Int
    public let contextLength: Int
    public let precision: KVCachePrecision
    /// Positions held per sequence slot.
    public private(set) var lengths: [Int]
    private var capacities: [Int]
    private var keys: [UnsafeMutableRawPointer?]
    private var values: [UnsafeMutableRawPointer?]
    static let growth = 256

    /// A cache for `sequences` slots of up to `contextLength` positions, grown on demand.
    public init(layers: Int, kvDim: Int, contextLength: Int, sequences: Int, precision: KVCachePrecision = .f16) {
        self.layers = layers
        self.kvDim = kvDim
        self.contextLength = contextLength
        self.precision = precision
        lengths = Array(repeating: 0, count: sequences)
        capacities = Array(repeating: 0, count: sequences)
        keys = Array(repeating: nil, count: sequences)
        values = Array(repeating: nil, count: sequences)
    }

    deinit {
        for p in keys { p?.deallocate() }
        for p in values { p?.deallocate() }
    }

    public var sequences: Int { lengths.count }

    /// Bytes held now (for memory reports).
    public var allocatedBytes: Int { capacities.reduce(0, +) * layers * rowBytes * 2 }

    /// Bytes of one position's keys (or values) in one layer.
    public var rowBytes: Int { kvDim * precision.bytes }

    /// Adds slots so that at least `count` sequences fit.
    public func ensureSequences(_ count: Int) {
        while lengths.count < count {
            lengths.append(0)
            capacities.append(0)
            keys.append(nil)
            values.append(nil)
        }
    }

    /// Makes room for positions 0..<positions in `sequence`.
    public func reserve(sequence: Int, positions: Int) {
        precondition(positions <= contextLength, "position \(positions) beyond the context of \(contextLength)")
        let old = capacities[sequence]
        if positions <= old { return }
        let wanted = max(positions, old * 2)
        let newCapacity = min(contextLength, (wanted + KVCache.growth - 1) / KVCache.growth * KVCache.growth)
        for which in 0..<2 {
            let fresh = UnsafeMutableRawPointer.allocate(byteCount: layers * newCapacity * rowBytes, alignment: 64)
            if let previous = which == 0 ? keys[sequence] : values[sequence] {
                for l in 0..<layers {
                    (fresh + l * newCapacity * rowBytes).copyMemory(from: previous + l * old * rowBytes, byteCount: old * rowBytes)
                }
                previous.deallocate()
            }
            if which == 0 { keys[sequence] = fresh } else { values[sequence] = fresh }
        }
        capacities[sequence] = newCapacity
    }

    /// The cached key row of one position (`rowBytes` bytes of `precision` elements).
    @inline(__always) public func key(layer: Int, sequence: Int, position: Int) -> UnsafeMutableRawPointer {
        keys[sequence]! + (layer * capacities[sequence] + position) * rowBytes
    }

    @inline(__always) public func value(layer: Int, sequence: Int, position: Int) -> UnsafeMutableRawPointer {
        values[sequence]! + (layer * capacities[sequence] + position) * rowBytes
    }

    /// Writes the key and value rows (kvDim floats each) of one position.
    public func store(layer: Int, sequence: Int, position: Int, key k: ConstFloatPointer, value v: ConstFloatPointer) {
        let kd = key(layer: layer, sequence: sequence, position: position), vd = value(layer: layer, sequence: sequence, position: position)
        switch precision {
        case .f16:
            aigc_store_half_saturated(k, kd.assumingMemoryBound(to: UInt16.self), Int64(kvDim))
            aigc_store_half_saturated(v, vd.assumingMemoryBound(to: UInt16.self), Int64(kvDim))
        case .f32:
            kd.copyMemory(from: k, byteCount: rowBytes)
            vd.copyMemory(from: v, byteCount: rowBytes)
        }
    }

    /// Positions 0..<count of one layer's keys and values as floats, [count, kvDim] each: the cache's
    /// own rows when they are floats, else widened into `workspace` (valid until its next call).
    public func floatRows(layer: Int, sequence: Int, count: Int, workspace: Workspace) -> (keys: ConstFloatPointer, values: ConstFloatPointer) {
        let k0 = key(layer: layer, sequence: sequence, position: 0), v0 = value(layer: layer, sequence: sequence, position: 0)
        if precision == .f32 { return (UnsafePointer(k0.assumingMemoryBound(to: Float.self)), UnsafePointer(v0.assumingMemoryBound(to: Float.self))) }
        let k = workspace.floats("kvcache.keys", count * kvDim), v = workspace.floats("kvcache.values", count * kvDim)
        aigc_f16_to_f32_row(k0.assumingMemoryBound(to: UInt16.self), k, Int64(count * kvDim))
        aigc_f16_to_f32_row(v0.assumingMemoryBound(to: UInt16.self), v, Int64(count * kvDim))
        return (UnsafePointer(k), UnsafePointer(v))
    }

    /// Starts loading the keys and values of positions 0..<positions of one layer into this core's
    /// caches. A decode step calls it before the layer's q/k/v projections: by the time attention
    /// reads them they have arrived, where reading them cold cost as much as the projections
    /// (the weights streamed through the caches since the last token evict the whole cache).
    public func prefetch(layer: Int, sequence: Int, positions: Int) {
        guard positions > 0, positions <= capacities[sequence] else { return }
        let bytes = positions * rowBytes
        prefetchMemory(key(layer: layer, sequence: sequence, position: 0), bytes: bytes)
        prefetchMemory(value(layer: layer, sequence: sequence, position: 0), bytes: bytes)
    }

    /// Records that `sequence` now holds positions 0..<length.
    public func setLength(_ length: Int, sequence: Int) {
        precondition(length <= capacities[sequence] || length == 0)
        lengths[sequence] = length
    }

    /// Forgets positions from `length` on (a rewind, or a whole reset with 0).
    public func truncate(sequence: Int, to length: Int) {
        lengths[sequence] = min(lengths[sequence], length)
    }

    /// Copies the first `count` positions of `source` into `destination` (beam search forks).
    public func copy(from source: Int, to destination: Int, count: Int? = nil) {
        if source == destination { return }
        let n = count ?? lengths[source]
        reserve(sequence: destination, positions: max(n, 1))
        for l in 0..<layers where n > 0 {
            key(layer: l, sequence: destination, position: 0).copyMemory(from: key(layer: l, sequence: source, position: 0), byteCount: n * rowBytes)
            value(layer: l, sequence: destination, position: 0).copyMemory(from: value(layer: l, sequence: source, position: 0), byteCount: n * rowBytes)
        }
        lengths[destination] = n
    }
}
