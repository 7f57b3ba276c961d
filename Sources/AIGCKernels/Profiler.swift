// Profiler: opt-in wall-clock totals per stage of a forward pass (AIGC_PROFILE=1), for finding where
// decode and prefill time goes on machines where perf and valgrind cannot sample (VMs).
import Foundation

public enum Profiler {
    nonisolated(unsafe) public static var enabled = ProcessInfo.processInfo.environment["AIGC_PROFILE"] != nil
    nonisolated(unsafe) private static var totals: [String: (nanoseconds: UInt64, calls: Int)] = [:]
    nonisolated(unsafe) private static var order: [String] = []

    /// Runs `body`, adding its duration to `label` when profiling is on. Call from one thread only.
    @inline(__always)
    public static func measure<T>(_ label: String, _ body: () throws -> T) rethrows -> T {
        guard enabled else { return try body() }
        let start = DispatchTime.now().uptimeNanoseconds
        defer { add(label, DispatchTime.now().uptimeNanoseconds - start) }
        return try body()
    }

    static func add(_ label: String, _ nanoseconds: UInt64) {
        if totals[label] == nil { order.append(label) }
        totals[label, default: (0, 0)].nanoseconds += nanoseconds
        totals[label, default: (0, 0)].calls += 1
    }

    public static func reset() {
        totals = [:]
        order = []
    }

    /// One line per stage: total milliseconds, share of the profiled time, calls.
    public static func report() -> String {
        let sum = max(1, totals.values.reduce(0) { $0 + $1.nanoseconds })
        return order.map { label in
            let t = totals[label]!
            return label.padding(toLength: 14, withPad: " ", startingAt: 0)
                + String(format: "%9.2f ms %5.1f%% %7d calls", Double(t.nanoseconds) / 1e6, 100 * Double(t.nanoseconds) / Double(sum), t.calls)
        }.joined(separator: "\n")
    }
}
