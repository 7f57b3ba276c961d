// A tiny built-in bitmap font for the visible "AI生成 / AI-generated" label: 8 rows per glyph,
// proportional widths. The Latin letters follow the 5x8 HD44780 character ROM (A00) shapes; the
// CJK glyphs 生 and 成 were drawn for aigc (7 and 8 columns) and checked by eye at 1x to 10x.

/// The glyphs aigc needs to write its visible label, and how to measure and draw text with them.
enum BitmapFont {
    /// Rows of every glyph (the last row holds the descender of "g").
    static let height = 8
    /// Rows above the baseline (cap height), the height that counts as "text height".
    static let capHeight = 7
    /// Empty columns between glyphs.
    static let spacing = 1

    static let glyphs: [Character: [String]] = [
        "A": [".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#", "....."],
        "I": ["###", ".#.", ".#.", ".#.", ".#.", ".#.", "###", "..."],
        "-": ["....", "....", "....", "####", "....", "....", "....", "...."],
        "/": [".....", "....#", "...#.", "..#..", ".#...", "#....", ".....", "....."],
        " ": ["..", "..", "..", "..", "..", "..", "..", ".."],
        "a": [".....", ".....", ".###.", "....#", ".####", "#...#", ".####", "....."],
        "d": ["....#", "....#", ".##.#", "#..##", "#...#", "#...#", ".####", "....."],
        "e": [".....", ".....", ".###.", "#...#", "#####", "#....", ".###.", "....."],
        "g": [".....", ".....", ".####", "#...#", "#...#", ".####", "....#", ".###."],
        "n": [".....", ".....", "#.##.", "##..#", "#...#", "#...#", "#...#", "....."],
        "r": [".....", ".....", "#.##.", "##..#", "#....", "#....", "#....", "....."],
        "t": [".#..", ".#..", "###.", ".#..", ".#..", ".#.#", "..#.", "...."],
        "生": [".#.#...", ".#####.", "#..#...", "...#...", ".#####.", "...#...", "#######", "......."],
        "成": [".....#.#", "########", ".#...#..", ".###.#.#", ".#.#.##.", ".#.#..#.", "#.##.#.#", "#...#..#"],
    ]

    /// Width in pixels of `text` at scale 1 (glyphs plus the gaps between them); nil when a
    /// character has no glyph.
    static func width(_ text: String) -> Int? {
        var total = 0
        for c in text {
            guard let g = glyphs[c] else { return nil }
            total += g[0].count
        }
        return total + max(0, text.count - 1) * spacing
    }

    /// Calls `plot(x, y)` for every lit pixel of `text` drawn at (`x`, `y`) (top left), each font
    /// pixel becoming a `scale` x `scale` block (nearest-neighbour scaling).
    static func draw(_ text: String, x: Int, y: Int, scale: Int, plot: (Int, Int) -> Void) {
        var left = x
        for c in text {
            guard let rows = glyphs[c] else { continue }
            for (r, row) in rows.enumerated() {
                for (k, cell) in row.enumerated() where cell == "#" {
                    for dy in 0..<scale {
                        for dx in 0..<scale { plot(left + k * scale + dx, y + r * scale + dy) }
                    }
                }
            }
            left += (rows[0].count + spacing) * scale
        }
    }
}
