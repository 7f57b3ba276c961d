// The AIGC label inside an XMP packet, as the TC260 practice guide for GB 45438-2025 places it:
// namespace http://www.tc260.org.cn/ns/AIGC/1.0/, prefix TC260, element TC260:AIGC whose text is
// the label's JSON (XML-escaped). XMP: ISO 16684-1; in PNG the packet is an uncompressed iTXt chunk
// keyed "XML:com.adobe.xmp" (XMP Specification Part 3, section 1.1.5).
//
// Reading does not need a full XML parser: it finds the prefix bound to the TC260 namespace (any
// prefix, not only "TC260"), then that prefix's AIGC element (<p:AIGC>text</p:AIGC>) or attribute
// (p:AIGC="text"), and unescapes the XML entities of the text.
import Foundation

extension AIGCLabel {
    /// The TC260 namespace URI for AIGC labels in XMP.
    public static let xmpNamespace = "http://www.tc260.org.cn/ns/AIGC/1.0/"

    /// The `rdf:Description` that holds this label.
    func xmpDescription() -> String {
        """
          <rdf:Description rdf:about="" xmlns:TC260="\(AIGCLabel.xmpNamespace)">
           <TC260:AIGC>\(XMLText.escape(json))</TC260:AIGC>
          </rdf:Description>
        """
    }

    /// A complete XMP packet holding only this label.
    public func xmpPacket() -> String {
        """
        <?xpacket begin="\u{FEFF}" id="W5M0MpCehiHzreSzNTczkc9d"?>
        <x:xmpmeta xmlns:x="adobe:ns:meta/">
         <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
        \(xmpDescription())
         </rdf:RDF>
        </x:xmpmeta>
        <?xpacket end="w"?>
        """
    }

    /// `packet` with this label added as one more rdf:Description, or nil when the packet has no
    /// `</rdf:RDF>` to add it before (then the caller leaves the packet alone).
    func inserted(intoXMP packet: String) -> String? {
        guard let end = packet.range(of: "</rdf:RDF>", options: .backwards) else { return nil }
        return packet.replacingCharacters(in: end.lowerBound..<end.lowerBound, with: xmpDescription() + "\n ")
    }

    /// The label's JSON text in an XMP packet, or nil when the packet carries none.
    public static func jsonInXMP(_ packet: String) -> String? {
        for quote in ["\"", "'"] {
            var search = packet.startIndex..<packet.endIndex
            while let uri = packet.range(of: "=" + quote + xmpNamespace + quote, range: search) {
                search = uri.upperBound..<packet.endIndex
                // Walk back over the prefix name to "xmlns:".
                var start = uri.lowerBound
                while start > packet.startIndex, isNameCharacter(packet[packet.index(before: start)]) { start = packet.index(before: start) }
                let prefix = packet[start..<uri.lowerBound]
                guard packet[..<start].hasSuffix("xmlns:"), !prefix.isEmpty else { continue }
                if let text = elementText(packet, name: "\(prefix):AIGC") ?? attributeText(packet, name: "\(prefix):AIGC") {
                    return XMLText.unescape(text)
                }
            }
        }
        return nil
    }

    static func isNameCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" || c == "-" || c == "." }

    static func elementText(_ xml: String, name: String) -> String? {
        guard let open = xml.range(of: "<\(name)>"), let close = xml.range(of: "</\(name)>", range: open.upperBound..<xml.endIndex) else { return nil }
        let text = String(xml[open.upperBound..<close.lowerBound])
        if text.hasPrefix("<![CDATA["), text.hasSuffix("]]>") { return String(text.dropFirst(9).dropLast(3)).replacingOccurrences(of: "&", with: "&amp;") }
        return text
    }

    static func attributeText(_ xml: String, name: String) -> String? {
        for quote in ["\"", "'"] {
            guard let open = xml.range(of: " \(name)=\(quote)") ?? xml.range(of: "\n\(name)=\(quote)") ?? xml.range(of: "\t\(name)=\(quote)"),
                  let close = xml.range(of: quote, range: open.upperBound..<xml.endIndex) else { continue }
            return String(xml[open.upperBound..<close.lowerBound])
        }
        return nil
    }
}

/// XML character data escaping (XML 1.0 section 2.4) and the five predefined entities plus
/// numeric character references on the way back.
enum XMLText {
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    static func unescape(_ s: String) -> String {
        guard s.contains("&") else { return s }
        var out = "", rest = Substring(s)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";"), rest.distance(from: amp, to: semi) <= 10 else {
                out += "&"
                rest = rest[rest.index(after: amp)...]
                continue
            }
            let entity = rest[rest.index(after: amp)..<semi]
            let named: [Substring: String] = ["amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'"]
            if let text = named[entity] {
                out += text
            } else if entity.hasPrefix("#"), let code = entity.hasPrefix("#x") ? UInt32(entity.dropFirst(2), radix: 16) : UInt32(entity.dropFirst()),
                      let scalar = Unicode.Scalar(code) {
                out.unicodeScalars.append(scalar)
            } else {
                out += rest[amp...semi]
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }
}
