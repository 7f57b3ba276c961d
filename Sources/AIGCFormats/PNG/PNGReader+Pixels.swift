// From IDAT to 8-bit pixels: inflate the zlib stream, undo the per-row filters (spec section 9:
// None, Sub, Up, Average, Paeth, on bytes, with `bpp` = bytes per complete pixel, at least 1),
// then convert samples. Conversions: 16-bit samples are rounded to 8 bits, (v * 255 + 32767) /
// 65535; 1/2/4-bit gray is scaled to 0...255; palette indices become RGB, or RGBA when tRNS gives
// alphas; a tRNS colour key on gray or RGB adds an alpha channel (0 where the pixel equals the key).

extension PNGChunks {
    /// The image as 8-bit samples, and the channel count they have.
    func decodePixels() throws -> (channels: Int, samples: [UInt8]) {
        let h = header!
        let bitsPerPixel = h.fileChannels * h.bitDepth
        let rowBytes = (h.width * bitsPerPixel + 7) / 8, bpp = max(1, bitsPerPixel / 8)
        // Deflate expands at most 1032:1; refuse before allocating when the IDAT data is too small
        // to hold the image IHDR claims (a 100-byte file must not make us allocate 512 MiB).
        let rawCount = h.height * (rowBytes + 1), compressed = idat.reduce(0) { $0 + $1.count }
        guard rawCount <= compressed * 1032 + 1024 else {
            throw fail("IDAT", idatOffset, "\(compressed) bytes", "too little compressed data for a \(h.width)x\(h.height) image: the file is truncated or corrupt")
        }
        var raw = [UInt8](repeating: 0, count: rawCount)
        let outcome = raw.withUnsafeMutableBytes { PNGZlib.inflate(idat, into: $0) }
        switch outcome {
        case let .complete(produced) where produced < raw.count, let .truncated(produced) where produced < raw.count:
            throw fail("IDAT", idatOffset, "\(produced) of \(raw.count) bytes",
                       "the image data ends early (\(produced / (rowBytes + 1)) of \(h.height) rows): the file is truncated or corrupt")
        case let .corrupt(_, message):
            throw fail("IDAT", idatOffset, "zlib stream", "corrupt compressed image data (\(message))")
        default:
            break  // complete; or every row present and only the stream's end missing or extra: keep the pixels
        }
        try raw.withUnsafeMutableBufferPointer { try unfilter($0, rows: h.height, rowBytes: rowBytes, bpp: bpp) }
        return try convert(raw, rowBytes: rowBytes)
    }

    func unfilter(_ data: UnsafeMutableBufferPointer<UInt8>, rows: Int, rowBytes: Int, bpp: Int) throws {
        let zeros = [UInt8](repeating: 0, count: rowBytes)
        try zeros.withUnsafeBufferPointer { zeros in
            for y in 0..<rows {
                let start = y * (rowBytes + 1)
                let row = UnsafeMutableBufferPointer(rebasing: data[(start + 1)..<(start + 1 + rowBytes)])
                let prior = y == 0 ? zeros : UnsafeBufferPointer(rebasing: data[(start - rowBytes)..<start])
                let first = min(bpp, rowBytes)
                switch data[start] {
                case 0: break
                case 1: for i in first..<rowBytes { row[i] &+= row[i - bpp] }
                case 2: for i in 0..<rowBytes { row[i] &+= prior[i] }
                case 3:
                    for i in 0..<first { row[i] &+= prior[i] >> 1 }
                    for i in first..<rowBytes { row[i] &+= UInt8((Int(row[i - bpp]) + Int(prior[i])) >> 1) }
                case 4:
                    for i in 0..<first { row[i] &+= prior[i] }
                    for i in first..<rowBytes { row[i] &+= PNGWriter.paeth(row[i - bpp], prior[i], prior[i - bpp]) }
                case let type:
                    throw fail("IDAT", idatOffset, "filter type \(type) on row \(y)", "filter types are 0-4: the image data is corrupt")
                }
            }
        }
    }

    /// Filtered rows (filter bytes still in place, now ignored) to interleaved 8-bit samples.
    func convert(_ raw: [UInt8], rowBytes: Int) throws -> (channels: Int, samples: [UInt8]) {
        let h = header!
        let inChannels = h.fileChannels, depth = h.bitDepth
        let keyed = transparency != nil && (h.colorType == 0 || h.colorType == 2)
        let outChannels = h.colorType == 3 ? (transparency == nil ? 3 : 4) : inChannels + (keyed ? 1 : 0)
        var out = [UInt8](repeating: 0, count: h.width * h.height * outChannels)
        if depth == 8 && h.colorType != 3 && !keyed {
            for y in 0..<h.height { out.replaceSubrange((y * rowBytes)..<((y + 1) * rowBytes), with: raw[(y * (rowBytes + 1) + 1)..<((y + 1) * (rowBytes + 1))]) }
            return (outChannels, out)
        }
        // A colour key is given in 16-bit words; with fewer bits the high bits must be zero to match.
        var key: [Int] = []
        if keyed, let t = transparency {
            for i in Swift.stride(from: 0, to: t.count, by: 2) { key.append(Int(t[i]) << 8 | Int(t[i + 1])) }
        }
        // Rounded for 16 bits; exact for 1/2/4 bits, where 255 is a multiple of 2^depth - 1.
        let divisor = depth == 16 ? 65535 : (1 << depth) - 1, rounding = depth == 16 ? 32767 : 0
        let paletteEntries = (palette?.count ?? 0) / 3
        var samples = [Int](repeating: 0, count: inChannels)
        try raw.withUnsafeBufferPointer { raw in
            try out.withUnsafeMutableBufferPointer { out in
                var o = 0
                for y in 0..<h.height {
                    let row = raw.baseAddress! + y * (rowBytes + 1) + 1
                    for x in 0..<h.width {
                        for c in 0..<inChannels { samples[c] = sample(row, x * inChannels + c, depth: depth) }
                        if h.colorType == 3 {
                            let index = samples[0]
                            guard index < paletteEntries else {
                                throw fail("IDAT", idatOffset, "palette index \(index) at (\(x), \(y))", "outside the PLTE of \(paletteEntries) entries")
                            }
                            for c in 0..<3 { out[o + c] = palette![index * 3 + c] }
                            if let alphas = transparency { out[o + 3] = index < alphas.count ? alphas[index] : 255 }
                        } else {
                            for c in 0..<inChannels { out[o + c] = UInt8((samples[c] * 255 + rounding) / divisor) }
                            if keyed { out[o + inChannels] = samples == key ? 0 : 255 }
                        }
                        o += outChannels
                    }
                }
            }
        }
        return (outChannels, out)
    }

    /// Sample `i` of a row at `depth` bits (big-endian for 16; most significant bits first below 8).
    @inline(__always)
    func sample(_ row: UnsafePointer<UInt8>, _ i: Int, depth: Int) -> Int {
        switch depth {
        case 16: return Int(row[2 * i]) << 8 | Int(row[2 * i + 1])
        case 8: return Int(row[i])
        default:
            let bit = i * depth
            return Int(row[bit >> 3] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1)
        }
    }
}
