// The explicit (visible) label of GB 45438-2025 for images: "AI生成 / AI-generated" in a corner,
// its text at least 5% of the shortest side tall (shared/PROVENANCE.md), white on a black box so
// it reads on any background. Smaller images get a shorter form: two lines, then "AI生成" alone.
import AIGCFormats

/// Draws the visible AI-generated mark.
public enum VisibleLabel {
    /// The smallest share of the image's shortest side the text height may take.
    public static let minimumShare = 0.05

    /// Forms of the label, best first; each is a list of lines.
    static let forms: [[String]] = [["AI生成 / AI-generated"], ["AI生成", "AI-generated"], ["AI生成"]]

    /// Where and how large the label is drawn.
    public struct Placement: Sendable, Equatable {
        /// The box (text plus padding), flush with the bottom-right corner.
        public let x: Int
        /// Top row of the box.
        public let y: Int
        /// Box width in pixels.
        public let width: Int
        /// Box height in pixels.
        public let height: Int
        /// Image pixels per font pixel.
        public let scale: Int
        /// The lines of text drawn, top to bottom.
        public let lines: [String]
        /// Height of the capital letters and CJK glyphs in image pixels.
        public var textHeight: Int { BitmapFont.capHeight * scale }
    }

    /// The placement for an image of `width` x `height`: the smallest integer scale whose text is
    /// at least 5% of the shortest side, and the first form whose box fits the width and at most
    /// half the height. Throws when even "AI生成" does not fit.
    public static func placement(width: Int, height: Int) throws -> Placement {
        let minimum = Int((minimumShare * Double(min(width, height))).rounded(.up))
        let scale = max(1, (minimum + BitmapFont.capHeight - 1) / BitmapFont.capHeight)
        let padding = scale
        for lines in forms {
            let textWidth = lines.map { BitmapFont.width($0)! }.max()! * scale
            let boxWidth = textWidth + 2 * padding
            let boxHeight = lines.count * BitmapFont.height * scale + (lines.count - 1) * scale + 2 * padding
            if boxWidth <= width && boxHeight * 2 <= height {
                return Placement(x: width - boxWidth, y: height - boxHeight, width: boxWidth, height: boxHeight, scale: scale, lines: lines)
            }
        }
        throw ImagingError.labelDoesNotFit(width: width, height: height, needed: BitmapFont.width(forms.last![0])! * scale + 2 * padding)
    }

    /// Draws the label into `image` (gray, gray + alpha, RGB or RGBA) and returns where it went.
    @discardableResult
    public static func draw(on image: inout PNGImage) throws -> Placement {
        let p = try placement(width: image.width, height: image.height)
        let channels = image.channels, width = image.width
        let colorChannels = channels == 2 || channels == 4 ? channels - 1 : channels
        func paint(_ x: Int, _ y: Int, _ value: UInt8) {
            let base = (y * width + x) * channels
            for k in 0..<colorChannels { image.pixels[base + k] = value }
            if colorChannels < channels { image.pixels[base + channels - 1] = 255 }
        }
        for y in p.y..<(p.y + p.height) {
            for x in p.x..<(p.x + p.width) { paint(x, y, 0) }
        }
        for (i, line) in p.lines.enumerated() {
            let top = p.y + p.scale + i * (BitmapFont.height + 1) * p.scale
            BitmapFont.draw(line, x: p.x + p.scale, y: top, scale: p.scale) { paint($0, $1, 255) }
        }
        return p
    }
}
