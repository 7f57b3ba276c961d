// Naive twins of the image kernels and layers: the PyTorch definitions (torch.nn Conv2d,
// ConvTranspose2d, BatchNorm2d, GroupNorm, Upsample, AvgPool2d/MaxPool2d, activations) written as
// plain loops in Double over NCHW arrays. Tests compare the fast paths against these.
#if canImport(Glibc)
import Glibc
#endif

extension Reference {
    /// nn.Conv2d: y[n, o, oh, ow] = bias[o] + Σ x[n, g*Cg + c, oh*s - p + i*d, ow*s - p + j*d] * w[o, c, i, j].
    public static func conv2d(_ x: [Float], batch: Int, channels: Int, height: Int, width: Int, weight: [Float], bias: [Float]?,
                              outChannels: Int, geometry g: ConvGeometry, groups: Int = 1, padding: PaddingMode = .zeros) -> [Float] {
        let (oh, ow) = g.outputSize(height: height, width: width)
        let cg = channels / groups, og = outChannels / groups
        var y = [Float](repeating: 0, count: batch * outChannels * oh * ow)
        for n in 0..<batch {
            for o in 0..<outChannels {
                let group = o / og
                for r in 0..<oh {
                    for q in 0..<ow {
                        var s = Double(bias?[o] ?? 0)
                        for c in 0..<cg {
                            for i in 0..<g.kernelHeight {
                                for j in 0..<g.kernelWidth {
                                    var ih = r * g.strideHeight - g.paddingHeight + i * g.dilationHeight
                                    var iw = q * g.strideWidth - g.paddingWidth + j * g.dilationWidth
                                    if padding == .replicate {
                                        ih = min(max(ih, 0), height - 1)
                                        iw = min(max(iw, 0), width - 1)
                                    } else if ih < 0 || ih >= height || iw < 0 || iw >= width {
                                        continue
                                    }
                                    let xv = x[((n * channels + group * cg + c) * height + ih) * width + iw]
                                    s += Double(xv) * Double(weight[((o * cg + c) * g.kernelHeight + i) * g.kernelWidth + j])
                                }
                            }
                        }
                        y[((n * outChannels + o) * oh + r) * ow + q] = Float(s)
                    }
                }
            }
        }
        return y
    }

    /// nn.ConvTranspose2d (weight [in, out / groups, kH, kW]): every input pixel scatters its
    /// weighted kernel into y[n, o, h*s - p + i*d, w*s - p + j*d]; taps outside the output are dropped.
    public static func convTranspose2d(_ x: [Float], batch: Int, channels: Int, height: Int, width: Int, weight: [Float], bias: [Float]?,
                                       outChannels: Int, geometry g: ConvGeometry, outputPadding: (Int, Int) = (0, 0),
                                       groups: Int = 1) -> [Float] {
        let (oh, ow) = g.transposedOutputSize(height: height, width: width, outputPaddingHeight: outputPadding.0,
                                              outputPaddingWidth: outputPadding.1)
        let cg = channels / groups, og = outChannels / groups
        var y = [Double](repeating: 0, count: batch * outChannels * oh * ow)
        for n in 0..<batch {
            for o in 0..<outChannels {
                for p in 0..<(oh * ow) { y[(n * outChannels + o) * oh * ow + p] = Double(bias?[o] ?? 0) }
            }
            for c in 0..<channels {
                let group = c / cg
                for h in 0..<height {
                    for w in 0..<width {
                        let xv = Double(x[((n * channels + c) * height + h) * width + w])
                        for k in 0..<og {
                            let o = group * og + k
                            for i in 0..<g.kernelHeight {
                                for j in 0..<g.kernelWidth {
                                    let r = h * g.strideHeight - g.paddingHeight + i * g.dilationHeight
                                    let q = w * g.strideWidth - g.paddingWidth + j * g.dilationWidth
                                    if r < 0 || r >= oh || q < 0 || q >= ow { continue }
                                    y[((n * outChannels + o) * oh + r) * ow + q] +=
                                        xv * Double(weight[((c * og + k) * g.kernelHeight + i) * g.kernelWidth + j])
                                }
                            }
                        }
                    }
                }
            }
        }
        return y.map { Float($0) }
    }

    /// nn.BatchNorm2d in eval mode: (x - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c].
    public static func batchNorm2d(_ x: [Float], batch: Int, channels: Int, planeSize: Int, mean: [Float], variance: [Float],
                                   weight: [Float], bias: [Float], eps: Float) -> [Float] {
        x.indices.map { i in
            let c = (i / planeSize) % channels
            return Float((Double(x[i]) - Double(mean[c])) / (Double(variance[c]) + Double(eps)).squareRoot() * Double(weight[c]) + Double(bias[c]))
        }
    }

    /// nn.GroupNorm: statistics over each group of channels of each image (biased variance).
    public static func groupNorm(_ x: [Float], batch: Int, channels: Int, planeSize: Int, groups: Int, weight: [Float]?, bias: [Float]?,
                                 eps: Float) -> [Float] {
        var y = x
        let size = channels / groups * planeSize
        for n in 0..<batch {
            for g in 0..<groups {
                let start = (n * groups + g) * size
                let values = x[start..<(start + size)].map(Double.init)
                let mean = values.reduce(0, +) / Double(size)
                let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(size)
                for k in 0..<size {
                    let c = g * (channels / groups) + k / planeSize
                    let v = (values[k] - mean) / (variance + Double(eps)).squareRoot()
                    y[start + k] = Float(v * Double(weight?[c] ?? 1) + Double(bias?[c] ?? 0))
                }
            }
        }
        return y
    }

    /// LayerNorm over the channel axis of NCHW (ConvNeXt's channels_first LayerNorm).
    public static func channelLayerNorm(_ x: [Float], batch: Int, channels: Int, planeSize: Int, weight: [Float]?, bias: [Float]?,
                                        eps: Float) -> [Float] {
        var y = x
        for n in 0..<batch {
            for p in 0..<planeSize {
                let index = (0..<channels).map { (n * channels + $0) * planeSize + p }
                let mean = index.reduce(0.0) { $0 + Double(x[$1]) } / Double(channels)
                let variance = index.reduce(0.0) { $0 + (Double(x[$1]) - mean) * (Double(x[$1]) - mean) } / Double(channels)
                for (c, i) in index.enumerated() {
                    y[i] = Float((Double(x[i]) - mean) / (variance + Double(eps)).squareRoot() * Double(weight?[c] ?? 1) + Double(bias?[c] ?? 0))
                }
            }
        }
        return y
    }

    /// nn.Upsample(scale_factor: factor, mode: 'nearest').
    public static func upsampleNearest(_ x: [Float], planes: Int, height: Int, width: Int, factor: Int) -> [Float] {
        var y = [Float](repeating: 0, count: x.count * factor * factor)
        for p in 0..<planes {
            for r in 0..<(height * factor) {
                for q in 0..<(width * factor) {
                    y[(p * height * factor + r) * width * factor + q] = x[(p * height + r / factor) * width + q / factor]
                }
            }
        }
        return y
    }

    /// nn.AvgPool2d (count_include_pad=True) or nn.MaxPool2d over `planes` planes.
    public static func pool2d(_ x: [Float], planes: Int, height: Int, width: Int, geometry g: ConvGeometry, mode: PoolingMode) -> [Float] {
        let (oh, ow) = g.outputSize(height: height, width: width)
        var y = [Float](repeating: 0, count: planes * oh * ow)
        for p in 0..<planes {
            for r in 0..<oh {
                for q in 0..<ow {
                    var values: [Double] = []
                    for i in 0..<g.kernelHeight {
                        for j in 0..<g.kernelWidth {
                            let ih = r * g.strideHeight - g.paddingHeight + i * g.dilationHeight
                            let iw = q * g.strideWidth - g.paddingWidth + j * g.dilationWidth
                            if ih >= 0 && ih < height && iw >= 0 && iw < width { values.append(Double(x[(p * height + ih) * width + iw])) }
                        }
                    }
                    let v = mode == .max ? values.max()! : values.reduce(0, +) / Double(g.kernelArea)
                    y[(p * oh + r) * ow + q] = Float(v)
                }
            }
        }
        return y
    }

    /// nn.Sigmoid.
    public static func sigmoid(_ x: [Float]) -> [Float] { x.map { Float(1 / (1 + Glibc.exp(-Double($0)))) } }
    /// nn.Tanh.
    public static func tanh(_ x: [Float]) -> [Float] { x.map { Float(Glibc.tanh(Double($0))) } }
    /// nn.SiLU.
    public static func silu(_ x: [Float]) -> [Float] { x.map { Float(Double($0) / (1 + Glibc.exp(-Double($0)))) } }
    /// nn.GELU() (erf form).
    public static func geluErf(_ x: [Float]) -> [Float] { x.map { Float(0.5 * Double($0) * (1 + Glibc.erf(Double($0) / 2.0.squareRoot()))) } }
    /// nn.LeakyReLU(slope).
    public static func leakyReLU(_ x: [Float], slope: Float) -> [Float] { x.map { $0 >= 0 ? $0 : Float(Double($0) * Double(slope)) } }
    /// nn.ReLU.
    public static func relu(_ x: [Float]) -> [Float] { x.map { max($0, 0) } }
}
