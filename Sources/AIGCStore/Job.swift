// The job queue: work items (image generations, later) that any server replica may pick up. A job
// goes queued -> running (claimed by one worker) -> succeeded or failed.
import Foundation

/// Where a job is in its life.
public enum JobState: String, Codable, Sendable, CaseIterable {
    case queued, running, succeeded, failed
}

/// How a claimed job ended.
public enum JobOutcome: Sendable, Equatable {
    /// Finished; `result` is JSON text (e.g. the output file and its AIGC label).
    case succeeded(result: String)
    /// Gave up; `error` says why.
    case failed(error: String)
}

/// A stored job.
public struct Job: Codable, Sendable, Equatable, Identifiable {
    /// Increases with every job: claims take the lowest queued id first.
    public var id: Int64
    /// What to do, e.g. "image"; workers may claim only the kinds they handle.
    public var kind: String
    /// The request as a JSON object.
    public var payload: String
    /// Where the job is in its life.
    public var state: JobState
    /// The worker that claimed the job (e.g. "host:pid"), once claimed.
    public var worker: String?
    /// JSON text a succeeded job left.
    public var result: String?
    /// Why a failed job failed.
    public var error: String?
    /// When it was queued.
    public var createdAt: Date
    /// When a worker claimed it.
    public var claimedAt: Date?
    /// When it succeeded or failed.
    public var finishedAt: Date?

    /// Creates a job value (backends build these from rows).
    public init(id: Int64, kind: String, payload: String, state: JobState, worker: String?, result: String?,
                error: String?, createdAt: Date, claimedAt: Date?, finishedAt: Date?) {
        self.id = id
        self.kind = kind
        self.payload = payload
        self.state = state
        self.worker = worker
        self.result = result
        self.error = error
        self.createdAt = createdAt
        self.claimedAt = claimedAt
        self.finishedAt = finishedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, payload, state, worker, result, error
        case createdAt = "created_at", claimedAt = "claimed_at", finishedAt = "finished_at"
    }
}

/// Checks `enqueueJob`'s arguments.
func validateJob(kind: String, payload: String) throws(StoreError) {
    guard !kind.isEmpty, kind.count <= 64 else { throw .invalidInput(field: "job kind", reason: "must be 1 to 64 characters") }
    try requireJSONObject(payload, field: "job payload")
}
