// The arena that holds copied decode weights (on huge pages where the kernel has them to spare).
@testable import AIGCTensor
import Testing

@Suite struct WeightArenaTests {
    /// Every 997th byte and the last 64 of `size` bytes (whole-range checks are slow in debug builds).
    static func sampled(_ size: Int) -> [Int] { Array(stride(from: 0, to: size, by: 997)) + Array(max(0, size - 64)..<size) }

    /// Allocations are 64-byte aligned, zero-filled and disjoint, fill a slab front to back, and a
    /// slab's bytes survive the trimming of its unused tail when the arena moves on or is sealed.
    @Test func allocationsAreAlignedZeroedDisjointAndSurviveTrimming() throws {
        let arena = WeightArena()
        var allocations: [(WeightAllocation, Int)] = []
        // Odd sizes, one larger than a slab, enough in all to need several slabs.
        for (i, size) in [1, 100, 3 << 20, 5000, 40 << 20, 7 << 20, 64, 30 << 20].enumerated() {
            let allocation = try #require(arena.allocate(byteCount: size))
            #expect(Int(bitPattern: allocation.bytes) % 64 == 0, "allocation \(i) is not 64-byte aligned")
            let bytes = allocation.bytes.assumingMemoryBound(to: UInt8.self)
            #expect(Self.sampled(size).allSatisfy { bytes[$0] == 0 }, "allocation \(i) is not zero-filled")
            bytes.update(repeating: UInt8(i + 1), count: size)
            allocations.append((allocation, size))
        }
        arena.seal()
        for (i, (allocation, size)) in allocations.enumerated() {
            let bytes = allocation.bytes.assumingMemoryBound(to: UInt8.self)
            #expect(Self.sampled(size).allSatisfy { bytes[$0] == UInt8(i + 1) }, "allocation \(i) was overwritten or trimmed")
        }
        // Same slab: consecutive and in order; a slab is never shared after it moved on.
        let (first, second) = (allocations[0].0, allocations[1].0)
        #expect(first.slab === second.slab && second.bytes - first.bytes == 64)
        #expect(allocations[4].0.slab !== allocations[3].0.slab, "a 40 MiB allocation cannot fit the open 32 MiB slab")
        let after = try #require(arena.allocate(byteCount: 1))
        #expect(allocations.allSatisfy { $0.0.slab !== after.slab }, "a sealed slab took another allocation")
    }

    @Test func freeHugeBlocksAreCountedFromOrderNine() {
        let text = """
        Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3
        Node 0, zone   Normal   8554   6359   3495   4073   1796   1013    602    528    333    132   3499
        """
        // Orders 9 and 10 of 4 KiB pages are 2 and 4 MiB blocks.
        let expected = (1 + 132) * (2 << 20) + (3 + 3499) * (4 << 20)
        #expect(WeightArena.freeHugeBlockBytes(buddyinfo: text, pageSize: 4096) == expected)
        #expect(WeightArena.freeHugeBlockBytes(buddyinfo: "", pageSize: 4096) == 0)
        // Lines that are not zone counts (a truncated file, another format) add nothing.
        #expect(WeightArena.freeHugeBlockBytes(buddyinfo: "Node 0, zone\nNode 0, zone Normal x y z\ngarbage", pageSize: 4096) == 0)
    }
}
