// SQLite only: the file is private and in WAL mode with synchronous = NORMAL and foreign keys on, data survives
// closing and reopening, in-memory stores are private, and unusable paths give clear errors.
import AIGCTestSupport
import Foundation
import Testing

@testable import AIGCStore

@Suite struct SQLiteStoreTests {
    @Test func fileOpensInWALModeWithForeignKeys() async throws {
        try await withDatabase(.sqliteFile) { database in
            let store = try #require(try await database.open() as? SQLiteStore)
            let settings = try await store.writer.write { db in
                try ["PRAGMA journal_mode", "PRAGMA synchronous", "PRAGMA foreign_keys"].map { try GRDBRowText.value(db, $0) }
            }
            #expect(settings == ["wal", "1", "1"], "journal_mode wal, synchronous NORMAL (1), foreign_keys on")
            for suffix in ["", "-wal", "-shm"] {
                let attributes = try FileManager.default.attributesOfItem(atPath: database.location + suffix)
                #expect(attributes[.posixPermissions] as? Int == 0o600, "aigc.sqlite\(suffix) is private to its owner")
            }
            await store.close()
            #expect(FileManager.default.fileExists(atPath: database.location))
        }
    }

    @Test func dataSurvivesReopening() async throws {
        try await withDatabase(.sqliteFile) { database in
            let store = try await database.open()
            let (key, secret) = try await store.createKey(name: "persist", quotaTokens: 10, rpm: 1)
            _ = try await store.recordUsage(usage(key, prompt: 3, completion: 4))
            let conversation = try await store.createConversation(NewConversation(title: "kept", model: "tiny"))
            _ = try await store.appendMessage(to: conversation.id, NewMessage(role: .user, content: "hello"))
            await store.close()

            let reopened = try await database.open()
            #expect(try await reopened.authenticate(secret: secret) == key)
            #expect(try await reopened.tokensUsed(keyID: key.id, since: nil) == 7)
            #expect(try await reopened.conversation(id: conversation.id).messages.map(\.content) == ["hello"])
            await reopened.close()
        }
    }

    @Test func inMemoryStoresArePrivate() async throws {
        let one = try SQLiteStore.inMemory(), two = try SQLiteStore.inMemory()
        _ = try await one.createKey(name: "only-in-one", quotaTokens: nil, rpm: nil)
        #expect(try await two.listKeys().isEmpty)
        #expect(one.path == nil)
    }

    @Test func unusablePathsSayWhatIsWrong() async throws {
        let folder = Fixtures.temporaryDirectory("aigc-store")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("not-a-folder")
        try Data("x".utf8).write(to: file)
        #expect {
            _ = try SQLiteStore(path: file.appendingPathComponent("aigc.sqlite").path)
        } throws: { error in
            guard case let .cannotOpen(path, reason)? = error as? StoreError else { return false }
            return path.hasSuffix("not-a-folder/aigc.sqlite") && reason.contains("cannot create the folder")
        }
        let garbage = folder.appendingPathComponent("garbage.sqlite")
        try Data(repeating: 0x41, count: 4096).write(to: garbage)
        #expect {
            _ = try SQLiteStore(path: garbage.path)
        } throws: { error in
            guard case let .cannotOpen(_, reason)? = error as? StoreError else { return false }
            return reason.contains("not a database")
        }
    }
}
