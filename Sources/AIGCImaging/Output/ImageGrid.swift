// ImageGrid: n images tiled row by row into one 8-bit picture (torchvision.utils.make_grid without
// padding), values in [0, 1] rounded to 0...255 the way torchvision's save_image does
// (x * 255 + 0.5, clamped, truncated).
import AIGCFormats
import AIGCLayers

/// Tiles batches of images into one picture.
public enum ImageGrid {
    /// Columns and rows for `count` images: ceil(sqrt(count)) columns (4 x 4 for 16, 2 x 2 for 4,
    /// 3 x 2 for 5), the last row left black where it is not full.
    public static func layout(count: Int) -> (columns: Int, rows: Int) {
        var columns = 1
        while columns * columns < count { columns += 1 }
        return (columns, (count + columns - 1) / columns)
    }

    /// The byte a value in [0, 1] becomes (values outside are clamped).
    @inline(__always)
    public static func byte(_ v: Float) -> UInt8 {
        let scaled = v * 255 + 0.5
        return scaled >= 255 ? 255 : scaled > 0 ? UInt8(scaled) : 0
    }

    /// The images of `batch` ([N, 1 or 3, H, W] in [0, 1]) tiled into one gray or RGB picture.
    public static func tile(_ batch: ImageTensor, columns: Int? = nil) -> PNGImage {
        precondition(batch.channels == 1 || batch.channels == 3, "grids hold gray or RGB images, not \(batch.channels) channels")
        let columns = columns ?? layout(count: batch.batch).columns
        let rows = (batch.batch + columns - 1) / columns
        let (h, w, c) = (batch.height, batch.width, batch.channels)
        let width = columns * w, height = rows * h
        var pixels = [UInt8](repeating: 0, count: width * height * c)
        for n in 0..<batch.batch {
            let top = n / columns * h, left = n % columns * w
            for y in 0..<h {
                for x in 0..<w {
                    for k in 0..<c {
                        pixels[((top + y) * width + left + x) * c + k] = byte(batch.values[((n * c + k) * h + y) * w + x])
                    }
                }
            }
        }
        return PNGImage(width: width, height: height, channels: c, pixels: pixels)
    }
}
