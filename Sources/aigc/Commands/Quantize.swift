// aigc quantize: write a GGUF of another weight type (from GGUF, a Hugging Face folder or llama2.c).
import AIGCGeneration
import ArgumentParser
import Foundation

struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Convert a model into a GGUF file of another weight type.")

    @Argument(help: "Input model: GGUF file, Hugging Face folder, llama2.c .bin, or a model name.") var input: String
    @Argument(help: "Output GGUF path.") var output: String
    @Option(help: "Weight type: \(QuantizationTarget.allCases.map(\.rawValue).joined(separator: ", ")).") var type: String
    @Option(help: "Tokenizer for inputs that do not carry one (llama2.c).") var tokenizer: String?

    func validate() throws {
        if QuantizationTarget(rawValue: type.lowercased()) == nil {
            throw ValidationError("--type must be one of \(QuantizationTarget.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let (path, _) = try ModelStore().resolve(input)
        let bar = ProgressBar(label: "quantizing")
        try ModelConverter.quantize(input: path, output: output, target: QuantizationTarget(rawValue: type.lowercased())!,
                                    tokenizerPath: tokenizer) { p in
            bar.update(done: Int64(p.done), total: Int64(p.total), force: p.done == p.total)
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
        bar.finish("wrote \(output) (\(String(format: "%.1f MB", Double(size ?? 0) / 1e6)), \(type.uppercased()))")
    }
}
