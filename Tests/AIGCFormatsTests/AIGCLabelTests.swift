// AIGC implicit labels in PNG (shared/PROVENANCE.md): written to an `AIGC` iTXt chunk and to XMP,
// read back from either, kept intact when aigc edits an image that already carries a label.
import AIGCFormats
import AIGCTestSupport
import Foundation
import Testing

@Suite struct AIGCLabelTests {
    static let label = AIGCLabel(contentProducer: "aigc-local <test> & \"quotes\"", produceID: "aigc-0001-\u{4E2D}\u{6587}",
                                 reservedCode1: "sha256:9f86d081884c7d65\n\ttab")
    static let record = AIGCGenerationRecord(model: "dcgan-mnist", modelDigest: "sha256:abc", prompt: "a digit", negativePrompt: "blur",
                                             seed: "42", steps: "10", scheduler: "ddpm", guidance: "7.5", timestamp: "2026-11-23T12:00:00Z")

    static func image() -> PNGImage { PNGImage(width: 3, height: 2, channels: 1, pixels: [0, 50, 100, 150, 200, 250]) }

    @Test func labelJSONUsesTheStandardsKeySpellingsInOrder() throws {
        let json = AIGCLabel(contentProducer: "p", produceID: "id").json
        #expect(json == #"{"Label":"1","ContentProducer":"p","ProduceID":"id","ReservedCode1":"","ContentPropagator":"","PropagateID":"","ReservedCode2":""}"#)
        #expect(try AIGCLabel(json: Self.label.json) == Self.label, "quotes, newlines and tabs survive: \(Self.label.json)")
        let encoded = String(decoding: try JSONEncoder().encode(Self.label), as: UTF8.self)
        for key in ["Label", "ContentProducer", "ProduceID", "ReservedCode1", "ContentPropagator", "PropagateID", "ReservedCode2"] {
            #expect(encoded.contains("\"\(key)\""), "Codable keeps the spelling \(key)")
        }
    }

    @Test func labelAndRecordSurviveAPNGRoundTrip() throws {
        var image = Self.image()
        let becamePrimary = image.addAIGCLabel(Self.label, record: Self.record)
        #expect(becamePrimary)
        #expect(image.textChunks.map(\.keyword) == ["AIGC", "XML:com.adobe.xmp", "aigc:generation"])
        let decoded = try PNGReader.decode(try PNGWriter.encode(image))
        #expect(try decoded.aigcLabel() == Self.label)
        #expect(try decoded.xmpLabel() == Self.label)
        var expectedRecord = Self.record
        expectedRecord.produceID = Self.label.produceID
        #expect(try decoded.generationRecords() == [expectedRecord])
        let xmp = try #require(decoded.text(PNGImage.xmpKeyword))
        #expect(xmp.contains(#"xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/""#) && xmp.contains("<TC260:AIGC>{&quot;Label&quot;:&quot;1&quot;"))
        #expect(xmp.contains("&lt;test&gt; &amp;"), "the JSON is XML-escaped inside the element")
        #expect(decoded.textChunks.allSatisfy { $0.kind == .iTXt && !$0.compressed }, "XMP must be an uncompressed iTXt chunk")
    }

    @Test func labelIsFoundInXMPWhenTheAIGCChunkIsAbsent() throws {
        var image = Self.image()
        image.addAIGCLabel(Self.label)
        image.textChunks.removeAll { $0.keyword == PNGImage.labelKeyword }
        let decoded = try PNGReader.decode(try PNGWriter.encode(image))
        #expect(decoded.text(PNGImage.labelKeyword) == nil)
        #expect(try decoded.aigcLabel() == Self.label)
    }

    @Test func xmpFromOtherToolsIsReadWhateverThePrefixOrForm() throws {
        let json = AIGCLabel(contentProducer: "other", produceID: "x-7").json
        let escaped = json.replacingOccurrences(of: "\"", with: "&#34;")
        let packets = [
            // Element form under another prefix, single-quoted namespace, numeric character references.
            "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description rdf:about='' "
                + "xmlns:aigc='http://www.tc260.org.cn/ns/AIGC/1.0/'><aigc:AIGC>\(escaped)</aigc:AIGC></rdf:Description></rdf:RDF></x:xmpmeta>",
            // Attribute form (rdf shorthand).
            "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description rdf:about=\"\"\n xmlns:TC260=\"http://www.tc260.org.cn/ns/AIGC/1.0/\"\n"
                + " TC260:AIGC=\"\(json.replacingOccurrences(of: "\"", with: "&quot;"))\"/></rdf:RDF>",
            // CDATA.
            "<rdf:Description xmlns:TC260=\"http://www.tc260.org.cn/ns/AIGC/1.0/\"><TC260:AIGC><![CDATA[\(json)]]></TC260:AIGC></rdf:Description>",
        ]
        for packet in packets {
            var image = Self.image()
            image.textChunks = [PNGTextChunk(.iTXt, keyword: PNGImage.xmpKeyword, text: packet)]
            #expect(try image.aigcLabel()?.produceID == "x-7", "\(packet)")
        }
        var unrelated = Self.image()
        unrelated.textChunks = [PNGTextChunk(.iTXt, keyword: PNGImage.xmpKeyword, text: "<x:xmpmeta xmlns:TC260=\"http://example.com/\"><TC260:AIGC>{}</TC260:AIGC></x:xmpmeta>")]
        #expect(try unrelated.aigcLabel() == nil, "the prefix must be bound to the TC260 namespace")
    }

    @Test func editingALabelledImageKeepsTheOriginalProduceID() throws {
        // text_chunks.png carries an AIGC label with ProduceID fixture-0001 from "aigc-test".
        var image = try PNGReader.read(path: Fixtures.fixture("png/text_chunks.png"))
        let original = try #require(try image.aigcLabel())
        let originalChunks = image.textChunks
        #expect(original.produceID == "fixture-0001")
        let ours = AIGCLabel(contentProducer: "aigc-local", produceID: "aigc-0002")
        let becamePrimary = image.addAIGCLabel(ours, record: AIGCGenerationRecord(model: "upscaler"))
        #expect(!becamePrimary)
        let decoded = try PNGReader.decode(try PNGWriter.encode(image))
        #expect(Array(decoded.textChunks.prefix(originalChunks.count)) == originalChunks, "every original chunk kept as it was")
        #expect(try decoded.aigcLabel() == original)
        #expect(try decoded.aigcLabels() == [original, ours])
        let record = try #require(try decoded.generationRecords().first)
        #expect(record.sourceProduceID == "fixture-0001" && record.produceID == "aigc-0002")
        #expect(decoded.textChunks.filter { $0.keyword == PNGImage.labelKeyword }.count == 1, "no second AIGC chunk to confuse readers")
    }

    @Test func labelOnlyInXMPIsAlsoKept() throws {
        var image = Self.image()
        let first = AIGCLabel(contentProducer: "other-service", produceID: "other-1")
        image.textChunks = [PNGTextChunk(.iTXt, keyword: PNGImage.xmpKeyword, text: first.xmpPacket())]
        image.addAIGCLabel(AIGCLabel(contentProducer: "aigc-local", produceID: "aigc-3"), record: AIGCGenerationRecord(model: "m"))
        #expect(image.textChunks[0].text == first.xmpPacket())
        #expect(try image.aigcLabel() == first)
        #expect(try image.generationRecords().first?.sourceProduceID == "other-1")
    }

    @Test func unlabelledXMPFromAnotherToolGetsOurLabelAdded() throws {
        var image = Self.image()
        let packet = "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">"
            + "<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:creator>someone</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>"
        image.textChunks = [PNGTextChunk(.iTXt, keyword: PNGImage.xmpKeyword, text: packet)]
        let becamePrimary = image.addAIGCLabel(Self.label)
        #expect(becamePrimary)
        let xmp = try #require(image.text(PNGImage.xmpKeyword))
        #expect(xmp.contains("<dc:creator>someone</dc:creator>") && image.textChunks.filter { $0.keyword == PNGImage.xmpKeyword }.count == 1)
        #expect(try image.xmpLabel() == Self.label)
    }

    @Test func malformedOrForeignLabelsAreHandled() throws {
        var image = Self.image()
        image.textChunks = [PNGTextChunk(.tEXt, keyword: "AIGC", text: "{not json")]
        expectFormatError(containing: "AIGC") { _ = try image.aigcLabel() }
        image.textChunks = [PNGTextChunk(.tEXt, keyword: "AIGC", text: #"{"Label":1,"ContentProducer":"x","ProduceID":"p"}"#)]
        #expect(try image.aigcLabel() == AIGCLabel(label: "1", contentProducer: "x", produceID: "p"), "a numeric Label and missing fields are accepted")
        image.textChunks = [PNGTextChunk(.tEXt, keyword: "AIGC", text: #"{"unrelated":true}"#)]
        expectFormatError(containing: "none of Label") { _ = try image.aigcLabel() }
        #expect(try Self.image().aigcLabel() == nil)
    }
}
