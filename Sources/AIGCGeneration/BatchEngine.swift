// BatchEngine: continuous batching for a served model. Requests join and leave one shared decode
// batch at token boundaries: each step runs one token of every decoding sequence plus a bounded
// chunk of waiting prompts, so one read of the weights serves every sequence (as vLLM and llama.cpp's
// server do). The engine owns a thread: forward passes never block Swift's cooperative threads.
import AIGCLayers
import AIGCModels
import AIGCSampling
import Foundation
import Synchronization

public final class BatchEngine: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// Sequences decoded together (and KV-cache slots).
        public var maxSequences = 8
        /// Requests that may wait for a slot before `submit` refuses more.
        public var maxQueued = 32
        /// Prompt tokens evaluated per step, so a long prompt delays running sequences only a little.
        public var prefillChunk = 256
        /// Seconds a request may run before it is ended (nil: no limit).
        public var requestTimeout: Double?
        public init() {}
    }

    public enum Event: Sendable {
        /// Text that became final, with the log-probability of the token that completed it.
        case token(String, TokenLogprob?)
        case done(GenerationResult)
    }

    public enum EngineError: Error, CustomStringConvertible, Sendable, Equatable {
        case queueFull(retryAfterSeconds: Int)
        case shuttingDown
        case timedOut(seconds: Double)

        public var description: String {
            switch self {
            case let .queueFull(s): return "the server is busy (queue full); retry in about \(s) s"
            case .shuttingDown: return "the server is shutting down"
            case let .timedOut(s): return "the request ran longer than the \(Int(s)) s limit"
            }
        }
    }

    public let loaded: LoadedModel
    public let configuration: Configuration
    let cache: KVCache
    private let condition = NSCondition()
    private var pending: [Sequence] = []
    private var active: [Sequence] = []
    private var jobs: [() -> Void] = []
    private var freeSlots: [Int]
    private var stopping = false
    private var stopped: [CheckedContinuation<Void, Never>] = []
    private var nextID = 0
    private let counters = Counters()

    public init(_ loaded: LoadedModel, configuration: Configuration = Configuration()) {
        self.loaded = loaded
        self.configuration = configuration
        cache = loaded.model.makeCache(sequences: configuration.maxSequences, contextLength: nil)
        freeSlots = Array((0..<configuration.maxSequences).reversed())
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "aigc-engine"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Queued requests not yet decoding.
    public var queueDepth: Int { condition.withLock { pending.count } }
    /// Sequences in the decode batch.
    public var activeSequences: Int { condition.withLock { active.count } }
    /// Tokens generated since start (for metrics).
    public var generatedTokens: Int { counters.generated.load(ordering: .relaxed) }
    /// Forward steps run since start.
    public var steps: Int { counters.steps.load(ordering: .relaxed) }

    /// Starts a request. The stream yields text as it becomes final and ends with `.done`; cancelling
    /// the consuming task (a client that went away) removes the sequence at the next step.
    public func submit(_ request: GenerationRequest) throws -> AsyncThrowingStream<Event, Error> {
        if let problem = request.sampling.problem() { throw GenerationError.invalidParameter(problem) }
        guard request.beams == 1, request.bestOf == 1 else {
            throw GenerationError.invalidParameter("beam search and best-of are not served by the batch engine")
        }
        let prompt = try TextGenerator(loaded).promptTokens(request)
        let (stream, continuation) = AsyncThrowingStream<Event, Error>.makeStream()
        let seed = request.sampling.seed ?? SeededRandom.randomSeed()
        try condition.withLock {
            if stopping { throw EngineError.shuttingDown }
            guard pending.count < configuration.maxQueued else {
                throw EngineError.queueFull(retryAfterSeconds: max(1, (pending.count / max(1, configuration.maxSequences)) * 2))
            }
            nextID += 1
            let deadline = configuration.requestTimeout.map { DispatchTime.now().uptimeNanoseconds + UInt64($0 * 1e9) }
            let state = DecodeState(request: request, prompt: prompt, tokenizer: loaded.tokenizer, contextLength: loaded.model.contextLength, seed: seed)
            let sequence = Sequence(id: nextID, state: state, seed: seed, continuation: continuation, deadline: deadline)
            continuation.onTermination = { [weak self, weak sequence] _ in
                sequence?.cancelled.store(true, ordering: .relaxed)
                self?.condition.withLock { self?.condition.signal() }
            }
            pending.append(sequence)
            condition.signal()
        }
        return stream
    }

    /// Runs `work` on the engine thread between steps, with the model to itself (e.g. embeddings).
    public func perform<T: Sendable>(_ work: @escaping @Sendable (LoadedModel) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            condition.withLock {
                if stopping { continuation.resume(throwing: EngineError.shuttingDown); return }
                jobs.append { [loaded] in continuation.resume(with: Result { try work(loaded) }) }
                condition.signal()
            }
        }
    }

    /// Stops accepting requests and returns when every queued and running one has finished.
    public func shutdown() async {
        await withCheckedContinuation { continuation in
            condition.withLock {
                stopping = true
                stopped.append(continuation)
                condition.signal()
            }
        }
    }

    // MARK: the engine thread

    /// One request's decoding; touched only by the engine thread, except the cancellation flag.
    final class Sequence: @unchecked Sendable {
        let id: Int
        var state: DecodeState
        let seed: UInt64
        let continuation: AsyncThrowingStream<Event, Error>.Continuation
        let deadline: UInt64?
        let cancelled = Atomic<Bool>(false)
        var slot = -1
        /// Prompt tokens whose keys and values are in the cache.
        var evaluated = 0
        /// The token sampled last, to be fed at the next step.
        var next: Int?
        let submitted = DispatchTime.now().uptimeNanoseconds
        var firstToken: UInt64?

        init(id: Int, state: DecodeState, seed: UInt64, continuation: AsyncThrowingStream<Event, Error>.Continuation, deadline: UInt64?) {
            self.id = id
            self.state = state
            self.seed = seed
            self.continuation = continuation
            self.deadline = deadline
        }

        var prompt: [Int] { state.prompt }
    }

    final class Counters: Sendable {
        let generated = Atomic<Int>(0)
        let steps = Atomic<Int>(0)
    }

    private func loop() {
        while true {
            condition.lock()
            while pending.isEmpty && active.isEmpty && jobs.isEmpty && !stopping { condition.wait() }
            if stopping && pending.isEmpty && active.isEmpty && jobs.isEmpty {
                let waiting = stopped
                stopped = []
                condition.unlock()
                waiting.forEach { $0.resume() }
                return
            }
            let work = jobs
            jobs = []
            while active.count < configuration.maxSequences, !pending.isEmpty, let slot = freeSlots.popLast() {
                let s = pending.removeFirst()
                s.slot = slot
                active.append(s)
            }
            condition.unlock()
            work.forEach { $0() }
            dropCancelled()
            if !active.isEmpty { step() }
        }
    }

    /// Ends sequences whose client went away or whose time ran out.
    private func dropCancelled() {
        let now = DispatchTime.now().uptimeNanoseconds
        for s in active where s.cancelled.load(ordering: .relaxed) || (s.deadline.map { now > $0 } ?? false) {
            if s.cancelled.load(ordering: .relaxed) {
                s.state.cancel()
                finish(s)
            } else {
                s.continuation.finish(throwing: EngineError.timedOut(seconds: configuration.requestTimeout ?? 0))
                release(s)
            }
        }
    }

    /// One forward step over every active sequence.
    private func step() {
        var batch = TokenBatch(tokens: [], positions: [], sequences: [], wantsLogits: [])
        var owners: [Sequence] = []
        for s in active where s.evaluated == s.prompt.count {
            guard let token = s.next else { continue }
            batch.tokens.append(token)
            batch.positions.append(s.prompt.count + s.state.generated.count - 1)
            batch.sequences.append(s.slot)
            batch.wantsLogits.append(true)
            owners.append(s)
        }
        var budget = configuration.prefillChunk
        for s in active where s.evaluated < s.prompt.count && budget > 0 {
            if s.evaluated == 0 { cache.truncate(sequence: s.slot, to: 0) }
            let count = min(budget, s.prompt.count - s.evaluated)
            for i in s.evaluated..<(s.evaluated + count) {
                batch.tokens.append(s.prompt[i])
                batch.positions.append(i)
                batch.sequences.append(s.slot)
                batch.wantsLogits.append(i == s.prompt.count - 1)
            }
            if s.evaluated + count == s.prompt.count { owners.append(s) }
            s.evaluated += count
            budget -= count
        }
        if batch.tokens.isEmpty { return }
        let logits: Logits
        do {
            logits = try loaded.model.forward(batch, cache: cache)
        } catch {
            for s in active { s.continuation.finish(throwing: error); release(s) }
            return
        }
        counters.steps.add(1, ordering: .relaxed)
        for (row, s) in owners.enumerated() {
            if s.firstToken == nil { s.firstToken = DispatchTime.now().uptimeNanoseconds }
            let token = s.state.accept(logits.row(row)) { piece, logprob in
                s.continuation.yield(.token(piece, logprob))
                return !s.cancelled.load(ordering: .relaxed)
            }
            counters.generated.add(token == nil ? 0 : 1, ordering: .relaxed)
            s.next = token
            if s.state.isFinished { finish(s) }
        }
    }

    private func finish(_ s: Sequence) {
        let end = DispatchTime.now().uptimeNanoseconds
        let first = s.firstToken ?? end
        let promptMs = Double(first - s.submitted) / 1e6, generationMs = Double(end - first) / 1e6
        let generated = s.state.generated
        let timings = GenerationTimings(loadMs: loaded.loadMilliseconds, promptMs: promptMs,
                                        promptTokensPerSecond: Double(s.prompt.count) / max(promptMs, 1e-9) * 1000, generationMs: generationMs,
                                        generationTokensPerSecond: Double(max(generated.count, 1)) / max(generationMs, 1e-9) * 1000)
        let result = GenerationResult(text: s.state.text, tokens: generated, promptTokens: s.prompt,
                                      logprobs: s.state.request.logprobs == nil ? nil : s.state.logprobs,
                                      finishReason: s.state.finish ?? .length, seed: s.seed, timings: timings, score: nil)
        s.continuation.yield(.done(result))
        s.continuation.finish()
        release(s)
    }

    private func release(_ s: Sequence) {
        condition.withLock {
            active.removeAll { $0 === s }
            if s.slot >= 0 {
                cache.truncate(sequence: s.slot, to: 0)
                freeSlots.append(s.slot)
            }
        }
    }
}
