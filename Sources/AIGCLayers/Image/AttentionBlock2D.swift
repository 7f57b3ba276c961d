// The single-head self-attention over pixels in the mid block of latent-diffusion VAEs (diffusers'
// Attention built with _from_deprecated_attn_block, residual_connection=True, rescale 1; the
// "AttnBlock" of the original LDM code): GroupNorm, q/k/v with biases, softmax over all pixels,
// to_out, added to the input.
import AIGCKernels

/// GroupNorm + multi-head self-attention over the pixels of an image, with a residual connection.
public struct AttentionBlock2D: Sendable {
    let norm: GroupNorm
    let attention: MultiHeadAttention

    /// `attention` must be self-attention over the normalised channels.
    public init(norm: GroupNorm, attention: MultiHeadAttention) {
        precondition(attention.contextChannels == nil && attention.channels == norm.channels, "pixel attention attends to its own channels")
        self.norm = norm
        self.attention = attention
    }

    /// x + attention(norm(x)), in place.
    public func forward(_ x: inout ImageTensor, workspace: Workspace, pool: ComputePool = .shared) {
        var normalized = x
        Profiler.measure("groupnorm") { norm.forward(&normalized, pool: pool) }
        Profiler.measure("self-attention") { attention.forward(channelMajor: normalized, addingTo: &x, workspace: workspace, pool: pool) }
    }
}
