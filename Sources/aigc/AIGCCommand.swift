// aigc: the command-line entry point; one file per subcommand under Commands/.
import ArgumentParser

@main
struct Aigc: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aigc",
        abstract: "Local-first AI-generated content: text generation with GGUF, safetensors and llama2.c models; labelled images.",
        version: AigcVersion.string,
        subcommands: [Generate.self, Chat.self, Serve.self, ImageCommand.self, Inspect.self, Tokenize.self, Pull.self, Models.self, Bench.self, Quantize.self, Keys.self, UsageReport.self]
    )
}

enum AigcVersion {
    static let string = "0.1.0"
}
