// The blocks that diffusers' UNet2DConditionModel and AutoencoderKL share, built from weights under
// their diffusers names (resnet.py, attention.py, attention_processor.py, transformer_2d.py,
// downsampling.py, upsampling.py @ huggingface/diffusers 58eb52c080): every such name is spelled
// here once, and UNet2D.swift and AutoencoderKL.swift name only their own top-level modules.
import AIGCKernels
import AIGCLayers
import AIGCTensor

enum DiffusersBlocks {
    /// nn.Conv2d `name` with a square kernel; padding defaults to kernel / 2.
    static func conv(_ w: any WeightSource, _ name: String, in inChannels: Int, out: Int, kernel: Int, stride: Int = 1,
                     padding: Int? = nil) throws -> Conv2d {
        try Conv2d(weight: w.tensor(name + ".weight", shape: [out, inChannels, kernel, kernel]), bias: w.tensor(name + ".bias", shape: [out]),
                   stride: stride, padding: padding ?? kernel / 2)
    }

    /// nn.Linear `name` ([out, in]); with `acceptsPointwiseConv`, a 1x1 convolution's [out, in, 1, 1] too.
    static func linear(_ w: any WeightSource, _ name: String, in inChannels: Int, out: Int, bias: Bool = true,
                       acceptsPointwiseConv: Bool = false) throws -> TokenLinear {
        let pointwise = acceptsPointwiseConv && w.tensorIfPresent(name + ".weight")?.shape == [out, inChannels, 1, 1]
        let weight = try w.tensor(name + ".weight", shape: pointwise ? [out, inChannels, 1, 1] : [out, inChannels])
        return try TokenLinear(weight: weight, bias: bias ? w.tensor(name + ".bias", shape: [out]) : nil)
    }

    static func groupNorm(_ w: any WeightSource, _ name: String, channels: Int, groups: Int, eps: Float) throws -> GroupNorm {
        try GroupNorm(groups: groups, weight: w.tensor(name + ".weight", shape: [channels]), bias: w.tensor(name + ".bias", shape: [channels]),
                      channels: channels, eps: eps)
    }

    static func layerNorm(_ w: any WeightSource, _ name: String, channels: Int, eps: Float = 1e-5) throws -> LayerNorm {
        LayerNorm(weight: try w.tensor(name + ".weight", shape: [channels]), bias: try w.tensor(name + ".bias", shape: [channels]), eps: eps)
    }

    /// ResnetBlock2D under `w` (norm1, conv1, time_emb_proj when `timeChannels` is given, norm2, conv2, conv_shortcut).
    static func resnet(_ w: any WeightSource, in inChannels: Int, out: Int, timeChannels: Int?, groups: Int, eps: Float) throws -> ResnetBlock2D {
        try ResnetBlock2D(
            norm1: groupNorm(w, "norm1", channels: inChannels, groups: groups, eps: eps),
            conv1: conv(w, "conv1", in: inChannels, out: out, kernel: 3),
            timeProjection: timeChannels.map { try linear(w, "time_emb_proj", in: $0, out: out) },
            norm2: groupNorm(w, "norm2", channels: out, groups: groups, eps: eps),
            conv2: conv(w, "conv2", in: out, out: out, kernel: 3),
            shortcut: inChannels == out ? nil : conv(w, "conv_shortcut", in: inChannels, out: out, kernel: 1))
    }

    /// Downsample2D under `w` ("conv"): padding 1, or 0 with the bottom-right zero row and column (VAE encoder).
    static func downsample(_ w: any WeightSource, channels: Int, padding: Int) throws -> Downsample2D {
        Downsample2D(conv: try conv(w, "conv", in: channels, out: channels, kernel: 3, stride: 2, padding: padding), padsBottomRight: padding == 0)
    }

    /// Upsample2D under `w` ("conv").
    static func upsample(_ w: any WeightSource, channels: Int) throws -> Upsample2D {
        Upsample2D(conv: try conv(w, "conv", in: channels, out: channels, kernel: 3))
    }

    /// An attention module (`attn1`, `attn2`): to_q, to_k, to_v without biases, to_out.0 with one.
    static func attention(_ w: any WeightSource, channels: Int, contextChannels: Int?, heads: Int) throws -> MultiHeadAttention {
        let kv = contextChannels ?? channels
        return MultiHeadAttention(query: try linear(w, "to_q", in: channels, out: channels, bias: false),
                                  key: try linear(w, "to_k", in: kv, out: channels, bias: false),
                                  value: try linear(w, "to_v", in: kv, out: channels, bias: false),
                                  output: try linear(w, "to_out.0", in: channels, out: channels), heads: heads,
                                  crossAttention: contextChannels != nil)
    }

    /// Transformer2DModel under `w`: norm, proj_in, transformer_blocks.N, proj_out (1x1 convolutions,
    /// or linear maps with `linearProjection`).
    static func transformer(_ w: any WeightSource, channels c: Int, heads: Int, contextChannels: Int, groups: Int, layers: Int,
                            linearProjection: Bool) throws -> Transformer2D {
        func projection(_ name: String) throws -> TokenLinear {
            if linearProjection { return try linear(w, name, in: c, out: c) }
            return try TokenLinear(weight: w.tensor(name + ".weight", shape: [c, c, 1, 1]), bias: w.tensor(name + ".bias", shape: [c]))
        }
        let blocks = try (0..<layers).map { i -> BasicTransformerBlock in
            let b = w.scoped("transformer_blocks.\(i)")
            return BasicTransformerBlock(
                norm1: try layerNorm(b, "norm1", channels: c),
                selfAttention: try attention(b.scoped("attn1"), channels: c, contextChannels: nil, heads: heads),
                norm2: try layerNorm(b, "norm2", channels: c),
                crossAttention: try attention(b.scoped("attn2"), channels: c, contextChannels: contextChannels, heads: heads),
                norm3: try layerNorm(b, "norm3", channels: c),
                feedForwardIn: try linear(b, "ff.net.0.proj", in: c, out: 8 * c),
                feedForwardOut: try linear(b, "ff.net.2", in: 4 * c, out: c))
        }
        return Transformer2D(norm: try groupNorm(w, "norm", channels: c, groups: groups, eps: 1e-6), projectIn: try projection("proj_in"),
                             blocks: blocks, projectOut: try projection("proj_out"))
    }

    /// The VAE mid block's attention under `w`: group_norm and to_q/to_k/to_v/to_out.0 (diffusers >= 0.14)
    /// or query/key/value/proj_attn (older files), as linear maps or 1x1 convolutions.
    static func pixelAttention(_ w: any WeightSource, channels c: Int, groups: Int) throws -> AttentionBlock2D {
        let legacy = !w.contains("to_q.weight") && w.contains("query.weight")
        let names = legacy ? ["query", "key", "value", "proj_attn"] : ["to_q", "to_k", "to_v", "to_out.0"]
        let maps = try names.map { try linear(w, $0, in: c, out: c, acceptsPointwiseConv: true) }
        let attention = MultiHeadAttention(query: maps[0], key: maps[1], value: maps[2], output: maps[3], heads: 1, crossAttention: false)
        return AttentionBlock2D(norm: try groupNorm(w, "group_norm", channels: c, groups: groups, eps: 1e-6), attention: attention)
    }
}
