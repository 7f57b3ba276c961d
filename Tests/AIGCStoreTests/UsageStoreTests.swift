// The shared store suite, usage: records, totals per key and model, the since filter, the counts
// behind quotas and rate limits, prices, and many writers at once.
import AIGCStore
import Foundation
import Testing

/// A usage event with small defaults.
func usage(_ key: KeyRecord?, _ model: String = "tiny", prompt: Int = 10, completion: Int = 5, at: Date = Date(),
           status: Int = 200) -> UsageEvent {
    UsageEvent(keyID: key?.id, model: model, endpoint: "/v1/chat/completions", promptTokens: prompt, completionTokens: completion,
               latencyMilliseconds: 42, status: status, createdAt: at)
}

@Suite struct UsageStoreTests {
    static let prices = PriceTable(defaultPrice: Price(promptMicrosPer1k: 500, completionMicrosPer1k: 1500),
                                   models: ["big": Price(promptMicrosPer1k: 3_000_000, completionMicrosPer1k: 15_000_000)])

    @Test(arguments: Backend.underTest)
    func recordsAndTotalsPerKeyAndModel(backend: Backend) async throws {
        try await withStore(backend, prices: Self.prices) { store in
            let alice = try await store.createKey(name: "alice", quotaTokens: nil, rpm: nil).record
            let bob = try await store.createKey(name: "bob", quotaTokens: nil, rpm: nil).record
            let record = try await store.recordUsage(usage(alice, "big", prompt: 1000, completion: 2000))
            #expect(record.event.keyID == alice.id && record.event.promptTokens == 1000)
            #expect(record.priceMicros == 3_000_000 + 30_000_000, "1k prompt at 3.0 plus 2k completion at 15.0")
            _ = try await store.recordUsage(usage(alice, "big", prompt: 1, completion: 1))
            _ = try await store.recordUsage(usage(alice, "tiny"))
            _ = try await store.recordUsage(usage(bob, "tiny", status: 500))
            _ = try await store.recordUsage(usage(nil, "tiny"))

            let totals = try await store.usageTotals(keyID: nil, since: nil)
            #expect(totals.map { "\($0.keyName ?? "-") \($0.model) \($0.requests)" } == ["- tiny 1", "alice big 2", "alice tiny 1", "bob tiny 1"])
            let aliceBig = try #require(totals.first { $0.keyName == "alice" && $0.model == "big" })
            #expect(aliceBig.keyID == alice.id && aliceBig.promptTokens == 1001 && aliceBig.completionTokens == 2001)
            #expect(aliceBig.priceMicros == 33_000_000 + 18_000, "one token each at 3.0 and 15.0 per 1k: 0.018")
            #expect(totals.first { $0.keyName == nil }?.priceMicros == 13, "10 * 0.5 / 1000 + 5 * 1.5 / 1000 = 12.5, half up")

            let onlyBob = try await store.usageTotals(keyID: bob.id, since: nil)
            #expect(onlyBob.count == 1 && onlyBob[0].keyName == "bob" && onlyBob[0].requests == 1)
        }
    }

    @Test(arguments: Backend.underTest)
    func sinceFilterCountsOnlyNewerRecords(backend: Backend) async throws {
        try await withStore(backend) { store in
            let key = try await store.createKey(name: "k", quotaTokens: 100, rpm: 2).record
            let now = Date()
            _ = try await store.recordUsage(usage(key, at: now.addingTimeInterval(-7200)))
            _ = try await store.recordUsage(usage(key, at: now.addingTimeInterval(-120)))
            _ = try await store.recordUsage(usage(key, at: now.addingTimeInterval(-10)))
            _ = try await store.recordUsage(usage(nil, at: now.addingTimeInterval(-10)))

            #expect(try await store.usageTotals(keyID: nil, since: now.addingTimeInterval(-3600)).map(\.requests).reduce(0, +) == 3)
            #expect(try await store.usageTotals(keyID: key.id, since: now.addingTimeInterval(-3600)).map(\.requests) == [2])
            #expect(try await store.usageTotals(keyID: key.id, since: now.addingTimeInterval(60)).isEmpty)
            let boundary = now.addingTimeInterval(-120)
            #expect(try await store.requestCount(keyID: key.id, since: boundary) == 2, "since is inclusive")
        }
    }

    @Test(arguments: Backend.underTest)
    func quotaAndRateCounting(backend: Backend) async throws {
        try await withStore(backend) { store in
            let key = try await store.createKey(name: "k", quotaTokens: 100, rpm: 2).record
            let other = try await store.createKey(name: "other", quotaTokens: nil, rpm: nil).record
            let now = Date()
            _ = try await store.recordUsage(usage(key, prompt: 30, completion: 20, at: now.addingTimeInterval(-86_400 * 3)))
            _ = try await store.recordUsage(usage(key, prompt: 7, completion: 3, at: now.addingTimeInterval(-30)))
            _ = try await store.recordUsage(usage(key, prompt: 1, completion: 0, at: now.addingTimeInterval(-5)))
            _ = try await store.recordUsage(usage(other, prompt: 1000, completion: 1000, at: now.addingTimeInterval(-10)))

            #expect(try await store.tokensUsed(keyID: key.id, since: nil) == 61)
            #expect(try await store.tokensUsed(keyID: key.id, since: now.addingTimeInterval(-86_400)) == 11)
            #expect(try await store.requestCount(keyID: key.id, since: now.addingTimeInterval(-60)) == 2)
            #expect(try await store.requestCount(keyID: key.id, since: now.addingTimeInterval(-1)) == 0)
            #expect(try await store.tokensUsed(keyID: 424_242, since: nil) == 0, "an unknown key used nothing")
            let huge = try await store.recordUsage(usage(other, prompt: Int(Int32.max), completion: Int(Int32.max)))
            #expect(try await store.tokensUsed(keyID: other.id, since: huge.event.createdAt) == 2 * Int64(Int32.max), "sums do not overflow 32 bits")
        }
    }

    @Test(arguments: Backend.underTest)
    func pricesAreExactIntegers(backend: Backend) async throws {
        // 0.000333 per 1k prompt tokens: a price that binary floating point cannot hold exactly.
        let prices = PriceTable(defaultPrice: try Price(prompt: "0.000333", completion: "0.1"))
        try await withStore(backend, prices: prices) { store in
            var expected: Int64 = 0
            for i in 0..<200 {
                let record = try await store.recordUsage(usage(nil, prompt: 1000 * (i % 7), completion: i))
                #expect(record.priceMicros == prices.cost(model: "tiny", promptTokens: 1000 * (i % 7), completionTokens: i))
                expected += record.priceMicros
            }
            #expect(try await store.usageTotals(keyID: nil, since: nil).first?.priceMicros == expected)
        }
    }

    @Test(arguments: Backend.underTest)
    func malformedUsageIsRefused(backend: Backend) async throws {
        try await withStore(backend) { store async throws in
            for event in [usage(nil, prompt: -1), usage(nil, completion: -5), usage(nil, ""), usage(nil, status: 42)] {
                await #expect(throws: StoreError.self) { _ = try await store.recordUsage(event) }
            }
            #expect(try await store.usageTotals(keyID: nil, since: nil).isEmpty)
        }
    }

    @Test(arguments: Backend.underTest)
    func concurrentRecordsAllLand(backend: Backend) async throws {
        try await withStore(backend) { store in
            let key = try await store.createKey(name: "busy", quotaTokens: nil, rpm: nil).record
            let ids = try await withThrowingTaskGroup(of: Int64.self) { group in
                for i in 0..<200 {
                    group.addTask { try await store.recordUsage(usage(i.isMultiple(of: 2) ? key : nil, prompt: i, completion: 1)).id }
                }
                return try await group.reduce(into: Set<Int64>()) { $0.insert($1) }
            }
            #expect(ids.count == 200, "every record got its own id")
            let totals = try await store.usageTotals(keyID: nil, since: nil)
            #expect(totals.map(\.requests).reduce(0, +) == 200)
            #expect(totals.map(\.promptTokens).reduce(0, +) == Int64((0..<200).reduce(0, +)))
            #expect(try await store.requestCount(keyID: key.id, since: .distantPast) == 100)
        }
    }
}
