// im2col and col2im: the patch matrix that turns a convolution into one matrix product, and its
// adjoint (scatter-add) that turns a transposed convolution into a product plus col2im. Ports
// pytorch/pytorch aten/src/ATen/native/im2col.h @ 131c37be7853b60a8db38e521b5912464e86b5a8
// (Caffe's layout: row (c * kH + i) * kW + j of the patch matrix holds tap (i, j) of channel c for
// every output position), with the bounds worked out per row so the inner loops are plain copies,
// and with a `replicate` padding mode (nn.Conv2d padding_mode='replicate') added.

/// Writes the patch matrix of `channels` planes of `height` x `width` for output positions
/// `positions` (flattened as oh * outWidth + ow) into `col`: row r = (c * kH + i) * kW + j holds
/// image[c, oh*sH - pH + i*dH, ow*sW - pW + j*dW] at column p - positions.lowerBound. Rows are
/// `columnStride` floats apart (at least positions.count).
public func im2col(into col: FloatPointer, columnStride: Int, _ image: ConstFloatPointer, channels: Int, height: Int, width: Int,
                   geometry g: ConvGeometry, padding mode: PaddingMode, positions: Range<Int>) {
    let (outHeight, outWidth) = g.outputSize(height: height, width: width)
    precondition(positions.lowerBound >= 0 && positions.upperBound <= outHeight * outWidth && columnStride >= positions.count)
    for c in 0..<channels {
        let plane = image + c * height * width
        for i in 0..<g.kernelHeight {
            for j in 0..<g.kernelWidth {
                let row = col + ((c * g.kernelHeight + i) * g.kernelWidth + j) * columnStride
                let tapWidth = j * g.dilationWidth
                let valid = ConvGeometry.validRange(tap: tapWidth, stride: g.strideWidth, padding: g.paddingWidth, size: width, outputCount: outWidth)
                var p = positions.lowerBound
                while p < positions.upperBound {
                    let oh = p / outWidth, first = p - oh * outWidth
                    let last = min(outWidth, first + positions.upperBound - p)
                    // `out[ow]` is the column of output position (oh, ow).
                    let out = row + (p - positions.lowerBound) - first
                    p += last - first
                    var ih = oh * g.strideHeight - g.paddingHeight + i * g.dilationHeight
                    if ih < 0 || ih >= height {
                        if mode == .zeros {
                            (out + first).update(repeating: 0, count: last - first)
                            continue
                        }
                        ih = min(max(ih, 0), height - 1)
                    }
                    copyRow(into: out, plane + ih * width, width: width, offset: tapWidth - g.paddingWidth, stride: g.strideWidth,
                            columns: first..<last, valid: valid, mode: mode)
                }
            }
        }
    }
}

/// out[ow] = src[ow * stride + offset] for ow in `columns`, padding outside `valid`.
@inline(__always)
private func copyRow(into out: FloatPointer, _ src: ConstFloatPointer, width: Int, offset: Int, stride: Int,
                     columns: Range<Int>, valid: Range<Int>, mode: PaddingMode) {
    let lower = min(max(valid.lowerBound, columns.lowerBound), columns.upperBound)
    let upper = min(max(valid.upperBound, lower), columns.upperBound)
    let left: Float = mode == .zeros ? 0 : src[0], right: Float = mode == .zeros ? 0 : src[width - 1]
    for ow in columns.lowerBound..<lower { out[ow] = left }
    if stride == 1 {
        (out + lower).update(from: src + lower + offset, count: upper - lower)
    } else {
        for ow in lower..<upper { out[ow] = src[ow * stride + offset] }
    }
    for ow in upper..<columns.upperBound { out[ow] = right }
}

/// Adds the patch matrix `col` (rows (c * kH + i) * kW + j, one column per input position of
/// `inHeight` x `inWidth`, rows `columnStride` floats apart) into `image` ([channels, outHeight,
/// outWidth], already holding the bias or zeros): image[c, h*sH - pH + i*dH, w*sW - pW + j*dW] +=
/// col[row, h * inWidth + w]. Positions that fall outside the image are dropped (zero padding).
public func col2imAdd(into image: FloatPointer, _ col: ConstFloatPointer, columnStride: Int, channels: Int,
                      inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int, geometry g: ConvGeometry) {
    for c in 0..<channels {
        let plane = image + c * outHeight * outWidth
        for i in 0..<g.kernelHeight {
            let rows = ConvGeometry.validRange(tap: i * g.dilationHeight, stride: g.strideHeight, padding: g.paddingHeight,
                                               size: outHeight, outputCount: inHeight)
            for j in 0..<g.kernelWidth {
                let source = col + ((c * g.kernelHeight + i) * g.kernelWidth + j) * columnStride
                let tapWidth = j * g.dilationWidth
                let columns = ConvGeometry.validRange(tap: tapWidth, stride: g.strideWidth, padding: g.paddingWidth,
                                                      size: outWidth, outputCount: inWidth)
                let offset = tapWidth - g.paddingWidth
                for h in rows {
                    let target = plane + (h * g.strideHeight - g.paddingHeight + i * g.dilationHeight) * outWidth
                    let from = source + h * inWidth
                    if g.strideWidth == 1 {
                        add(into: target + columns.lowerBound + offset, from + columns.lowerBound, count: columns.count)
                    } else {
                        for w in columns { target[w * g.strideWidth + offset] += from[w] }
                    }
                }
            }
        }
    }
}
