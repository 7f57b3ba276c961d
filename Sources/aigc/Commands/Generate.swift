// aigc generate: stream a continuation of PROMPT (or print one JSON object with --json).
import AIGCGeneration
import AIGCKernels
import AIGCSampling
import ArgumentParser
import Foundation

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate text from a prompt, streaming tokens to stdout.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Sampling temperature; 0 means greedy.") var temperature: Float = 0.8
    @Option(name: .customLong("top-k"), help: "Keep the k most likely tokens (0: all).") var topK: Int = 40
    @Option(name: .customLong("top-p"), help: "Nucleus sampling: keep tokens up to this cumulative probability.") var topP: Float = 0.95
    @Option(name: .customLong("min-p"), help: "Keep tokens at least this fraction as likely as the best.") var minP: Float = 0.05
    @Option(name: .customLong("repeat-penalty"), help: "Penalise tokens seen in the last --repeat-last-n tokens (1: off).") var repeatPenalty: Float = 1.0
    @Option(name: .customLong("repeat-last-n"), help: "Window of the penalties (-1: everything).") var repeatLastN: Int = 64
    @Option(name: .customLong("presence-penalty"), help: "Subtract from tokens already present.") var presencePenalty: Float = 0
    @Option(name: .customLong("frequency-penalty"), help: "Subtract per occurrence.") var frequencyPenalty: Float = 0
    @Option(help: "Random seed (same seed, same text). Default: random, printed with --json.") var seed: UInt64?
    @Option(name: .customLong("max-tokens"), help: "Most tokens to generate.") var maxTokens: Int = 256
    @Option(help: "Beam search with this many beams (greedy, deterministic).") var beams: Int = 1
    @Option(name: .customLong("length-penalty"), help: "Beam search: exponent of the length normalisation.") var lengthPenalty: Float = 1
    @Flag(name: .customLong("early-stopping"), help: "Beam search: stop as soon as enough hypotheses have finished.") var earlyStopping = false
    @Option(name: .customLong("no-repeat-ngram"), help: "Beam search: never repeat an n-gram of this size.") var noRepeatNgram: Int = 0
    @Option(name: .customLong("best-of"), help: "Sample N completions and keep the one with the best mean log-probability.") var bestOf: Int = 1
    @Option(help: "Prompt-lookup decoding: draft up to N tokens copied from the context, verified in one step (same output, faster when text repeats).") var lookup: Int = 0
    @Option(help: "Stop when this text appears (repeatable).") var stop: [String] = []
    @Option(name: .customLong("logit-bias"), help: "TOKEN=BIAS added to a token's logit (repeatable; -inf bans it).") var logitBias: [String] = []
    @Option(help: "Report this many top alternatives with each token's log-probability (--json).") var logprobs: Int = 0
    @Flag(name: .customLong("ignore-eos"), help: "Keep generating past the end-of-sequence token.") var ignoreEOS = false
    @Flag(help: "Print one JSON object: text, tokens, prompt_tokens, logprobs, finish_reason, timings.") var json = false
    @Argument(help: "The prompt.") var prompt: String

    func validate() throws {
        if maxTokens < 0 { throw ValidationError("--max-tokens must be >= 0") }
        if beams < 1 || beams > 64 { throw ValidationError("--beams must be 1...64") }
        if bestOf < 1 || bestOf > 64 { throw ValidationError("--best-of must be 1...64") }
        if beams > 1 && bestOf > 1 { throw ValidationError("--beams and --best-of cannot be combined") }
        if logprobs < 0 || logprobs > 20 { throw ValidationError("--logprobs must be 0...20") }
        if lookup < 0 || lookup > 64 { throw ValidationError("--lookup must be 0...64") }
        if lookup > 0 && beams > 1 { throw ValidationError("--lookup and --beams cannot be combined") }
    }

    func run() throws {
        var sampling = SamplingParameters()
        sampling.temperature = temperature
        sampling.topK = topK
        sampling.topP = topP
        sampling.minP = minP
        sampling.repeatPenalty = repeatPenalty
        sampling.repeatLastN = repeatLastN
        sampling.presencePenalty = presencePenalty
        sampling.frequencyPenalty = frequencyPenalty
        sampling.seed = seed
        for item in logitBias {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let token = Int(parts[0]), let bias = Float(parts[1]) else {
                throw ValidationError("--logit-bias wants TOKEN=BIAS, e.g. 42=-inf (got '\(item)')")
            }
            sampling.logitBias[token] = bias
        }
        if let problem = sampling.problem() { throw ValidationError(problem) }

        let loaded = try modelOptions.load()
        var request = GenerationRequest(prompt: prompt)
        request.sampling = sampling
        request.maxTokens = maxTokens
        request.stop = stop
        request.beams = beams
        request.lengthPenalty = lengthPenalty
        request.earlyStopping = earlyStopping
        request.noRepeatNgramSize = noRepeatNgram
        request.bestOf = bestOf
        request.lookup = lookup
        request.ignoreEOS = ignoreEOS
        request.logprobs = json ? logprobs : nil

        let generator = TextGenerator(loaded)
        let result = try generator.generate(request) { text in
            if !json { writeOut(text) }
            return true
        }
        if Profiler.enabled { writeErr("profile (AIGC_PROFILE):\n" + Profiler.report()) }
        if json {
            writeOut(try jsonLine(GenerateOutput(result: result, model: loaded.info.name)) + "\n")
        } else {
            writeOut("\n")
            let t = result.timings
            writeErr(String(format: "[%@] load %.0f ms | prompt %d tokens, %.1f tok/s | generated %d tokens, %.1f tok/s | %@",
                            loaded.info.name, t.loadMs, result.promptTokens.count, t.promptTokensPerSecond, result.tokens.count,
                            t.generationTokensPerSecond, result.finishReason.rawValue))
        }
    }
}

/// The --json contract: text, tokens, prompt_tokens, logprobs, finish_reason, timings (+ seed, model).
struct GenerateOutput: Encodable {
    let result: GenerationResult
    let model: String

    enum CodingKeys: String, CodingKey {
        case text, tokens, promptTokens = "prompt_tokens", logprobs, finishReason = "finish_reason", timings, seed, model, score
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(result.text, forKey: .text)
        try c.encode(result.tokens, forKey: .tokens)
        try c.encode(result.promptTokens, forKey: .promptTokens)
        try c.encode(result.logprobs ?? [], forKey: .logprobs)
        try c.encode(result.finishReason, forKey: .finishReason)
        try c.encode(result.timings, forKey: .timings)
        try c.encode(result.seed, forKey: .seed)
        try c.encode(model, forKey: .model)
        try c.encodeIfPresent(result.score, forKey: .score)
    }
}
