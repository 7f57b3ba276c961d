// A usage record is never lost once recordUsage has returned, even when the process dies by
// SIGKILL: a separate writer process prints each id it committed, is killed mid-stream, and every
// printed id must then be in the database (and a SQLite file must pass its integrity check).
import AIGCTestSupport
import Foundation
import Testing

@testable import AIGCStore

@Suite(.serialized) struct CrashDurabilityTests {
    /// The writer program, built beside the test bundle by `swift build --build-tests`.
    static func writerBinary() throws -> URL {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let beside = executable.deletingLastPathComponent().appendingPathComponent("AIGCStoreCrashWriter")
        let candidates = [beside, Fixtures.packageRoot.appendingPathComponent(".build/debug/AIGCStoreCrashWriter")]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw SetupError(description: "AIGCStoreCrashWriter not found at \(candidates.map(\.path)); run `swift build --build-tests` first")
        }
        return found
    }

    @Test(arguments: Backend.persistent)
    func everyReportedCommitSurvivesSIGKILL(backend: Backend) async throws {
        try await withDatabase(backend) { database in
            // Migrate first, so the child spends its time writing.
            await (try await database.open()).close()

            let child = Process()
            child.executableURL = try Self.writerBinary()
            child.arguments = [database.location, "4"]
            let output = Pipe()
            child.standardOutput = output
            child.standardError = FileHandle.standardError
            try child.run()

            let text = await Self.output(of: child, pipe: output, killAfterCommits: 300)
            #expect(child.terminationReason == .uncaughtSignal && child.terminationStatus == SIGKILL, "killed mid-stream")

            // Only complete lines count: a line cut by the kill was not fully reported.
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            let reported = Set(lines.compactMap { $0.hasPrefix("committed ") ? Int64($0.dropFirst("committed ".count)) : nil })
            #expect(reported.count >= 300)

            let store = try await database.open()
            let stored = Set(try await rawRows(store, table: "usage_records").compactMap(Self.id))
            let missing = reported.subtracting(stored)
            #expect(missing.isEmpty, "\(missing.count) of \(reported.count) reported commits are missing, e.g. \(missing.sorted().prefix(5))")
            #expect(stored.count >= reported.count)
            if let sqlite = store as? SQLiteStore {
                #expect(try await sqlite.writer.read { try GRDBRowText.value($0, "PRAGMA integrity_check") } == "ok")
            }
            await store.close()
        }
    }

    /// Reads the child's output until it ends, sending SIGKILL once `limit` commits were reported.
    /// The blocking reads run on a thread of their own: they must not hold one of the few threads
    /// of the cooperative pool, which other tests' store tasks (holding database locks) need.
    static func output(of child: Process, pipe: Pipe, killAfterCommits limit: Int) async -> String {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var text = "", killed = false
                while true {
                    let chunk = pipe.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    text += String(decoding: chunk, as: UTF8.self)
                    if !killed, text.components(separatedBy: "committed ").count > limit {
                        kill(child.processIdentifier, SIGKILL)
                        killed = true
                    }
                }
                if !killed { kill(child.processIdentifier, SIGKILL) }
                child.waitUntilExit()
                continuation.resume(returning: text)
            }
        }
    }

    /// The id in a raw row: SQLite's `[id:12 ...]` or PostgreSQL's `{"id":12,...}`.
    static func id(_ row: String) -> Int64? {
        guard let range = row.range(of: #"("id":|\[id:)\d+"#, options: .regularExpression) else { return nil }
        return Int64(row[range].drop { !$0.isNumber })
    }
}
