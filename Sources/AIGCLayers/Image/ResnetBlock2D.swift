// ResnetBlock2D of latent-diffusion U-Nets and VAEs (diffusers resnet.py @ 58eb52c080, the "default"
// time-embedding norm): GroupNorm + SiLU, 3x3 conv, plus a per-channel projection of the time
// embedding, GroupNorm + SiLU, 3x3 conv, added to the input (through a 1x1 conv when the channel
// count changes). GroupNorm and SiLU run as one pass per group; the time projection is the starting
// value conv1 accumulates onto and the shortcut the one conv2 accumulates onto, so the block makes
// no separate addition passes.
import AIGCKernels
import AIGCTensor

/// A residual block of two 3x3 convolutions, optionally conditioned on a time embedding.
public struct ResnetBlock2D: Sendable {
    let norm1: GroupNorm, conv1: Conv2d
    /// time_emb_proj: [out, time channels], or nil (the VAE's blocks).
    let timeProjection: TokenLinear?
    let norm2: GroupNorm, conv2: Conv2d
    /// conv_shortcut (1x1) when in and out channels differ.
    let shortcut: Conv2d?

    /// Input channels.
    public var inChannels: Int { conv1.inChannels }
    /// Output channels.
    public var outChannels: Int { conv2.outChannels }

    /// Checks that the layers chain (norm1 over the input, conv1 to out, norm2 and conv2 over out).
    public init(norm1: GroupNorm, conv1: Conv2d, timeProjection: TokenLinear?, norm2: GroupNorm, conv2: Conv2d, shortcut: Conv2d?) {
        precondition(norm1.channels == conv1.inChannels && norm2.channels == conv1.outChannels && conv2.inChannels == conv1.outChannels)
        precondition(timeProjection.map { $0.outFeatures == conv1.outChannels } ?? true, "time_emb_proj must give one value per channel")
        precondition(shortcut != nil || conv1.inChannels == conv2.outChannels, "a block that changes channels needs a shortcut")
        self.norm1 = norm1
        self.conv1 = conv1
        self.timeProjection = timeProjection
        self.norm2 = norm2
        self.conv2 = conv2
        self.shortcut = shortcut
    }

    /// x = shortcut(x) + conv2(silu(norm2(conv1(silu(norm1(x))) + time_emb_proj(t)))), in place;
    /// `activatedTime` is silu(time embedding), [batch, time channels], shared by all blocks of a
    /// U-Net. Taking x inout lets conv2 accumulate into its storage without copying it.
    public func forward(_ x: inout ImageTensor, activatedTime: [Float]? = nil, pool: ComputePool = .shared) {
        var h = x
        Profiler.measure("groupnorm") { norm1.forward(&h, activation: .silu, pool: pool) }
        var y = ImageTensor(batch: x.batch, channels: conv1.outChannels, height: x.height, width: x.width)
        if let timeProjection, let activatedTime {
            Profiler.measure("elementwise") { fillTime(&y, timeProjection, activatedTime, pool: pool) }
        }
        Profiler.measure("conv") { conv1.forward(h, addingTo: &y, pool: pool) }
        h = ImageTensor(batch: 1, channels: 1, height: 1, width: 1)  // frees the normalised input before conv2's output grows
        Profiler.measure("groupnorm") { norm2.forward(&y, activation: .silu, pool: pool) }
        if let shortcut { Profiler.measure("conv") { x = shortcut.forward(x, pool: pool) } }
        Profiler.measure("conv") { conv2.forward(y, addingTo: &x, pool: pool) }
    }

    /// y[b, c, :] = time_emb_proj(t)[b, c].
    func fillTime(_ y: inout ImageTensor, _ projection: TokenLinear, _ activatedTime: [Float], pool: ComputePool) {
        let batch = y.batch, channels = y.channels, plane = y.planeSize
        precondition(activatedTime.count == batch * projection.inFeatures, "the time embedding needs [\(batch), \(projection.inFeatures)] values")
        var shifts = [Float](repeating: 0, count: batch * channels)
        activatedTime.withUnsafeBufferPointer { t in
            shifts.withUnsafeMutableBufferPointer { projection.forward(t.baseAddress!, rows: batch, into: $0.baseAddress!, pool: pool) }
        }
        y.withMutablePointer { p in
            for i in 0..<(batch * channels) { (p + i * plane).update(repeating: shifts[i], count: plane) }
        }
    }
}
