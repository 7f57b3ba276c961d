// Conv2d for small images and large weights: at the 8x8 and 16x16 levels of a diffusion U-Net a
// 1280 -> 1280 3x3 convolution has 59 MB of weights and 64 or 256 output positions per image, so
// tiles of one image's positions would make sgemm pack all the weights for 64 columns, once per
// tile and image. Here the patch matrix of every image of the batch is built first, side by side
// ([K, images x positions]), and the product is split by output channels (and, for wider
// matrices, by column ranges): each task packs its slice of the weights once for all images, then
// scatters its tile of results into the NCHW output, adding the bias (and onto y when accumulating).
import AIGCKernels

extension Conv2d {
    /// The same result as the per-image tiling of `run`, for dense convolutions (groups == 1).
    func runAcrossImages(_ x: ImageTensor, into y: inout ImageTensor, accumulate: Bool, pool: ComputePool) {
        let g = geometry, mode = paddingMode, inChannels = inChannels, outChannels = outChannels
        let positions = y.height * y.width, images = x.batch, columns = images * positions
        let k = inChannels * g.kernelArea
        let patches = FloatPointer.allocate(capacity: k * columns)
        defer { patches.deallocate() }
        let (height, width) = (x.height, x.width)
        x.withPointer { input in
            // One task per image and run of channels: the patch rows of those channels at the image's columns.
            let channelRuns = max(1, min(inChannels, 2 * pool.threads / max(1, images) + 1))
            let perRun = (inChannels + channelRuns - 1) / channelRuns
            pool.parallelFor(images * channelRuns) { task, _ in
                let n = task / channelRuns, first = task % channelRuns * perRun, count = min(perRun, inChannels - first)
                guard count > 0 else { return }
                im2col(into: patches + first * g.kernelArea * columns + n * positions, columnStride: columns,
                       input + (n * inChannels + first) * height * width, channels: count, height: height, width: width,
                       geometry: g, padding: mode, positions: 0..<positions)
            }
        }
        // Tiles of (output channels, columns): columns in runs of at most 1024, channels split until
        // there are four tasks (two per thread on two cores), in multiples of 16 rows. The split
        // follows the shapes only, so one thread and two give the same bits.
        let columnTiles = (columns + 1023) / 1024, columnTile = (columns + columnTiles - 1) / columnTiles
        let channelTiles = max(1, min(outChannels / 16, (4 + columnTiles - 1) / columnTiles))
        let channelTile = ((outChannels + channelTiles - 1) / channelTiles + 15) / 16 * 16
        let scratch = FloatPointer.allocate(capacity: pool.threads * channelTile * columnTile)
        defer { scratch.deallocate() }
        let w = weight.floatPointer, b = bias?.floatPointer
        y.withMutablePointer { output in
            pool.parallelFor(channelTiles * columnTiles) { task, thread in
                let o0 = task / columnTiles * channelTile, c0 = task % columnTiles * columnTile
                let rows = min(channelTile, outChannels - o0), count = min(columnTile, columns - c0)
                guard rows > 0 else { return }
                let tile = scratch + thread * channelTile * columnTile
                matmul(into: tile, w + o0 * k, patches + c0, m: rows, n: count, k: k, ldb: columns, ldc: count)
                // Scatter: column c of the tile is position (c0 + c) % positions of image (c0 + c) / positions.
                for r in 0..<rows {
                    let bias = b?[o0 + r] ?? 0
                    var c = 0
                    while c < count {
                        let n = (c0 + c) / positions, p = (c0 + c) % positions, run = min(count - c, positions - p)
                        let target = output + (n * outChannels + o0 + r) * positions + p, source = tile + r * count + c
                        if accumulate {
                            add(into: target, source, count: run)
                            if bias != 0 { addScalar(bias, into: target, count: run) }
                        } else {
                            target.update(from: source, count: run)
                            if bias != 0 { addScalar(bias, into: target, count: run) }
                        }
                        c += run
                    }
                }
            }
        }
    }
}
