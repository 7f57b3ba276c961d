// ComputePool: Swift face of the C worker pool (CKernels/pool.c) — parallel loops over task indices.
import CKernels
import COpenBLAS

/// A persistent pool of worker threads. `parallelFor` splits work into tasks that the caller and the
/// workers claim one at a time, so a busy core delays only the task it holds.
public final class ComputePool: @unchecked Sendable {
    private let pool: OpaquePointer?
    /// Threads taking part in a parallel loop, the caller included.
    public let threads: Int

    public init(threads: Int) {
        let count = max(1, threads)
        pool = count > 1 ? aigc_pool_create(Int32(count)) : nil
        self.threads = pool.map { Int(aigc_pool_threads($0)) } ?? 1
    }

    deinit {
        if let pool { aigc_pool_destroy(pool) }
    }

    /// Runs `body(task, thread)` for every task in `0..<tasks` and returns when all have finished.
    /// `thread` is in `0..<threads` and identifies the running thread (for per-thread scratch).
    public func parallelFor(_ tasks: Int, _ body: @escaping (_ task: Int, _ thread: Int) -> Void) {
        if tasks <= 0 { return }
        if pool == nil || tasks == 1 {
            for task in 0..<tasks { body(task, 0) }
            return
        }
        // The box is retained here until every task has returned; workers use it unretained.
        let box = TaskBox(body)
        withExtendedLifetime(box) {
            aigc_pool_run(pool, Int64(tasks), { context, task, thread in
                Unmanaged<TaskBox>.fromOpaque(context!).takeUnretainedValue().body(Int(task), Int(thread))
            }, Unmanaged.passUnretained(box).toOpaque())
        }
    }

    /// How many times this pool has run jobs on the calling thread alone because its workers kept
    /// the caller waiting (preempted by another process while holding a task); see CKernels/pool.c.
    public var soloPeriods: Int { pool.map { Int(aigc_pool_solo_periods($0)) } ?? 0 }

    /// Splits `count` items into contiguous ranges (about `perThread` per thread, at least `minimum`
    /// items each) and runs `body(range, thread)` on each in parallel.
    public func parallelRanges(_ count: Int, minimum: Int = 1, perThread: Int = 4,
                               _ body: @escaping (_ range: Range<Int>, _ thread: Int) -> Void) {
        if count <= 0 { return }
        let maxTasks = max(1, count / max(1, minimum))
        let tasks = min(maxTasks, threads == 1 ? 1 : threads * perThread)
        let chunk = (count + tasks - 1) / tasks
        parallelFor((count + chunk - 1) / chunk) { task, thread in
            let start = task * chunk
            body(start..<min(count, start + chunk), thread)
        }
    }

    /// The pool shared by models that are not given one; its size follows `configureShared`.
    nonisolated(unsafe) public private(set) static var shared = ComputePool(threads: ComputePool.defaultThreads)

    /// Replaces the shared pool (call before starting work, e.g. from `--threads`).
    public static func configureShared(threads: Int) {
        if threads != shared.threads { shared = ComputePool(threads: threads) }
    }

    /// The number of CPUs this process may run on.
    public static var defaultThreads: Int { max(1, Int(aigc_available_cpus())) }
}

private final class TaskBox {
    let body: (Int, Int) -> Void
    init(_ body: @escaping (Int, Int) -> Void) { self.body = body }
}

/// Makes OpenBLAS run on the calling thread only: aigc parallelises around BLAS calls itself.
public func configureBLASSingleThreaded() {
    openblas_set_num_threads(1)
}

/// Sets the threads OpenBLAS uses inside one call (benchmarks compare a BLAS-threaded sgemm with
/// aigc's own split; everything else runs BLAS single-threaded).
public func configureBLASThreads(_ threads: Int) {
    openblas_set_num_threads(Int32(max(1, threads)))
}
