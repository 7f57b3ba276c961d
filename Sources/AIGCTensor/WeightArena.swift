// WeightArena: memory for the weights a model copies at load (the interleaved decode weights), in
// slabs aligned to 2 MiB so that the kernel can back them with transparent huge pages.
//
// Why: decode streams every weight once per token. On 4 KiB pages that is a TLB miss every 4 KiB
// and, because the hardware prefetchers stop at page boundaries, a new prefetch ramp every 4 KiB.
// On 2 MiB pages one core read 30-32 GB/s instead of 26-28, and tg128 rose 1.06-1.11x (one thread)
// and 1.08x (two) in paired runs (BENCHMARKS.md).
//
// How: the slabs are filled on ordinary pages, so loading never waits for memory compaction (asking
// for huge pages at allocation made loads stall for up to 1.3 s on a machine whose memory was
// fragmented). When a model has loaded, `promoteToHugePages()` seals the slab in use and asks the
// kernel, on a background thread, to collapse the filled part of every new slab into huge pages
// (MADV_COLLAPSE, Linux 6.1+). Where the kernel cannot (older kernels, THP disabled, no free huge
// pages) the weights stay on ordinary pages and nothing else changes.
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// One mapping of anonymous memory, 2 MiB aligned, handed out front to back. Unmapped when the last
/// weight carved from it (and the arena, while it is the open slab) lets go of it.
public final class WeightSlab: @unchecked Sendable {
    public static let hugePage = 2 << 20
    let base: UnsafeMutableRawPointer
    let capacity: Int
    private let mapping: UnsafeMutableRawPointer
    private let mappingBytes: Int
    /// Bytes handed out so far (guarded by the arena's lock while the slab is open).
    var used = 0

    init?(capacity: Int) {
        let huge = WeightSlab.hugePage
        let capacity = (capacity + huge - 1) / huge * huge
        // Map one huge page more than needed and start at the first 2 MiB boundary inside.
        let bytes = capacity + huge
        guard let mapping = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              mapping != MAP_FAILED else { return nil }
        self.mapping = mapping
        self.mappingBytes = bytes
        let aligned = (Int(bitPattern: mapping) + huge - 1) / huge * huge
        self.base = UnsafeMutableRawPointer(bitPattern: aligned)!
        self.capacity = capacity
    }

    /// Asks the kernel to back the filled whole huge pages of this slab with huge pages now; the
    /// partly filled last one stays on small pages, so resident memory does not grow.
    func collapse() {
        let length = used / WeightSlab.hugePage * WeightSlab.hugePage
        guard length > 0 else { return }
        _ = madvise(base, length, MADV_HUGEPAGE)
        // MADV_COLLAPSE (25): synchronous collapse; fails harmlessly where unsupported.
        _ = madvise(base, length, 25)
    }

    deinit { munmap(mapping, mappingBytes) }
}

/// Memory carved from a slab: `bytes` stays valid while `slab` is alive.
public struct WeightAllocation: @unchecked Sendable {
    public let bytes: UnsafeMutableRawPointer
    public let slab: WeightSlab
}

public final class WeightArena: Sendable {
    /// The arena every model's copied weights come from.
    public static let shared = WeightArena()
    /// Slabs are at least this large, so that one model's matrices share a few of them.
    static let slabBytes = 32 << 20

    private struct Filled { weak var slab: WeightSlab? }
    private struct State {
        var open: WeightSlab?
        /// Slabs filled since the last promotion, weakly: a model dropped before then frees them.
        var filled: [Filled] = []
    }
    private let state = Mutex(State())
    /// AIGC_HUGE_PAGES=0 keeps every weight on ordinary pages (for comparisons, or a kernel that
    /// misbehaves when asked to collapse).
    static let hugePagesWanted = getenv("AIGC_HUGE_PAGES").map { String(cString: $0) != "0" } ?? true
    private let promotions = DispatchGroup()

    public init() {}

    /// `byteCount` bytes, 64-byte aligned and zero-filled, or nil when the memory cannot be mapped.
    public func allocate(byteCount: Int) -> WeightAllocation? {
        let size = max(64, (byteCount + 63) / 64 * 64)
        return state.withLock { state -> WeightAllocation? in
            if let slab = state.open, slab.capacity - slab.used >= size {
                defer { slab.used += size }
                return WeightAllocation(bytes: slab.base + slab.used, slab: slab)
            }
            guard let slab = WeightSlab(capacity: max(WeightArena.slabBytes, size)) else { return nil }
            if let full = state.open { state.filled.append(Filled(slab: full)) }
            state.open = slab
            slab.used = size
            return WeightAllocation(bytes: slab.base, slab: slab)
        }
    }

    /// Seals the open slab (the next model starts a new one, so slabs are freed with their model)
    /// and collapses every slab filled since the last call into huge pages, on a background thread.
    public func promoteToHugePages() {
        let slabs = state.withLock { state -> [WeightSlab] in
            if let open = state.open { state.filled.append(Filled(slab: open)) }
            state.open = nil
            defer { state.filled = [] }
            return state.filled.compactMap(\.slab)
        }
        guard !slabs.isEmpty, WeightArena.hugePagesWanted else { return }
        DispatchQueue.global(qos: .utility).async(group: promotions) {
            for slab in slabs { slab.collapse() }
        }
    }

    /// Waits until the background collapses have finished (benchmarks measure the steady state).
    public func waitForPromotions() {
        promotions.wait()
    }
}
