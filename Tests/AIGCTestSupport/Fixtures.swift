// Where tests find their data: committed fixtures under Tests/Fixtures and the shared data set.
import Foundation

public enum Fixtures {
    /// The package root (the folder holding Package.swift).
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()

    /// `../shared/data` beside the project (tokenizer vectors, tiny real models).
    public static let sharedData: URL = {
        if let env = ProcessInfo.processInfo.environment["AIGC_SHARED_DATA"] { return URL(fileURLWithPath: env) }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
    }()

    public static func shared(_ relative: String) -> String { sharedData.appendingPathComponent(relative).path }

    /// A committed fixture: Tests/Fixtures/<relative>.
    public static func fixture(_ relative: String) -> String {
        packageRoot.appendingPathComponent("Tests/Fixtures").appendingPathComponent(relative).path
    }

    /// A fresh temporary directory, removed by the caller (or left for the OS).
    public static func temporaryDirectory(_ name: String = "aigc-test") -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

extension Fixtures {
    /// The float32 values of a raw little-endian `.f32` fixture (numpy's `tofile` of a `<f4` array).
    public static func floats(_ relative: String) throws -> [Float] {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixture(relative)))
        precondition(data.count % 4 == 0, "\(relative): \(data.count) bytes is not a whole number of floats")
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    /// The real MNIST checkpoints of the shared data set (gan/generator.pth, vae/vae.pth, ...).
    public static func mnistModel(_ relative: String) -> String { shared("models/" + relative) }
}
