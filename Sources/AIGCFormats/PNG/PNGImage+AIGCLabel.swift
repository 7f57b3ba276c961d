// Writing and reading the implicit AIGC label (shared/PROVENANCE.md) in PNG text chunks: an iTXt
// chunk keyed `AIGC` holding the label's JSON, the same label in the XMP packet (iTXt keyed
// `XML:com.adobe.xmp`), and aigc's generation record in an iTXt chunk keyed `aigc:generation`.
//
// Editing rule ("never strip or alter a label that a file already carries; keep the original
// ProduceID and add our own record"): when the image already has a label — an `AIGC` chunk or a
// TC260 label in XMP — its chunks are kept byte for byte and stay first, so every reader that
// takes the first `AIGC` chunk (or the XMP label) still reports the original ProduceID. aigc's own
// label then goes into an iTXt chunk keyed `aigc:label`, and the generation record names the
// original under `source_produce_id`. Records accumulate: each edit appends one `aigc:generation`.

extension PNGImage {
    /// The GB 45438-2025 key of the label chunk.
    public static let labelKeyword = "AIGC"
    /// The key of the XMP packet's iTXt chunk (XMP Specification Part 3).
    public static let xmpKeyword = "XML:com.adobe.xmp"
    /// The key of aigc's generation record.
    public static let generationKeyword = "aigc:generation"
    /// Where aigc keeps its own label when the image already carried one from its first producer.
    public static let additionalLabelKeyword = "aigc:label"

    /// Adds `label` (and `record`, if given) following the editing rule above. Returns true when
    /// the image was unlabelled and `label` became its primary label; false when an earlier label
    /// was kept and `label` went under `aigc:label`.
    @discardableResult
    public mutating func addAIGCLabel(_ label: AIGCLabel, record: AIGCGenerationRecord? = nil) -> Bool {
        let hasChunk = textChunks.contains { $0.keyword == PNGImage.labelKeyword }
        let xmpIndex = textChunks.firstIndex { $0.keyword == PNGImage.xmpKeyword }
        let hasXMPLabel = xmpIndex.map { AIGCLabel.jsonInXMP(textChunks[$0].text) != nil } ?? false
        let original = hasChunk || hasXMPLabel ? (try? aigcLabel()) ?? nil : nil
        if hasChunk || hasXMPLabel {
            textChunks.append(PNGTextChunk(.iTXt, keyword: PNGImage.additionalLabelKeyword, text: label.json))
        } else {
            textChunks.append(PNGTextChunk(.iTXt, keyword: PNGImage.labelKeyword, text: label.json))
            if let i = xmpIndex {
                // Another tool's XMP without a label: add ours as one more rdf:Description.
                if let merged = label.inserted(intoXMP: textChunks[i].text) { textChunks[i].text = merged }
            } else {
                textChunks.append(PNGTextChunk(.iTXt, keyword: PNGImage.xmpKeyword, text: label.xmpPacket()))
            }
        }
        if var record {
            if record.produceID == nil { record.produceID = label.produceID }
            if let original, record.sourceProduceID == nil { record.sourceProduceID = original.produceID }
            textChunks.append(PNGTextChunk(.iTXt, keyword: PNGImage.generationKeyword, text: record.json))
        }
        return !(hasChunk || hasXMPLabel)
    }

    /// The label a reader should report: the first `AIGC` text chunk, else the TC260 label in the
    /// XMP packet; nil when the image carries neither. A label that is not valid JSON throws.
    public func aigcLabel() throws -> AIGCLabel? {
        if let chunk = textChunks.first(where: { $0.keyword == PNGImage.labelKeyword }) {
            return try AIGCLabel(json: chunk.text, source: "PNG \(chunk.kind.rawValue) chunk '\(PNGImage.labelKeyword)'")
        }
        return try xmpLabel()
    }

    /// The TC260 label in the XMP packet, if any.
    public func xmpLabel() throws -> AIGCLabel? {
        for chunk in textChunks where chunk.keyword == PNGImage.xmpKeyword {
            if let json = AIGCLabel.jsonInXMP(chunk.text) { return try AIGCLabel(json: json, source: "PNG XMP packet (TC260:AIGC)") }
        }
        return nil
    }

    /// Every label the image carries, the first producer's first: the `AIGC` chunk or XMP label,
    /// then the labels of later editors (`aigc:label`).
    public func aigcLabels() throws -> [AIGCLabel] {
        var labels: [AIGCLabel] = []
        if let first = try aigcLabel() { labels.append(first) }
        for chunk in textChunks where chunk.keyword == PNGImage.additionalLabelKeyword {
            labels.append(try AIGCLabel(json: chunk.text, source: "PNG \(chunk.kind.rawValue) chunk '\(chunk.keyword)'"))
        }
        return labels
    }

    /// aigc's generation records, oldest first (one per generation or edit).
    public func generationRecords() throws -> [AIGCGenerationRecord] {
        try textChunks.filter { $0.keyword == PNGImage.generationKeyword }.map {
            try AIGCGenerationRecord(json: $0.text, source: "PNG \($0.kind.rawValue) chunk '\(PNGImage.generationKeyword)'")
        }
    }
}
