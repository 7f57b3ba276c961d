// aigc tokenize: the token ids and pieces of a text.
import AIGCGeneration
import ArgumentParser
import Foundation

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the token ids and pieces of TEXT.")

    @OptionGroup var modelOptions: ModelOptions
    @Flag(help: "Print {\"ids\": [...], \"pieces\": [...]}.") var json = false
    @Flag(name: .customLong("no-special"), help: "Do not add BOS/EOS and treat control-token text as plain text.") var noSpecial = false
    @Argument(help: "The text.") var text: String

    func run() throws {
        let (path, _) = try modelOptions.resolve()
        let tokenizer = try ModelLoader.loadTokenizer(path: path, tokenizerPath: modelOptions.tokenizer)
        let ids = tokenizer.encode(text, addSpecial: !noSpecial, parseSpecial: !noSpecial)
        let pieces = ids.map { tokenizer.piece($0) }
        if json {
            struct Output: Encodable { let ids: [Int]; let pieces: [String] }
            writeOut(try jsonLine(Output(ids: ids, pieces: pieces)) + "\n")
        } else {
            for (id, piece) in zip(ids, pieces) { writeOut(String(format: "%6d -> ", id) + "'\(piece)'\n") }
        }
    }
}
