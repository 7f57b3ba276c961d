// Workspace: reusable scratch memory for one model's forward passes (no allocation per token).
import AIGCKernels

/// Named, growable float and byte buffers, plus one scratch area per pool thread. Not thread-safe
/// across forward passes: a model runs one forward at a time.
public final class Workspace: @unchecked Sendable {
    private var buffers: [String: (pointer: UnsafeMutableRawPointer, bytes: Int)] = [:]
    private var threadScratch: [(pointer: UnsafeMutableRawPointer, bytes: Int)] = []

    public init() {}

    deinit {
        for (_, b) in buffers { b.pointer.deallocate() }
        for b in threadScratch { b.pointer.deallocate() }
    }

    /// A buffer of at least `bytes` bytes, kept under `name` for reuse (contents are not preserved
    /// when it grows).
    public func bytes(_ name: String, _ bytes: Int) -> UnsafeMutableRawPointer {
        if let b = buffers[name], b.bytes >= bytes { return b.pointer }
        buffers[name]?.pointer.deallocate()
        let capacity = max(bytes, 64)
        let p = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
        buffers[name] = (p, capacity)
        return p
    }

    public func floats(_ name: String, _ count: Int) -> FloatPointer {
        bytes(name, count * 4).assumingMemoryBound(to: Float.self)
    }

    /// Makes sure every thread of `threads` has `bytes` of private scratch (call before a parallel loop).
    public func reserveThreadScratch(threads: Int, bytes: Int) {
        while threadScratch.count < threads { threadScratch.append((UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64), 64)) }
        for t in 0..<threads where threadScratch[t].bytes < bytes {
            threadScratch[t].pointer.deallocate()
            threadScratch[t] = (UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64), bytes)
        }
    }

    /// The scratch of pool thread `thread` (reserved with `reserveThreadScratch`).
    public func scratch(thread: Int) -> UnsafeMutableRawPointer { threadScratch[thread].pointer }
}
