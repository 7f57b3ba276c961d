// aigc-store-crash-writer: records usage as fast as it can and prints "committed <id>" after each
// recordUsage returns, until it is killed. CrashDurabilityTests starts it, kills it with SIGKILL
// mid-way, and checks that every id it printed is in the database.
//   AIGCStoreCrashWriter <sqlite file | postgres URL> <writers>
import AIGCStore
import Foundation

/// Writes a line straight to the pipe (no stdio buffer), so the parent sees each commit as it happens.
func report(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let writers = Int(arguments[2]), writers > 0 else {
    FileHandle.standardError.write(Data("usage: AIGCStoreCrashWriter <sqlite file | postgres URL> <concurrent writers>\n".utf8))
    exit(2)
}

do {
    let store = try await StoreLocation.resolve(databaseURL: arguments[1], home: URL(fileURLWithPath: "/")).open()
    report("ready")
    try await withThrowingTaskGroup(of: Void.self) { group in
        for writer in 0..<writers {
            group.addTask {
                for n in 0... {
                    let record = try await store.recordUsage(UsageEvent(
                        keyID: nil, model: "crash-\(writer)", endpoint: "/crash", promptTokens: n, completionTokens: 1,
                        latencyMilliseconds: 1, status: 200))
                    report("committed \(record.id)")
                }
            }
        }
        try await group.waitForAll()
    }
} catch {
    FileHandle.standardError.write(Data("crash writer: \(error)\n".utf8))
    exit(1)
}
