// Conv2d for layers with few channels (a 64 -> 64 3x3 convolution, K = 576): the direct kernel of
// CKernels/conv_direct.c, which reads a padded copy of the input in place of a patch matrix 9x its
// size, and keeps 6 output channels x 16 positions in registers. im2col + sgemm reaches about half
// of the sgemm rate on such shapes (BENCHMARKS.md); from 128 channels up it matches sgemm and keeps
// those layers. Stride 1, dilation 1, groups 1 only, and only where the CPU has AVX2/FMA.
import AIGCKernels
import AIGCTensor
import CKernels

extension Conv2d {
    /// Largest input depth (in channels * kH * kW) the direct kernel takes. On one Zen 3 core it runs
    /// 64 -> 64 3x3 at 93-100 GFLOPS against 62-78 for im2col + sgemm, but 128 -> 128 at 74 against
    /// 85: from there the input rows of a tile outgrow L1 and sgemm's cache blocking wins.
    static let directMaximumDepth = 64 * 9

    /// Whether the direct kernel can compute this convolution, and is faster at it.
    static func usesDirectKernel(geometry g: ConvGeometry, groups: Int, inChannels: Int) -> Bool {
        groups == 1 && g.strideHeight == 1 && g.strideWidth == 1 && g.dilationHeight == 1 && g.dilationWidth == 1
            && g.kernelArea > 1 && inChannels * g.kernelArea <= directMaximumDepth
    }

    /// The weights in the direct kernel's layout, [ceil(out / 6)][in][kH][kW][6].
    static func packedForDirectKernel(_ weight: Tensor) -> [Float] {
        let s = weight.shape, taps = s[2] * s[3]
        let blocks = (s[0] + Int(AIGC_CONV_TILE_CHANNELS) - 1) / Int(AIGC_CONV_TILE_CHANNELS)
        var packed = [Float](repeating: 0, count: blocks * s[1] * taps * Int(AIGC_CONV_TILE_CHANNELS))
        packed.withUnsafeMutableBufferPointer {
            aigc_conv_pack_weights($0.baseAddress!, weight.floatPointer, Int64(s[0]), Int64(s[1]), Int64(taps))
        }
        return packed
    }

    /// Output positions are taken at the padded pitch (p = row * pitch + column; the columns past
    /// the output width are computed and dropped) and split into equal runs, as many per image as
    /// keep every thread busy: a task pads the input rows its run reads, for every channel, into its
    /// thread's scratch, computes every output channel of the run, then writes the valid columns
    /// into y with the bias (added onto y when accumulating). Each output is the same sum whatever
    /// the split, so any pool gives the same bits. `portable` runs the scalar C loop (for tests).
    func runDirect(_ x: ImageTensor, into y: inout ImageTensor, accumulate: Bool, pool: ComputePool, portable: Bool = false) {
        guard let packed = directWeights else { preconditionFailure("conv2d \(weight.name) has no direct-kernel weights") }
        let g = geometry, mode = paddingMode, channels = inChannels, outChannels = outChannels
        let tileChannels = Int(AIGC_CONV_TILE_CHANNELS), tilePositions = Int(AIGC_CONV_TILE_POSITIONS)
        let (height, width) = (x.height, x.width), (outHeight, outWidth) = (y.height, y.width)
        let pitch = width + 2 * g.paddingWidth, paddedHeight = height + 2 * g.paddingHeight
        let positions = outHeight * pitch
        // About 384 positions per run (the input rows of a run, for 64 channels, fill a Zen L2 share),
        // in a multiple of the thread count per batch, and whole tiles.
        var runs = max(1, (positions + 383) / 384)
        if (x.batch * runs) % pool.threads != 0 { runs += pool.threads - (x.batch * runs) % pool.threads }
        let run = ((positions + runs - 1) / runs + tilePositions - 1) / tilePositions * tilePositions
        runs = (positions + run - 1) / run
        // Rows of padded input one run reads: its own, kH - 1 below, and the tile over-read.
        let rowsPerRun = (run + tilePositions + g.kernelWidth + (g.kernelHeight - 1) * pitch + pitch - 1) / pitch + 1
        let plane = rowsPerRun * pitch
        let blocks = (outChannels + tileChannels - 1) / tileChannels
        let outStride = run + tilePositions
        let perThread = channels * plane + blocks * tileChannels * outStride
        let scratch = FloatPointer.allocate(capacity: pool.threads * perThread)
        defer { scratch.deallocate() }
        let b = bias?.floatPointer
        x.withPointer { input in
            y.withMutablePointer { output in
                packed.withUnsafeBufferPointer { w in
                    let w = w.baseAddress!
                    pool.parallelFor(x.batch * runs) { task, thread in
                        let n = task / runs, first = task % runs * run, count = min(run, positions - first)
                        let firstRow = first / pitch
                        let padded = scratch + thread * perThread, results = padded + channels * plane
                        for c in 0..<channels {
                            padRows(into: padded + c * plane, input + (n * channels + c) * height * width, height: height, width: width,
                                    padTop: g.paddingHeight, padLeft: g.paddingWidth, pitch: pitch, rows: firstRow..<(firstRow + rowsPerRun),
                                    paddedHeight: paddedHeight, mode: mode)
                        }
                        let start = Int64(first - firstRow * pitch)
                        if portable {
                            aigc_conv_direct_scalar(results, Int64(outStride), w, 0, Int64(blocks), padded, Int64(plane), Int64(pitch),
                                                    Int64(channels), Int64(g.kernelHeight), Int64(g.kernelWidth), start, Int64(count))
                        } else {
                            aigc_conv_direct_avx2(results, Int64(outStride), w, 0, Int64(blocks), padded, Int64(plane), Int64(pitch),
                                                  Int64(channels), Int64(g.kernelHeight), Int64(g.kernelWidth), start, Int64(count))
                        }
                        // Row segments of the run, keeping columns below the output width.
                        var p = first
                        while p < first + count {
                            let row = p / pitch, column = p - row * pitch, end = min(first + count, (row + 1) * pitch)
                            let valid = max(0, min(outWidth, end - row * pitch) - column)
                            if valid > 0 {
                                for o in 0..<outChannels {
                                    let bias = b?[o] ?? 0
                                    let d = output + ((n * outChannels + o) * outHeight + row) * outWidth + column
                                    let v = results + o * outStride + (p - first)
                                    if accumulate {
                                        for i in 0..<valid { d[i] += v[i] + bias }
                                    } else {
                                        for i in 0..<valid { d[i] = v[i] + bias }
                                    }
                                }
                            }
                            p = end
                        }
                    }
                }
            }
        }
    }
}

/// Rows `rows` of the padded plane (`paddedHeight` x `pitch`, the image at `padTop`, `padLeft`,
/// zeros or the nearest edge pixel around it; rows past the padded plane are zeros) into `dst`.
private func padRows(into dst: FloatPointer, _ src: ConstFloatPointer, height: Int, width: Int, padTop: Int, padLeft: Int,
                     pitch: Int, rows: Range<Int>, paddedHeight: Int, mode: PaddingMode) {
    for r in rows {
        let row = dst + (r - rows.lowerBound) * pitch
        var sr = r - padTop
        if r >= paddedHeight || (mode == .zeros && (sr < 0 || sr >= height)) {
            row.update(repeating: 0, count: pitch)
            continue
        }
        sr = min(max(sr, 0), height - 1)
        let line = src + sr * width
        let left: Float = mode == .zeros ? 0 : line[0], right: Float = mode == .zeros ? 0 : line[width - 1]
        row.update(repeating: left, count: padLeft)
        (row + padLeft).update(from: line, count: width)
        (row + padLeft + width).update(repeating: right, count: pitch - padLeft - width)
    }
}
