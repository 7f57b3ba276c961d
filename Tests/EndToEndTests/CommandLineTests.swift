// The `aigc` binary as users and scripts call it: the --json contracts, exit codes and one-line errors.
import AIGCTestSupport
import Foundation
import Testing

struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs the debug build of aigc (built by `swift build --build-tests`).
func aigc(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
    let binary = Fixtures.packageRoot.appendingPathComponent(".build/debug/aigc")
    guard FileManager.default.isExecutableFile(atPath: binary.path) else {
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: binary.path + " (run `swift build --build-tests` first)"])
    }
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                         stderr: String(decoding: stderr, as: UTF8.self))
}

func json(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

@Suite(.serialized) struct CommandLineTests {
    @Test func generateJSONContract() throws {
        let run = try aigc(["generate", "-m", "smollm2-135m-instruct", "--json", "--seed", "7", "--max-tokens", "8", "--logprobs", "2", "Hello"])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try json(run.stdout)
        for key in ["text", "tokens", "prompt_tokens", "logprobs", "finish_reason", "timings"] { #expect(object[key] != nil, "missing \(key)") }
        let tokens = try #require(object["tokens"] as? [Int])
        #expect(tokens.count <= 8 && !tokens.isEmpty)
        #expect((object["prompt_tokens"] as? [Int])?.isEmpty == false)
        #expect((object["logprobs"] as? [[String: Any]])?.count == tokens.count)
        let timings = try #require(object["timings"] as? [String: Any])
        for key in ["load_ms", "prompt_tokens_per_second", "generation_tokens_per_second"] { #expect(timings[key] is Double, "timings.\(key)") }
        let again = try json(try aigc(["generate", "-m", "smollm2-135m-instruct", "--json", "--seed", "7", "--max-tokens", "8", "Hello"]).stdout)
        #expect(again["text"] as? String == object["text"] as? String, "same seed, same text")
    }

    @Test func greedyStreamsParis() throws {
        let run = try aigc(["generate", "-m", "smollm2-135m-instruct", "--temperature", "0", "--max-tokens", "8", "The capital of France is"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("Paris"))
        #expect(run.stderr.contains("tok/s"))
    }

    /// Both cache precisions generate from the command line; on the tiny model their greedy text agrees.
    @Test func kvCachePrecisionsGenerateTheSameGreedyText() throws {
        let texts = try ["f16", "f32"].map { precision in
            let run = try aigc(["generate", "-m", TinyModels.gguf("llama"), "--kv-cache", precision, "--temperature", "0", "--max-tokens", "12",
                                "--json", "hello"])
            #expect(run.status == 0, "\(precision): \(run.stderr)")
            return try json(run.stdout)["tokens"] as? [Int]
        }
        #expect(texts[0] != nil && texts[0]?.count == 12 && texts[0] == texts[1])
    }

    @Test func beamSearchOnAGPT2Model() throws {
        let reference = try TinyModels.reference("gpt2")
        let beam = try #require(reference.beamSearch?.first)
        let prompt = String(String.UnicodeScalarView(reference.prompt.map { Unicode.Scalar(UInt8($0)) }))
        let run = try aigc(["generate", "-m", TinyModels.gguf("gpt2"), "--beams", "5", "--max-tokens", String(beam.maxNew),
                            "--no-repeat-ngram", "2", "--early-stopping", "--json", prompt])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try json(run.stdout)["tokens"] as? [Int] == beam.tokens)
    }

    @Test func tokenizeAcceptsAVocabularyOnlyFile() throws {
        let run = try aigc(["tokenize", "-m", Fixtures.shared("tokenizers/ggml-vocab/ggml-vocab-llama-bpe.gguf"), "--json", "Hello world"])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try json(run.stdout)
        #expect(object["ids"] as? [Int] == [9906, 1917])
        #expect(object["pieces"] as? [String] == ["Hello", " world"])
        let plain = try aigc(["tokenize", "-m", Fixtures.shared("tokenizers/ggml-vocab/ggml-vocab-llama-bpe.gguf"), "Hello"])
        #expect(plain.stdout.contains("9906 -> 'Hello'"))
    }

    @Test func badInputFailsWithOneClearLine() throws {
        let temporary = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: temporary) }
        let truncated = temporary.appendingPathComponent("truncated.gguf")
        let full = try Data(contentsOf: URL(fileURLWithPath: TinyModels.gguf("llama")))
        try full.prefix(100).write(to: truncated)
        let cases: [([String], String)] = [
            (["generate", "-m", "/no/such/model.gguf", "hi"], "/no/such/model.gguf"),
            (["generate", "-m", truncated.path, "hi"], "truncated"),
            (["generate", "-m", "no-such-model", "hi"], "no-such-model"),
            (["generate", "-m", TinyModels.gguf("llama"), "--max-tokens", "4", String(repeating: "a", count: 200)], "the context holds 128"),
            (["generate", "-m", TinyModels.gguf("llama"), "--top-p", "0", "hi"], "top-p"),
            (["generate", "-m", TinyModels.gguf("llama"), "--kv-cache", "q8_0", "hi"], "'q8_0' is invalid for '--kv-cache"),
            (["pull", "no-such-model"], "no-such-model"),
            (["generate", "-m", Fixtures.shared("tokenizers/ggml-vocab/ggml-vocab-gpt-2.gguf"), "hi"], "no weights"),
        ]
        for (arguments, needle) in cases {
            let run = try aigc(arguments)
            #expect(run.status != 0, "\(arguments) must fail")
            let lines = run.stderr.split(separator: "\n").filter { !$0.isEmpty }
            // Option values the argument parser rejects come with its usage lines.
            #expect(lines.count == 1 || arguments.contains("--top-p") || arguments.contains("--kv-cache"), "\(arguments): \(run.stderr)")
            #expect(run.stderr.contains(needle), "\(arguments): \(run.stderr)")
        }
    }

    @Test func modelsShowDescribesAModel() throws {
        let run = try aigc(["models", "show", "--json", "smollm2-135m-instruct"])
        #expect(run.status == 0, "\(run.stderr)")
        let info = try json(run.stdout)
        #expect(info["architecture"] as? String == "llama")
        #expect(info["quantization"] as? String == "Q4_1")
        #expect(info["context_length"] as? Int == 8192 || info["contextLength"] as? Int == 8192)
        #expect(info["license"] as? String == "apache-2.0" || info["license"] as? String == "Apache-2.0")
        #expect((info["parameters"] as? Int ?? 0) > 100_000_000)
    }
}

@Suite(.serialized) struct ModelStoreCommandTests {
    /// An AIGC_HOME with the tiny Llama installed as if pulled (manifest + file).
    func home() throws -> URL {
        let home = Fixtures.temporaryDirectory("home")
        let folder = home.appendingPathComponent("models/tiny-llama")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: TinyModels.gguf("llama"), toPath: folder.appendingPathComponent("model.gguf").path)
        let manifest = #"{"name": "tiny-llama", "file": "model.gguf", "source": "test", "sha256": "x", "bytes": 1, "license": "MIT", "pulled_at": "2026-11-23T00:00:00Z"}"#
        try Data(manifest.utf8).write(to: folder.appendingPathComponent("manifest.json"))
        return home
    }

    @Test func listShowGenerateAndRemoveAnInstalledModel() throws {
        let home = try home()
        defer { try? FileManager.default.removeItem(at: home) }
        let env = ["AIGC_HOME": home.path]
        let list = try aigc(["models", "list", "--json"], environment: env)
        #expect((try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])?.first?["name"] as? String == "tiny-llama")
        #expect(try aigc(["models", "show", "tiny-llama"], environment: env).stdout.contains("MIT"))
        let generated = try aigc(["generate", "-m", "tiny-llama", "--max-tokens", "3", "--logit-bias", "65=100", "--temperature", "0", "x"], environment: env)
        #expect(generated.stdout.hasPrefix("AAA"), "the bias forces token 65 ('A'): \(generated.stdout)")
        #expect(try aigc(["models", "rm", "tiny-llama"], environment: env).status == 0)
        #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent("models/tiny-llama").path))
        let again = try aigc(["models", "rm", "tiny-llama"], environment: env)
        #expect(again.status != 0 && again.stderr.contains("not installed"))
    }
}

@Suite(.serialized) struct ChatCommandTests {
    /// Runs `aigc chat` with `input` on standard input (not a terminal: one message per line).
    func chat(_ arguments: [String], input: String) throws -> CommandResult {
        let binary = Fixtures.packageRoot.appendingPathComponent(".build/debug/aigc")
        let process = Process()
        process.executableURL = binary
        process.arguments = ["chat"] + arguments
        let stdin = Pipe(), out = Pipe(), err = Pipe()
        process.standardInput = stdin
        process.standardOutput = out
        process.standardError = err
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    @Test func pipedMessagesGetRepliesAndCommandsWork() throws {
        let transcript = Fixtures.temporaryDirectory("chat").appendingPathComponent("t.json")
        let run = try chat(["--temperature", "0", "--max-tokens", "24"],
                           input: "Name the capital of France.\n/save \(transcript.path)\n/history\n/reset\n/bogus\n")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("Paris"))
        #expect(run.stdout.contains("user: Name the capital of France."))
        #expect(run.stderr.contains("AI-generated"), "the persistent AI-generated notice")
        #expect(run.stderr.contains("unknown command /bogus"))
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: transcript)) as? [String: Any]
        #expect((saved?["messages"] as? [[String: String]])?.count == 2)
    }
}
