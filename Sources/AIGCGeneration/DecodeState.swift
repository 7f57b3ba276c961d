// DecodeState: what one sequence needs between forward steps — its sampler, history, streaming
// detokenizer, stop strings, limits and log-probabilities. The single-request loop (TextGenerator)
// and the continuous-batching engine (BatchEngine) both feed it rows of logits.
import AIGCSampling
import AIGCTokenizers

struct DecodeState {
    let request: GenerationRequest
    let prompt: [Int]
    let tokenizer: Tokenizer
    let limit: Int
    let stopTokens: Set<Int>
    var sampler: Sampler
    var history: [Int]
    var generated: [Int] = []
    var logprobs: [TokenLogprob] = []
    var text = ""
    var finish: FinishReason?
    var constraint: JSONConstraint?
    private var detokenizer: StreamingDetokenizer
    private var stops: StopStringMatcher
    private var stripLeadingSpace: Bool

    init(request: GenerationRequest, prompt: [Int], tokenizer: Tokenizer, contextLength: Int, seed: UInt64) {
        self.request = request
        self.prompt = prompt
        self.tokenizer = tokenizer
        limit = min(request.maxTokens ?? Int.max, contextLength - prompt.count)
        stopTokens = request.ignoreEOS ? [] : tokenizer.stopTokens
        sampler = Sampler(request.sampling, seed: seed)
        history = prompt
        detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
        stops = StopStringMatcher(request.stop)
        // SentencePiece decoders drop the space that starts the text right after BOS (llama2.c run.c, HF).
        stripLeadingSpace = tokenizer.vocabulary.model == .sentencePiece && tokenizer.vocabulary.addSpacePrefix
            && prompt.allSatisfy { tokenizer.isControl($0) }
        if request.jsonObject { constraint = JSONConstraint(tokenizer: tokenizer) }
        if limit <= 0 { finish = .length }
    }

    var isFinished: Bool { finish != nil }

    /// Samples the next token from `logits` and takes it in. Returns the token (nil when generation
    /// ended at end-of-sequence) and the text that became final; `emit` is called with that text and
    /// returns false to cancel.
    @discardableResult
    mutating func accept(_ logits: ArraySlice<Float>, emit: (String, TokenLogprob?) -> Bool) -> Int? {
        precondition(!isFinished, "decoding already finished")
        let context = SamplingContext(history: history)
        let token: Int
        if let constraint {
            token = sampler.sample(logits, context: context) { constraint.allows($0) }
        } else {
            token = sampler.sample(logits, context: context)
        }
        let logprob = request.logprobs.map { TextGenerator.logprob(of: token, in: logits, top: $0, tokenizer: tokenizer) }
        if let logprob { logprobs.append(logprob) }
        if stopTokens.contains(token) {
            finish = .stop
            _ = flush(emit)
            return nil
        }
        generated.append(token)
        history.append(token)
        constraint?.take(token)
        let (visible, stopped) = stops.feed(detokenizer.append(token))
        if !send(visible, logprob, emit) {
            finish = .cancelled
        } else if stopped {
            finish = .stop
        } else if constraint?.complete == true {
            // The JSON object is closed: nothing may follow it.
            finish = .stop
            _ = flush(emit)
        } else if generated.count >= limit {
            finish = .length
            _ = flush(emit)
        }
        return token
    }

    /// Ends early (cancelled by the caller, timed out): flushes nothing further.
    mutating func cancel() { if finish == nil { finish = .cancelled } }

    /// Text still held back when generation ends without a stop string.
    private mutating func flush(_ emit: (String, TokenLogprob?) -> Bool) -> Bool {
        let (visible, stopped) = stops.feed(detokenizer.flush())
        guard send(visible, nil, emit) else { return false }
        if stopped { finish = .stop; return true }
        return send(stops.flush(), nil, emit)
    }

    private mutating func send(_ piece: String, _ logprob: TokenLogprob?, _ emit: (String, TokenLogprob?) -> Bool) -> Bool {
        var piece = piece
        if stripLeadingSpace && !piece.isEmpty {
            if piece.hasPrefix(" ") { piece.removeFirst() }
            stripLeadingSpace = false
        }
        if piece.isEmpty && logprob == nil { return true }
        text += piece
        return emit(piece, logprob)
    }
}

/// Keeps generated text a prefix of a JSON object (OpenAI's response_format: json_object).
struct JSONConstraint {
    let tokenizer: Tokenizer
    var grammar = JSONGrammar()

    init(tokenizer: Tokenizer) { self.tokenizer = tokenizer }

    var complete: Bool { grammar.complete }

    /// Whether the token's bytes keep the output a valid JSON prefix (control tokens never do).
    func allows(_ token: Int) -> Bool {
        let bytes = tokenizer.bytes(of: token)
        if bytes.isEmpty { return false }
        var g = grammar
        return g.feed(bytes)
    }

    mutating func take(_ token: Int) { _ = grammar.feed(tokenizer.bytes(of: token)) }
}
