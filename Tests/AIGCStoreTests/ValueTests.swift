// Values with no database: secrets, names, prices in micro-units, --since parsing, store locations.
import AIGCStore
import Foundation
import Testing

@Suite struct SecretTests {
    @Test func secretsAreRandomBase62() {
        let secrets = (0..<2000).map { _ in APIKeySecret.generate() }
        #expect(Set(secrets).count == secrets.count)
        #expect(secrets.allSatisfy { $0.count == 37 && $0.hasPrefix("aigc-") && APIKeySecret.isWellFormed($0) })
        // Every one of the 62 characters shows up in 64,000 draws; a biased alphabet would not be uniform.
        var counts: [Character: Int] = [:]
        for secret in secrets { for character in secret.dropFirst(5) { counts[character, default: 0] += 1 } }
        #expect(counts.count == 62)
        let expected = Double(2000 * 32) / 62
        #expect(counts.values.allSatisfy { abs(Double($0) - expected) < expected * 0.2 }, "\(counts.values.min()!)...\(counts.values.max()!)")
    }

    @Test func hashesAndComparison() {
        #expect(APIKeySecret.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "SHA-256 test vector")
        #expect(APIKeySecret.constantTimeEquals("abcd", "abcd"))
        #expect(!APIKeySecret.constantTimeEquals("abcd", "abce"))
        #expect(!APIKeySecret.constantTimeEquals("abcd", "abc"))
    }

    @Test(arguments: ["a", "ci", "alice-laptop", "v1.2_test", "7eleven"])
    func goodNames(name: String) throws {
        try APIKeySecret.validateName(name)
    }
}

@Suite struct PriceTests {
    @Test(arguments: [("0", 0), ("1", 1_000_000), ("0.5", 500_000), (".25", 250_000), ("0.000001", 1), ("12.345678", 12_345_678),
                      ("1000", 1_000_000_000)] as [(String, Int64)])
    func decimalsParseExactly(text: String, micros: Int64) throws {
        #expect(try Micros.parse(text) == micros)
    }

    @Test(arguments: ["", ".", "-1", "1e3", "0.0000001", "1,5", "abc", "1000.000001", " 1"])
    func badDecimalsAreRefused(text: String) {
        #expect(throws: StoreError.self) { try Micros.parse(text) }
    }

    @Test func formatting() {
        #expect(Micros.format(0) == "0.000000")
        #expect(Micros.format(1_500) == "0.001500")
        #expect(Micros.format(12_345_678) == "12.345678")
        #expect(Micros.format(-5) == "-0.000005")
    }

    @Test func costsRoundHalfUpPerRequest() throws {
        let price = try Price(prompt: "0.001", completion: "0.003")  // 1000 and 3000 micro-units per 1k tokens
        #expect(price.cost(promptTokens: 0, completionTokens: 0) == 0)
        #expect(price.cost(promptTokens: 1, completionTokens: 0) == 1)
        #expect(price.cost(promptTokens: 0, completionTokens: 1) == 3)
        let half = try Price(prompt: "0.0005", completion: "0")  // 0.5 micro-units per token
        #expect(half.cost(promptTokens: 1, completionTokens: 0) == 1 && half.cost(promptTokens: 2, completionTokens: 0) == 1)
        let maximum = Price(promptMicrosPer1k: Price.maximumMicrosPer1k, completionMicrosPer1k: Price.maximumMicrosPer1k)
        #expect(maximum.cost(promptTokens: Int(Int32.max), completionTokens: Int(Int32.max)) == 2 * Int64(Int32.max) * 1_000_000)
    }

    @Test func tablesReadFromJSON() throws {
        let json = #"{"default": {"prompt_per_1k": "0.5", "completion_per_1k": "1.5"}, "models": {"big": {"prompt_per_1k": "3", "completion_per_1k": "15"}}}"#
        let table = try JSONDecoder().decode(PriceTable.self, from: Data(json.utf8))
        #expect(table.price(for: "big") == Price(promptMicrosPer1k: 3_000_000, completionMicrosPer1k: 15_000_000))
        #expect(table.price(for: "other") == Price(promptMicrosPer1k: 500_000, completionMicrosPer1k: 1_500_000))
        let again = try JSONDecoder().decode(PriceTable.self, from: JSONEncoder().encode(table))
        #expect(again == table)
        #expect(throws: (any Error).self) {
            try JSONDecoder().decode(PriceTable.self, from: Data(#"{"default": {"prompt_per_1k": 0.5, "completion_per_1k": "1"}, "models": {}}"#.utf8))
        }
    }
}

@Suite struct SinceTests {
    static let now = Date(timeIntervalSince1970: 1_763_900_000)

    @Test(arguments: [("90s", 90.0), ("30m", 1800), ("24h", 86_400), ("7d", 604_800), ("2w", 1_209_600), ("0h", 0)])
    func durationsCountBackFromNow(text: String, seconds: Double) throws {
        #expect(try TimeFilter.parseSince(text, now: Self.now) == Self.now.addingTimeInterval(-seconds))
    }

    @Test func isoDates() throws {
        #expect(try TimeFilter.parseSince("2025-11-01") == Date(timeIntervalSince1970: 1_761_955_200))
        #expect(try TimeFilter.parseSince("2025-11-01T08:00:00Z") == Date(timeIntervalSince1970: 1_761_984_000))
        #expect(try TimeFilter.parseSince("2025-11-01T16:00:00+08:00") == Date(timeIntervalSince1970: 1_761_984_000))
        #expect(try TimeFilter.parseSince("2025-11-01T08:00:00.500Z") == Date(timeIntervalSince1970: 1_761_984_000.5))
    }

    @Test(arguments: ["", "yesterday", "24", "h", "-3h", "7y", "2025-13-01", "2025-11-01T08:00:00", "1.5h"])
    func badSinceIsRefused(text: String) {
        #expect(throws: StoreError.self) { try TimeFilter.parseSince(text, now: Self.now) }
    }
}

@Suite struct StoreLocationTests {
    @Test func locations() throws {
        let home = URL(fileURLWithPath: "/data/aigc")
        #expect(try StoreLocation.resolve(databaseURL: nil, home: home) == .sqlite(path: "/data/aigc/aigc.sqlite"))
        #expect(try StoreLocation.resolve(databaseURL: "  ", home: home) == .sqlite(path: "/data/aigc/aigc.sqlite"))
        #expect(try StoreLocation.resolve(databaseURL: "postgres://u@h/d", home: home) == .postgres(url: "postgres://u@h/d"))
        #expect(try StoreLocation.resolve(databaseURL: "POSTGRESQL://u@h/d", home: home) == .postgres(url: "POSTGRESQL://u@h/d"))
        #expect(try StoreLocation.resolve(databaseURL: "sqlite:///tmp/x.sqlite", home: home) == .sqlite(path: "/tmp/x.sqlite"))
        #expect(try StoreLocation.resolve(databaseURL: "/tmp/y.sqlite", home: home) == .sqlite(path: "/tmp/y.sqlite"))
        #expect(throws: StoreError.self) { try StoreLocation.resolve(databaseURL: "mysql://u:pw@h/d", home: home) }
    }
}
