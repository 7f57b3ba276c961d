// Continuous batching: concurrent requests give exactly what they give alone, share forward steps,
// and leave cleanly when cancelled, timed out, refused or shut down.
import AIGCGeneration
import AIGCSampling
import AIGCTestSupport
import Foundation
import Testing

func collect(_ stream: AsyncThrowingStream<BatchEngine.Event, Error>) async throws -> (text: String, result: GenerationResult?) {
    var text = ""
    var result: GenerationResult?
    for try await event in stream {
        switch event {
        case let .token(piece, _): text += piece
        case let .done(r): result = r
        }
    }
    return (text, result)
}

func engineRequest(_ tokens: [Int], maxTokens: Int, seed: UInt64? = nil) -> GenerationRequest {
    var r = GenerationRequest(prompt: "")
    r.promptTokens = tokens
    r.maxTokens = maxTokens
    if let seed {
        r.sampling.seed = seed
        r.sampling.temperature = 1
    } else {
        r.sampling = .greedy
    }
    return r
}

@Suite(.serialized) struct BatchEngineTests {
    @Test(arguments: ["llama", "gpt2"])
    func concurrentRequestsMatchSingleGeneration(_ name: String) async throws {
        let loaded = try ModelLoader.load(path: TinyModels.gguf(name))
        let prompts = (0..<6).map { i in (0..<(5 + 3 * i)).map { ($0 * 31 + i * 7) % 250 + 1 } }
        let requests = prompts.enumerated().map { i, p in engineRequest(p, maxTokens: 12 + i, seed: i % 2 == 0 ? nil : UInt64(i)) }
        let alone = try requests.map { try TextGenerator(loaded).generate($0) }
        var configuration = BatchEngine.Configuration()
        configuration.maxSequences = 4
        configuration.prefillChunk = 16
        let engine = BatchEngine(loaded, configuration: configuration)
        let results = try await withThrowingTaskGroup(of: (Int, String, GenerationResult?).self) { group in
            for (i, r) in requests.enumerated() {
                let stream = try engine.submit(r)
                group.addTask { let (t, res) = try await collect(stream); return (i, t, res) }
            }
            var out: [(Int, String, GenerationResult?)] = []
            for try await x in group { out.append(x) }
            return out.sorted { $0.0 < $1.0 }
        }
        for (i, text, result) in results {
            #expect(result?.tokens == alone[i].tokens, "request \(i)")
            #expect(text == alone[i].text && result?.text == alone[i].text)
            #expect(result?.finishReason == alone[i].finishReason)
        }
        let total = alone.reduce(0) { $0 + $1.tokens.count }
        #expect(engine.steps < total, "sequences shared steps: \(engine.steps) steps for \(total) tokens")
        #expect(engine.generatedTokens == total)
        await engine.shutdown()
    }

    @Test func aCancelledClientLeavesAndOthersFinish() async throws {
        let engine = BatchEngine(try ModelLoader.load(path: TinyModels.gguf("llama")))
        let long = try engine.submit(engineRequest([1, 2, 3], maxTokens: 100))
        let short = try engine.submit(engineRequest([4, 5, 6], maxTokens: 10))
        let consumer = Task { var n = 0; for try await _ in long { n += 1 }; return n }
        consumer.cancel()
        _ = try? await consumer.value
        let (_, result) = try await collect(short)
        #expect(result?.tokens.count == 10)
        await engine.shutdown()
        #expect(engine.activeSequences == 0 && engine.queueDepth == 0)
    }

    @Test func aFullQueueRefusesWithRetryAfter() async throws {
        var configuration = BatchEngine.Configuration()
        configuration.maxSequences = 1
        configuration.maxQueued = 2
        let engine = BatchEngine(try ModelLoader.load(path: TinyModels.gguf("llama")), configuration: configuration)
        var streams: [AsyncThrowingStream<BatchEngine.Event, Error>] = []
        var refused: BatchEngine.EngineError?
        for _ in 0..<6 {
            do { streams.append(try engine.submit(engineRequest([1, 2], maxTokens: 60))) } catch let e as BatchEngine.EngineError { refused = e }
        }
        guard case let .queueFull(seconds)? = refused else { Issue.record("expected queueFull, got \(String(describing: refused))"); return }
        #expect(seconds >= 1)
        for s in streams { _ = try await collect(s) }
        await engine.shutdown()
    }

    @Test func timedOutRequestsEndWithAnError() async throws {
        // The real model needs well over 0.2 s for 300 tokens.
        var configuration = BatchEngine.Configuration()
        configuration.requestTimeout = 0.2
        let engine = BatchEngine(try ModelLoader.load(path: ModelStore().resolve(ModelCatalog.defaultModel).path), configuration: configuration)
        var r = engineRequest([1, 2], maxTokens: 300)
        r.ignoreEOS = true
        let stream = try engine.submit(r)
        await #expect(throws: BatchEngine.EngineError.timedOut(seconds: 0.2)) {
            for try await _ in stream {}
        }
        await engine.shutdown()
    }

    @Test func shutdownFinishesInFlightWorkAndRefusesNewWork() async throws {
        let engine = BatchEngine(try ModelLoader.load(path: TinyModels.gguf("gpt2")))
        let stream = try engine.submit(engineRequest([1, 2, 3], maxTokens: 20))
        let running = Task { try await collect(stream) }
        await engine.shutdown()
        #expect(try await running.value.result?.tokens.count == 20)
        #expect(throws: BatchEngine.EngineError.shuttingDown) { try engine.submit(engineRequest([1], maxTokens: 1)) }
    }

    @Test func exclusiveJobsRunBetweenSteps() async throws {
        let engine = BatchEngine(try ModelLoader.load(path: TinyModels.gguf("llama")))
        let hidden = try await engine.perform { loaded in
            try loaded.model.hiddenStates(.prompt([1, 2, 3]), cache: loaded.model.makeCache(sequences: 1, contextLength: nil)).values.count
        }
        #expect(hidden == 64)
        await engine.shutdown()
    }
}
