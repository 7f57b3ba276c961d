// Resumable downloads against a loopback server (Tests/Fixtures/http/range_server.py): a partial file
// is completed with a Range request, a dropped connection leaves a partial that the next run finishes.
import AIGCGeneration
import AIGCTestSupport
import Foundation
import Testing

/// A running range_server.py; reads its port and request log.
final class RangeServer {
    let process = Process()
    let output = Pipe()
    let port: Int
    private var reader: FileHandle { output.fileHandleForReading }

    init(file: URL, options: [String] = []) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Fixtures.fixture("http/range_server.py"), file.path] + options
        process.standardOutput = output
        try process.run()
        var line = ""
        while !line.hasSuffix("\n") {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty { break }
            line += String(decoding: byte, as: UTF8.self)
        }
        port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// Request lines logged so far (stops the server).
    func stop() -> [String] {
        // SIGKILL: a child started from a dispatch worker thread inherits its blocked SIGTERM.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return String(decoding: reader.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n").map(String.init)
    }

    var url: URL { URL(string: "http://127.0.0.1:\(port)/model.bin")! }
}

@Suite(.serialized) struct DownloaderTests {
    let folder = Fixtures.temporaryDirectory("download")
    let source: URL
    let content: [UInt8]

    init() throws {
        var rng = TestRandom(seed: 12)
        content = rng.bytes(3 << 20)
        source = folder.appendingPathComponent("source.bin")
        try Data(content).write(to: source)
    }

    @Test func resumesAPartialFileWithARangeRequest() throws {
        let server = try RangeServer(file: source)
        let partial = folder.appendingPathComponent("resume.part")
        try Data(content.prefix(1 << 20)).write(to: partial)
        try Downloader.download(server.url, to: partial.path) { _ in }
        let log = server.stop()
        #expect(try [UInt8](Data(contentsOf: partial)) == content)
        #expect(log.contains("request 1 range=bytes=\(1 << 20)-"), "\(log)")
    }

    @Test func aDroppedConnectionIsFinishedByTheNextRun() throws {
        let server = try RangeServer(file: source, options: ["--cut", "700000"])
        let partial = folder.appendingPathComponent("dropped.part")
        #expect(throws: (any Error).self) { try Downloader.download(server.url, to: partial.path) { _ in } }
        let kept = (try? Data(contentsOf: partial).count) ?? 0
        #expect(kept > 0 && kept < content.count, "the partial file keeps what arrived (\(kept) bytes)")
        try Downloader.download(server.url, to: partial.path) { _ in }
        let log = server.stop()
        #expect(try [UInt8](Data(contentsOf: partial)) == content)
        #expect(log.contains { $0.hasPrefix("request 2 range=bytes=\(kept)-") }, "\(log)")
    }

    @Test func aServerIgnoringRangesRestartsFromZero() throws {
        let server = try RangeServer(file: source, options: ["--no-range"])
        let partial = folder.appendingPathComponent("norange.part")
        try Data(content.prefix(1000)).write(to: partial)
        try Downloader.download(server.url, to: partial.path) { _ in }
        _ = server.stop()
        #expect(try [UInt8](Data(contentsOf: partial)) == content)
    }

    @Test func aCompletePartialFileNeedsNothingMore() throws {
        let server = try RangeServer(file: source)
        let partial = folder.appendingPathComponent("complete.part")
        try Data(content).write(to: partial)
        try Downloader.download(server.url, to: partial.path) { _ in }
        _ = server.stop()
        #expect(try [UInt8](Data(contentsOf: partial)) == content)
    }
}
