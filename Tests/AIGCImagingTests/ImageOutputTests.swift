// Grids, the visible label and the implicit label of written images: layout and rounding, the
// mark's size rule (>= 5% of the shortest side), the AIGC chunk + XMP + generation record round
// trip, the pixel digest, and whole runs of ImageGeneration with their output-path errors.
import AIGCFormats
import AIGCImaging
import AIGCLayers
import AIGCTestSupport
import Foundation
import Testing

@Suite struct ImageOutputTests {
    @Test(arguments: [(1, 1, 1), (2, 2, 1), (4, 2, 2), (5, 3, 2), (9, 3, 3), (16, 4, 4), (17, 5, 4), (256, 16, 16)])
    func gridLayout(_ count: Int, _ columns: Int, _ rows: Int) {
        #expect(ImageGrid.layout(count: count) == (columns, rows))
    }

    @Test func tilesImagesRowByRowAndRoundsLikeSaveImage() {
        // Three 2x2 gray images: image k is filled with value k / 2 (0, 0.5, 1).
        let values = (0..<3).flatMap { k in [Float](repeating: Float(k) / 2, count: 4) }
        let grid = ImageGrid.tile(ImageTensor(batch: 3, channels: 1, height: 2, width: 2, values: values))
        #expect(grid.width == 4 && grid.height == 4 && grid.channels == 1)
        #expect(grid.pixels[0] == 0 && grid.pixels[2] == 128 && grid.pixels[8] == 255 && grid.pixels[10] == 0, "\(grid.pixels)")
        #expect([ImageGrid.byte(-0.5), ImageGrid.byte(0.499 / 255), ImageGrid.byte(0.5 / 255), ImageGrid.byte(2)] == [0, 0, 1, 255])
        let rgb = ImageGrid.tile(ImageTensor(batch: 1, channels: 3, height: 1, width: 1, values: [1, 0, 0.5]))
        #expect(rgb.channels == 3 && rgb.pixels == [255, 0, 128])
    }

    @Test(arguments: [28, 56, 84, 112, 224, 448, 512, 1024])
    func visibleLabelIsAtLeastFivePercentAndFits(_ side: Int) throws {
        let p = try VisibleLabel.placement(width: side, height: side)
        #expect(Double(p.textHeight) >= 0.05 * Double(side), "text \(p.textHeight) px on \(side)")
        #expect(p.x >= 0 && p.y >= 0 && p.x + p.width == side && p.y + p.height == side, "flush with the bottom-right corner")
        #expect(p.lines.contains { $0.contains("AI生成") })
        if side >= 112 { #expect(p.lines == ["AI生成 / AI-generated"]) }
        var image = PNGImage(width: side, height: side, channels: 1, pixels: [UInt8](repeating: 90, count: side * side))
        try VisibleLabel.draw(on: &image)
        var lit = 0, changed: (minY: Int, maxY: Int) = (side, -1)
        for y in 0..<side {
            for x in 0..<side where image.pixels[y * side + x] != 90 {
                changed = (min(changed.minY, y), max(changed.maxY, y))
                if image.pixels[y * side + x] == 255 { lit += 1 }
            }
        }
        #expect(changed.maxY - changed.minY + 1 == p.height && lit > 0, "the box and its white text are drawn")
        #expect(image.pixels[0] == 90, "the rest of the image is untouched")
    }

    @Test func visibleLabelOnColourImagesAndTooSmallOnes() throws {
        var rgba = PNGImage(width: 120, height: 60, channels: 4, pixels: [UInt8](repeating: 7, count: 120 * 60 * 4))
        let p = try VisibleLabel.draw(on: &rgba)
        let corner = ((rgba.height - 1) * rgba.width + rgba.width - 1) * 4
        #expect(Array(rgba.pixels[corner..<(corner + 4)]) == [0, 0, 0, 255], "box is opaque black")
        #expect(p.scale == 1)
        let tiny = errorMessage { _ = try VisibleLabel.placement(width: 20, height: 20) }
        #expect(tiny.contains("too small for a legible visible label"), "\(tiny)")
    }

    @Test func labelledImageRoundTripsThroughPNG() throws {
        var image = ImageGrid.tile(ImageTensor(batch: 4, channels: 1, height: 28, width: 28, values: (0..<3136).map { Float($0 % 97) / 96 }))
        let provenance = ImageProvenance(modelPath: "/models/gan.pth", modelDigest: "sha256:abc", architecture: "dcgan", seed: 42, count: 4, steps: 1,
                                         timestamp: Date(timeIntervalSince1970: 1_800_000_000))
        let label = try LabeledImage.label(&image, provenance: provenance, visible: true, produceID: "test-0001")
        #expect(label.reservedCode1 == LabeledImage.digest(image.pixels), "the digest covers the pixels with the visible mark")
        let read = try PNGReader.decode(try PNGWriter.encode(image))
        #expect(read.pixels == image.pixels)
        let back = try #require(try read.aigcLabel())
        #expect(back.label == "1" && back.contentProducer == "aigc" && back.produceID == "test-0001" && back.reservedCode1.hasPrefix("sha256:"))
        #expect(try read.xmpLabel() == back, "the XMP label says the same")
        let record = try #require(try read.generationRecords().first)
        #expect(record.model == "/models/gan.pth" && record.modelDigest == "sha256:abc" && record.architecture == "dcgan")
        #expect(record.seed == "42" && record.count == "4" && record.steps == "1" && record.produceID == "test-0001")
        #expect(record.timestamp == "2027-01-15T08:00:00Z")
        // Two labels never share a ProduceID.
        var again = image
        #expect(try LabeledImage.label(&again, provenance: provenance, visible: false).produceID != "test-0001")
    }

    @Test func runWritesALabelledGridAndChecksTheOutputFolder() throws {
        let folder = Fixtures.temporaryDirectory("aigc-image")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("vae.png").path
        let job = ImageJob(modelPath: Fixtures.mnistModel("vae/vae.pth"), request: ImageRequest(count: 5, seed: 3), outputPath: path)
        let result = try ImageGeneration.run(job)
        #expect(result.width == 84 && result.height == 56 && result.architecture == "vae" && result.steps == 1)
        let image = try PNGReader.read(path: path)
        #expect(image.width == 84 && image.height == 56 && image.channels == 1)
        #expect(try image.aigcLabel()?.produceID == result.produceID)
        #expect(LabeledImage.digest(image.pixels) == result.pixelDigest)
        let model = try MappedFile(path: Fixtures.mnistModel("vae/vae.pth"))
        #expect(try image.generationRecords().first?.modelDigest == LabeledImage.digest(model.bytes))
        var missing = job
        missing.outputPath = folder.appendingPathComponent("no/such/folder/x.png").path
        let message = errorMessage { _ = try ImageGeneration.run(missing) }
        #expect(message.contains("the output folder does not exist"), "\(message)")
    }
}
