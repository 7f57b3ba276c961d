// KVCache: keys and values of past positions, per layer and per sequence, so each new token attends
// to the past without recomputing it. Several sequences share one cache (batched decoding, beams).
import AIGCKernels

public final class KVCache: @unchecked Sendable {
    public let layers: Int
    public let kvDim: Int
    public let contextLength: Int
    /// Positions held per sequence slot.
    public private(set) var lengths: [Int]
    private var capacities: [Int]
    private var keys: [FloatPointer?]
    private var values: [FloatPointer?]
    static let growth = 256

    /// A cache for `sequences` slots of up to `contextLength` positions, grown on demand.
    public init(layers: Int, kvDim: Int, contextLength: Int, sequences: Int) {
        self.layers = layers
        self.kvDim = kvDim
        self.contextLength = contextLength
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
    public var allocatedBytes: Int { capacities.reduce(0, +) * layers * kvDim * 4 * 2 }

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
            let fresh = FloatPointer.allocate(capacity: layers * newCapacity * kvDim)
            if let previous = which == 0 ? keys[sequence] : values[sequence] {
                for l in 0..<layers {
                    (fresh + l * newCapacity * kvDim).update(from: previous + l * old * kvDim, count: old * kvDim)
                }
                previous.deallocate()
            }
            if which == 0 { keys[sequence] = fresh } else { values[sequence] = fresh }
        }
        capacities[sequence] = newCapacity
    }

    @inline(__always) public func key(layer: Int, sequence: Int, position: Int) -> FloatPointer {
        keys[sequence]! + (layer * capacities[sequence] + position) * kvDim
    }

    @inline(__always) public func value(layer: Int, sequence: Int, position: Int) -> FloatPointer {
        values[sequence]! + (layer * capacities[sequence] + position) * kvDim
    }

    /// Starts loading the keys and values of positions 0..<positions of one layer into this core's
    /// caches. A decode step calls it before the layer's q/k/v projections: by the time attention
    /// reads them they have arrived, where reading them cold cost as much as the projections
    /// (the weights streamed through the caches since the last token evict the whole cache).
    public func prefetch(layer: Int, sequence: Int, positions: Int) {
        guard positions > 0, positions <= capacities[sequence] else { return }
        prefetchMemory(key(layer: layer, sequence: sequence, position: 0), bytes: positions * kvDim * 4)
        prefetchMemory(value(layer: layer, sequence: sequence, position: 0), bytes: positions * kvDim * 4)
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
            key(layer: l, sequence: destination, position: 0).update(from: key(layer: l, sequence: source, position: 0), count: n * kvDim)
            value(layer: l, sequence: destination, position: 0).update(from: value(layer: l, sequence: source, position: 0), count: n * kvDim)
        }
        lengths[destination] = n
    }
}
