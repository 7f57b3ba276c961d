// PNG reader and writer: fixtures from scripts/reference/make_png_fixtures.py (an independent
// encoder; Pillow agreed with its pixels) decode to exactly the expected samples, random images
// survive write -> read with every filter strategy, and broken files name the chunk at fault.
import AIGCFormats
import AIGCTestSupport
import Foundation
import Testing

struct PNGFixtureCase: Decodable {
    struct Text: Decodable {
        let kind: String, keyword: String, text: String, languageTag: String, translatedKeyword: String, compressed: Bool
    }
    let width: Int, height: Int, channels: Int
    let colorType: Int?, bitDepth: Int?
    let texts: [Text]?
    let error: String?
}

enum PNGFixtures {
    struct File: Decodable { let cases: [String: PNGFixtureCase] }

    static let cases: [String: PNGFixtureCase] = {
        let url = URL(fileURLWithPath: Fixtures.fixture("png/cases.json"))
        return (try? JSONDecoder().decode(File.self, from: Data(contentsOf: url)))?.cases ?? [:]
    }()
    static let good = cases.filter { $0.value.error == nil }.keys.sorted()
    static let broken = cases.filter { $0.value.error != nil }.keys.sorted()

    static func bytes(_ name: String) throws -> [UInt8] { try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.fixture("png/\(name)")))) }

    /// A random image whose rows mix smooth gradients and noise, so every filter type wins somewhere.
    static func randomImage(width: Int, height: Int, channels: Int, rng: inout TestRandom) -> PNGImage {
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        for y in 0..<height {
            let noisy = rng.int(0..<3) == 0
            for x in 0..<width {
                for c in 0..<channels {
                    pixels[(y * width + x) * channels + c] = noisy ? UInt8(truncatingIfNeeded: rng.next()) : UInt8(truncatingIfNeeded: x * 7 + y * 3 + c * 50)
                }
            }
        }
        return PNGImage(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// A chunk with a correct CRC (bitwise CRC-32, independent of zlib's table).
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in body {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return bigEndian(UInt32(data.count)) + body + bigEndian(~crc)
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    /// `png` with the CRC of every chunk that fits in the file recomputed.
    static func repairingCRCs(_ png: [UInt8]) -> [UInt8] {
        var out = png, at = 8
        while at + 12 <= out.count {
            let length = Int(out[at]) << 24 | Int(out[at + 1]) << 16 | Int(out[at + 2]) << 8 | Int(out[at + 3])
            guard length <= out.count - at - 12 else { break }
            let fixed = chunk(String(decoding: out[(at + 4)..<(at + 8)], as: UTF8.self), Array(out[(at + 8)..<(at + 8 + length)]))
            if fixed.count == length + 12 { out.replaceSubrange(at..<(at + 12 + length), with: fixed) }
            at += 12 + length
        }
        return out
    }

    /// (type, offset) of every chunk of a well-formed file.
    static func chunks(_ png: [UInt8]) -> [(String, Int)] {
        var out: [(String, Int)] = [], at = 8
        while at + 12 <= png.count {
            let length = Int(png[at]) << 24 | Int(png[at + 1]) << 16 | Int(png[at + 2]) << 8 | Int(png[at + 3])
            out.append((String(decoding: png[(at + 4)..<(at + 8)], as: UTF8.self), at))
            at += 12 + length
        }
        return out
    }
}

@Suite struct PNGTests {
    @Test func fixtureListIsComplete() {
        #expect(PNGFixtures.good.count == 18 && PNGFixtures.broken.count == 11, "cases.json: \(PNGFixtures.cases.keys.sorted())")
        let kinds = Set(PNGFixtures.good.compactMap { n in PNGFixtures.cases[n].map { "\($0.colorType ?? -1)/\($0.bitDepth ?? -1)" } })
        #expect(kinds.isSuperset(of: ["0/1", "0/2", "0/4", "0/8", "0/16", "2/8", "2/16", "3/1", "3/2", "3/4", "3/8", "4/8", "4/16", "6/8", "6/16"]))
    }

    @Test(arguments: PNGFixtures.good)
    func fixtureDecodesToExpectedPixels(name: String) throws {
        let info = try #require(PNGFixtures.cases[name])
        let image = try PNGReader.read(path: Fixtures.fixture("png/\(name).png"))
        #expect(image.width == info.width && image.height == info.height && image.channels == info.channels)
        let expected = try PNGFixtures.bytes("\(name).raw")
        #expect(image.pixels == expected, "\(name): first difference at \(zip(image.pixels, expected).enumerated().first { $1.0 != $1.1 }?.offset ?? -1)")
    }

    @Test func textChunksOfEveryKindDecode() throws {
        let image = try PNGReader.read(path: Fixtures.fixture("png/text_chunks.png"))
        let expected = try #require(PNGFixtures.cases["text_chunks"]?.texts)
        #expect(image.textChunks.count == expected.count)
        for (chunk, e) in zip(image.textChunks, expected) {
            #expect(chunk.kind.rawValue == e.kind && chunk.keyword == e.keyword && chunk.text == e.text)
            #expect(chunk.languageTag == e.languageTag && chunk.translatedKeyword == e.translatedKeyword && chunk.compressed == e.compressed)
        }
        #expect(image.text("Title") == "Caf\u{E9} at night")
    }

    @Test(arguments: PNGFixtures.broken)
    func brokenFixtureNamesTheChunk(name: String) throws {
        let mention = try #require(PNGFixtures.cases[name]?.error)
        expectFormatError(containing: mention) { _ = try PNGReader.read(path: Fixtures.fixture("png/\(name).png")) }
    }

    @Test(arguments: [(1, 1), (3, 7), (33, 17), (64, 2)])
    func randomImagesSurviveWriteThenRead(width: Int, height: Int) throws {
        var rng = TestRandom(seed: UInt64(width * 1000 + height))
        let strategies: [PNGWriter.FilterStrategy] = [.adaptive, .fixed(0), .fixed(1), .fixed(2), .fixed(3), .fixed(4)]
        for channels in 1...4 {
            let image = PNGFixtures.randomImage(width: width, height: height, channels: channels, rng: &rng)
            for (i, strategy) in strategies.enumerated() {
                let options = PNGWriter.Options(compressionLevel: Int32(i % 10), filter: strategy, maxIDATBytes: 1 + i * 37)
                let decoded = try PNGReader.decode(try PNGWriter.encode(image, options: options))
                #expect(decoded == image, "seed \(rng.seed): \(width)x\(height)x\(channels) with \(strategy)")
            }
        }
    }

    @Test func writerStoresEveryTextKindAndChecksKeywords() throws {
        let texts = [
            PNGTextChunk(.tEXt, keyword: "Title", text: "Caf\u{E9}"),
            PNGTextChunk(.zTXt, keyword: "Comment", text: String(repeating: "squeeze ", count: 50)),
            PNGTextChunk(.iTXt, keyword: "Description", text: "人工智能生成", languageTag: "zh-CN", translatedKeyword: "描述"),
            PNGTextChunk(.iTXt, keyword: "Packed", text: String(repeating: "✓", count: 300), compressed: true),
        ]
        let image = PNGImage(width: 2, height: 2, channels: 3, pixels: Array(0..<12), textChunks: texts)
        let png = try PNGWriter.encode(image)
        #expect(try PNGReader.decode(png) == image)
        #expect(PNGFixtures.chunks(png).map(\.0) == ["IHDR", "tEXt", "zTXt", "iTXt", "iTXt", "IDAT", "IEND"])
        for bad in [PNGTextChunk(.tEXt, keyword: "", text: "x"), PNGTextChunk(.tEXt, keyword: String(repeating: "k", count: 80), text: "x"),
                    PNGTextChunk(.iTXt, keyword: "标签", text: "x"), PNGTextChunk(.tEXt, keyword: "T", text: "生成"),
                    PNGTextChunk(.tEXt, keyword: " lead", text: "x")] {
            var labelled = image
            labelled.textChunks = [bad]
            expectFormatError(containing: "\(bad.kind.rawValue) chunk") { _ = try PNGWriter.encode(labelled) }
        }
    }

    @Test func corruptingAnyChunkNamesIt() throws {
        var rng = TestRandom(seed: 3)
        var image = PNGFixtures.randomImage(width: 9, height: 5, channels: 4, rng: &rng)
        image.textChunks = [PNGTextChunk(.zTXt, keyword: "Comment", text: "hello")]
        let png = try PNGWriter.encode(image)
        for (type, offset) in PNGFixtures.chunks(png) {
            var bad = png
            bad[offset + 8] ^= 0x40  // first data byte (the CRC itself for IEND): the CRC no longer matches
            expectFormatError(containing: "\(type) chunk") { _ = try PNGReader.decode(bad) }
        }
    }

    @Test func handBuiltBadFilesGiveFormatErrors() throws {
        let png = try PNGWriter.encode(PNGImage(width: 3, height: 3, channels: 1, pixels: Array(0..<9)))
        let ihdr = PNGFixtures.chunks(png)[0].1, idat = try #require(PNGFixtures.chunks(png).first { $0.0 == "IDAT" }?.1)
        func header(_ w: UInt32, _ h: UInt32, depth: UInt8 = 8, color: UInt8 = 0, interlace: UInt8 = 0) -> [UInt8] {
            Array(png[0..<8]) + PNGFixtures.chunk("IHDR", PNGFixtures.bigEndian(w) + PNGFixtures.bigEndian(h) + [depth, color, 0, 0, interlace]) + Array(png[(ihdr + 25)...])
        }
        expectFormatError(containing: "signature") { _ = try PNGReader.decode(Array("GIF89a".utf8) + png) }
        expectFormatError(containing: "signature") { _ = try PNGReader.decode([]) }
        expectFormatError(containing: "IHDR chunk") { _ = try PNGReader.decode(header(70_000, 70_000)) }
        expectFormatError(containing: "IHDR chunk") { _ = try PNGReader.decode(header(UInt32.max, 1)) }
        expectFormatError(containing: "IHDR chunk") { _ = try PNGReader.decode(header(0, 3)) }
        expectFormatError(containing: "IHDR chunk") { _ = try PNGReader.decode(header(3, 3, depth: 16, color: 3)) }
        expectFormatError(containing: "Adam7") { _ = try PNGReader.decode(header(3, 3, interlace: 1)) }
        expectFormatError(containing: "IDAT chunk") { _ = try PNGReader.decode(Array(png[..<(idat + 10)])) }
        let unknown = Array(png[..<idat]) + PNGFixtures.chunk("QQQQ", [1, 2]) + Array(png[idat...])
        expectFormatError(containing: "unknown critical chunk 'QQQQ'") { _ = try PNGReader.decode(unknown) }
        let ancillary = Array(png[..<idat]) + PNGFixtures.chunk("qqQq", [1, 2]) + Array(png[idat...])
        #expect(try PNGReader.decode(ancillary).pixels == Array(0..<9), "unknown ancillary chunks are skipped")
    }

    /// Half the cases get their CRCs repaired after the mutation, so the corruption reaches IHDR
    /// checks, zlib, the filters, palette lookups and text parsing instead of stopping at the CRC.
    @Test func mutatedPNGsNeverCrash() throws {
        var seeds = [try PNGFixtures.bytes("text_chunks.png"), try PNGFixtures.bytes("palette_depth4_trns.png"), try PNGFixtures.bytes("color6_depth16.png"),
                     try PNGFixtures.bytes("color0_depth2.png"), try PNGFixtures.bytes("rgb16_trns_key.png")]
        var seedRNG = TestRandom(seed: 11)
        var labelled = PNGFixtures.randomImage(width: 17, height: 9, channels: 3, rng: &seedRNG)
        labelled.addAIGCLabel(AIGCLabel(contentProducer: "fuzz", produceID: "f-1"), record: AIGCGenerationRecord(model: "m"))
        seeds.append(try PNGWriter.encode(labelled))
        var rng = TestRandom(seed: 0xB16_F00D)
        var decoded = [0, 0]
        let cases = max(4000, Fuzz.cases)
        for i in 0..<cases {
            let seed = seeds[i % seeds.count]
            var bytes = Fuzz.mutate(seed, hot: seed.count, &rng)
            if i % 2 == 1 { bytes = PNGFixtures.repairingCRCs(bytes) }
            do {
                let image = try PNGReader.decode(bytes, file: "fuzz.png")
                #expect(image.pixels.count == image.width * image.height * image.channels)
                _ = try? image.aigcLabels()
                _ = try? image.generationRecords()
                decoded[i % 2] += 1
            } catch is FormatError {
                continue
            } catch {
                Issue.record("case \(i) (seed \(rng.seed)): untyped error \(type(of: error)): \(error)")
            }
        }
        print("PNG fuzz over \(cases) cases: decoded \(decoded[0]) of the raw mutations, \(decoded[1]) of the CRC-repaired ones; the rest threw FormatErrors")
        #expect(decoded[0] < cases / 4, "most raw corruptions break a CRC")
    }
}
