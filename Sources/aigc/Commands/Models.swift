// aigc models: list installed models, show one, remove one.
import AIGCGeneration
import ArgumentParser
import Foundation

struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List, show and remove models.",
                                                    subcommands: [List.self, Show.self, Remove.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Installed models (and the catalog with --available).")
        @Flag(help: "Also list the catalog of models `aigc pull` can fetch.") var available = false
        @Flag(help: "JSON output.") var json = false

        func run() throws {
            let store = ModelStore()
            let installed = store.installed()
            if json {
                writeOut(try jsonLine(installed) + "\n")
                return
            }
            if installed.isEmpty { writeErr("no models installed in \(store.modelsDirectory.path); try `aigc pull \(ModelCatalog.defaultModel)`") }
            for m in installed { writeOut("\(m.name)\t\(String(format: "%.1f MB", Double(m.bytes) / 1e6))\t\(m.license)\t\(m.file)\n") }
            if available {
                writeOut("\navailable:\n")
                for e in ModelCatalog.entries { writeOut("\(e.name)\t\(e.license)\t\(e.summary)\n") }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Architecture, parameters, quantization, context and license of a model.")
        @Argument(help: "Model name or path.") var model: String
        @Flag(help: "JSON output.") var json = false

        func run() throws {
            let (path, installed) = try ModelStore().resolve(model)
            let loaded = try ModelLoader.load(path: path, name: installed?.name)
            var info = loaded.info
            info.license = info.license ?? installed?.license
            info.sha256 = installed?.sha256
            if json {
                writeOut(try jsonLine(info) + "\n")
                return
            }
            let rows: [(String, String)] = [
                ("name", info.name), ("path", info.path), ("format", info.format), ("architecture", info.architecture),
                ("parameters", String(format: "%.1fM", Double(info.parameters) / 1e6)), ("quantization", info.quantization),
                ("context", String(info.contextLength)), ("vocabulary", String(info.vocabularySize)),
                ("size", String(format: "%.1f MB", Double(info.fileBytes) / 1e6)), ("license", info.license ?? "unknown"),
                ("sha256", info.sha256 ?? "-"), ("chat template", loaded.chatTemplate == nil ? "no" : "yes"),
            ]
            for (k, v) in rows { writeOut(k.padding(toLength: 14, withPad: " ", startingAt: 0) + v + "\n") }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove an installed model.")
        @Argument(help: "Model name.") var model: String
        func run() throws {
            try ModelStore().remove(model)
            writeErr("removed \(model)")
        }
    }
}
