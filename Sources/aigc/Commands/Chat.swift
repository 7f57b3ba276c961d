// aigc chat: an interactive conversation with a model, using its own chat template.
import AIGCGeneration
import AIGCSampling
import ArgumentParser
import Foundation

struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Chat with a model (multi-turn, streaming).",
        discussion: """
            Type a message and press Enter. Commands: /reset (forget the conversation), /system TEXT (set the \
            system prompt), /save FILE, /load FILE, /history, /quit. When standard input is not a terminal, every \
            line is one message and each reply is printed followed by an empty line.
            """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "System prompt.") var system: String?
    @Option(help: "Sampling temperature; 0 means greedy.") var temperature: Float = 0.7
    @Option(name: .customLong("top-p")) var topP: Float = 0.9
    @Option(help: "Random seed.") var seed: UInt64?
    @Option(name: .customLong("max-tokens"), help: "Most tokens per reply.") var maxTokens: Int = 512

    func run() throws {
        let loaded = try modelOptions.load()
        let session = try ChatSession(loaded, system: system)
        var base = GenerationRequest(prompt: "")
        base.sampling.temperature = temperature
        base.sampling.topP = topP
        base.sampling.seed = seed
        base.maxTokens = maxTokens
        if let problem = base.sampling.problem() { throw ValidationError(problem) }
        let interactive = isatty(STDIN_FILENO) != 0
        // The explicit label the labelling standard asks of interactive AI chat: a persistent notice.
        writeErr("[\(loaded.info.name)] replies are AI-generated (人工智能生成). /quit to leave, /reset to start over.")
        while true {
            if interactive { writeOut("> ") }
            guard let line = readLine() else { break }
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            if text.hasPrefix("/") {
                if try command(text, session: session) { break }
                continue
            }
            do {
                let result = try session.send(text, request: base, onTrim: { trimmed in
                    writeErr("(history trimmed: the \(trimmed.droppedMessages) oldest messages no longer fit the context)")
                }, onText: { piece in
                    writeOut(piece)
                    return true
                })
                writeOut(interactive ? "\n" : "\n\n")
                if interactive {
                    writeErr(String(format: "(%d tokens, %.1f tok/s)", result.tokens.count, result.timings.generationTokensPerSecond))
                }
            } catch let error as GenerationError {
                writeErr("error: \(error)")
            }
        }
    }

    /// Handles a slash command; returns true to quit.
    func command(_ text: String, session: ChatSession) throws -> Bool {
        let parts = text.split(separator: " ", maxSplits: 1).map(String.init)
        let argument = parts.count > 1 ? parts[1] : ""
        switch parts[0] {
        case "/quit", "/exit", "/bye": return true
        case "/reset":
            session.reset()
            writeErr("(conversation cleared)")
        case "/system":
            session.system = argument.isEmpty ? nil : argument
            session.reset()
            writeErr(argument.isEmpty ? "(system prompt removed)" : "(system prompt set; conversation cleared)")
        case "/save":
            guard !argument.isEmpty else { writeErr("usage: /save FILE"); return false }
            try session.transcript().write(to: URL(fileURLWithPath: argument))
            writeErr("(saved \(session.messages.count) messages to \(argument))")
        case "/load":
            guard !argument.isEmpty else { writeErr("usage: /load FILE"); return false }
            do {
                try session.load(transcript: Data(contentsOf: URL(fileURLWithPath: argument)))
                writeErr("(loaded \(session.messages.count) messages from \(argument))")
            } catch {
                writeErr("error: cannot load \(argument): \(error.localizedDescription)")
            }
        case "/history":
            if let system = session.system { writeOut("system: \(system)\n") }
            for m in session.messages { writeOut("\(m.role): \(m.content)\n") }
        default:
            writeErr("unknown command \(parts[0]); commands: /reset /system /save /load /history /quit")
        }
        return false
    }
}
