// The shared store suite, the job queue: oldest first, kinds, completion rules, and concurrent
// claimers on one store each getting a different job.
import AIGCStore
import Foundation
import Testing

@Suite struct JobQueueTests {
    @Test(arguments: Backend.underTest)
    func enqueueClaimComplete(backend: Backend) async throws {
        try await withStore(backend) { store in
            #expect(try await store.claimJob(worker: "w", kind: nil) == nil, "nothing queued")
            let first = try await store.enqueueJob(kind: "image", payload: #"{"prompt":"a cat"}"#)
            let second = try await store.enqueueJob(kind: "image", payload: #"{"prompt":"a dog"}"#)
            let other = try await store.enqueueJob(kind: "upscale", payload: "{}")
            #expect(first.state == .queued && first.worker == nil && first.claimedAt == nil)

            let claimed = try #require(try await store.claimJob(worker: "host:1", kind: "image"))
            #expect(claimed.id == first.id && claimed.state == .running && claimed.worker == "host:1" && claimed.claimedAt != nil)
            #expect(try await store.claimJob(worker: "host:2", kind: "upscale")?.id == other.id)
            #expect(try await store.claimJob(worker: "host:2", kind: nil)?.id == second.id)
            #expect(try await store.claimJob(worker: "host:2", kind: nil) == nil)

            let done = try await store.completeJob(id: first.id, outcome: .succeeded(result: #"{"file":"out.png"}"#))
            #expect(done.state == .succeeded && done.result == #"{"file":"out.png"}"# && done.finishedAt != nil && done.error == nil)
            let failed = try await store.completeJob(id: second.id, outcome: .failed(error: "out of memory"))
            #expect(failed.state == .failed && failed.error == "out of memory")
            #expect(try await store.job(id: first.id) == done)

            await #expect(throws: StoreError.jobNotRunning(id: first.id, state: "succeeded")) {
                _ = try await store.completeJob(id: first.id, outcome: .failed(error: "again"))
            }
            let queued = try await store.enqueueJob(kind: "image", payload: "{}")
            await #expect(throws: StoreError.jobNotRunning(id: queued.id, state: "queued")) {
                _ = try await store.completeJob(id: queued.id, outcome: .succeeded(result: "{}"))
            }
            await #expect(throws: StoreError.notFound(what: "job", identifier: "9999")) { _ = try await store.job(id: 9999) }
            await #expect(throws: StoreError.self) { _ = try await store.enqueueJob(kind: "image", payload: "not json") }
        }
    }

    @Test(arguments: Backend.underTest)
    func concurrentClaimersNeverShareAJob(backend: Backend) async throws {
        try await withStore(backend) { store in
            var queued = Set<Int64>()
            for i in 0..<30 { queued.insert(try await store.enqueueJob(kind: "image", payload: #"{"n":\#(i)}"#).id) }
            let claims = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for worker in 0..<6 {
                    group.addTask {
                        var mine: [Int64] = []
                        while let job = try await store.claimJob(worker: "w\(worker)", kind: nil) { mine.append(job.id) }
                        return mine
                    }
                }
                return try await group.reduce(into: [Int64]()) { $0 += $1 }
            }
            #expect(claims.count == 30 && Set(claims) == queued, "each job claimed exactly once")
        }
    }
}
