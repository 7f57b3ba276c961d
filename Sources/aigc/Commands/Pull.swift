// aigc pull: fetch a catalog model into $AIGC_HOME/models, with progress, resume and sha256 checks.
import AIGCGeneration
import ArgumentParser
import Foundation

struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Download a model from the catalog (resumes an interrupted download).")

    @Argument(help: "Model name (see `aigc models --available`).") var name: String = ModelCatalog.defaultModel

    func run() throws {
        let bar = ProgressBar(label: "downloading")
        let extract = ProgressBar(label: "unpacking  ")
        try ModelStore().pull(name) { event in
            switch event {
            case let .resolving(what): writeErr("resolving \(what)")
            case let .downloading(p):
                if p.resumedFrom > 0 && p.received == p.resumedFrom { writeErr("resuming at \(p.resumedFrom) bytes") }
                bar.update(done: p.received, total: p.total)
            case let .verifying(what): bar.finish("verifying sha256 of \(what)")
            case let .extracting(done, total): extract.update(done: Int64(done), total: Int64(total), force: done == total)
            case let .installed(m): extract.finish("installed \(m.name) (\(m.file), \(m.bytes) bytes, \(m.license))")
            case let .alreadyInstalled(m): writeErr("\(m.name) is already installed and verified")
            }
        }
    }
}
