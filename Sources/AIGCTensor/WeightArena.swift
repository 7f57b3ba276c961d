// WeightArena: memory for the weights a model copies at load (the interleaved decode weights), in
// slabs aligned to 2 MiB so that the kernel can back them with transparent huge pages.
//
// Why: decode streams every weight once per token. On 4 KiB pages that is a TLB miss every 4 KiB
// and, because the hardware prefetchers stop at page boundaries, a new prefetch ramp every 4 KiB.
// On 2 MiB pages one core read 30-32 GB/s instead of 26-28, and tg128 rose 1.10-1.11x (one thread)
// and 1.07-1.22x (two) in paired runs (BENCHMARKS.md).
//
// How: a new slab asks for huge pages (MADV_HUGEPAGE) before it is written, so the page faults of
// the copy at load take whole huge pages, and fewer faults make loading no slower. It asks only when
// the kernel has free 2 MiB blocks to spare (/proc/buddyinfo): with huge pages requested, a fault on
// a machine whose memory is fragmented compacts memory first, and loads were seen stalling for up to
// 1.3 s that way. Collapsing ordinary pages later (MADV_COLLAPSE) was tried instead: it blocked the
// first tokens of a generation while their pages were being copied. When a slab stops taking
// weights, the unused part of its last huge page is given back, so resident memory does not grow.
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// One mapping of anonymous memory, 2 MiB aligned, handed out front to back. Unmapped when the last
/// weight carved from it (and the arena, while it is the open slab) lets go of it.
public final class WeightSlab: @unchecked Sendable {
    static let hugePage = 2 << 20
    let base: UnsafeMutableRawPointer
    let capacity: Int
    /// Whether the kernel was asked to back this slab with huge pages.
    let wantsHugePages: Bool
    private let mapping: UnsafeMutableRawPointer
    private let mappingBytes: Int
    /// Bytes handed out so far (guarded by the arena's lock while the slab is open).
    var used = 0

    init?(capacity: Int, hugePages: Bool) {
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
        self.wantsHugePages = hugePages && madvise(base, capacity, MADV_HUGEPAGE) == 0
    }

    /// Gives back the pages of the last, partly used huge page past `used` (the kernel splits it).
    func trim() {
        guard wantsHugePages else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE))), huge = WeightSlab.hugePage
        let from = (used + page - 1) / page * page, to = min(capacity, (used + huge - 1) / huge * huge)
        if to > from { _ = madvise(base + from, to - from, MADV_DONTNEED) }
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
    /// AIGC_HUGE_PAGES=0 keeps every weight on ordinary pages (for comparisons, or a kernel that
    /// misbehaves with transparent huge pages).
    static let hugePagesWanted = ProcessInfo.processInfo.environment["AIGC_HUGE_PAGES"] != "0"

    private let state = Mutex<WeightSlab?>(nil)

    public init() {}

    /// `byteCount` bytes, 64-byte aligned and zero-filled, or nil when the memory cannot be mapped.
    public func allocate(byteCount: Int) -> WeightAllocation? {
        let size = max(64, (byteCount + 63) / 64 * 64)
        return state.withLock { open -> WeightAllocation? in
            if let slab = open, slab.capacity - slab.used >= size {
                defer { slab.used += size }
                return WeightAllocation(bytes: slab.base + slab.used, slab: slab)
            }
            let capacity = max(WeightArena.slabBytes, size)
            let hugePages = WeightArena.hugePagesWanted && WeightArena.freeHugeBlockBytes() >= 2 * capacity
            guard let slab = WeightSlab(capacity: capacity, hugePages: hugePages) else { return nil }
            open?.trim()
            open = slab
            slab.used = size
            return WeightAllocation(bytes: slab.base, slab: slab)
        }
    }

    /// Ends the open slab: the next allocation (the next model) starts a new one, so that slabs are
    /// freed with the model whose weights they hold.
    public func seal() {
        state.withLock { open in
            open?.trim()
            open = nil
        }
    }

    /// Bytes the kernel holds free in blocks of 2 MiB or more; 0 when /proc/buddyinfo cannot be read.
    static func freeHugeBlockBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/buddyinfo", encoding: .utf8) else { return 0 }
        return freeHugeBlockBytes(buddyinfo: text, pageSize: Int(sysconf(Int32(_SC_PAGESIZE))))
    }

    /// The same from the text of /proc/buddyinfo, whose lines ("Node 0, zone   Normal   8554 ...")
    /// count each zone's free blocks of 2^order pages, order 0 first.
    static func freeHugeBlockBytes(buddyinfo: String, pageSize: Int) -> Int {
        let hugeOrder = (WeightSlab.hugePage / pageSize).trailingZeroBitCount
        var bytes = 0
        for line in buddyinfo.split(separator: "\n") {
            let counts = line.split(separator: " ").dropFirst(4).compactMap { Int($0) }
            for (order, count) in counts.enumerated() where order >= hugeOrder { bytes += count * (pageSize << order) }
        }
        return bytes
    }
}
