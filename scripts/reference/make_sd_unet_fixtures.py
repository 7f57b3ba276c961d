#!/usr/bin/env python3
"""Tiny random-weight Stable Diffusion UNet and VAE (diffusers layout) and their reference outputs,
computed with numpy only (float64 inside), written from the formulas of diffusers'
UNet2DConditionModel and AutoencoderKL (huggingface/diffusers @ 58eb52c080: unets/unet_2d_condition.py,
unets/unet_2d_blocks.py, resnet.py, attention.py, attention_processor.py, transformers/transformer_2d.py,
autoencoders/autoencoder_kl.py, autoencoders/vae.py, embeddings.py).

Writes under Tests/Fixtures/sd-tiny/:
  unet/config.json + diffusion_pytorch_model.safetensors        SD 1.x style (1x1 conv projections, 8 heads)
  unet-linear-projection/...                                      SD 2.x style (linear projections, heads per level)
  vae/config.json + diffusion_pytorch_model.safetensors          AutoencoderKL
  reference/unet.safetensors, reference/unet-linear-projection.safetensors, reference/vae.safetensors
  model_index.json                                                the pipeline's components (text_encoder/, tokenizer/
                                                                  and scheduler/ come from the text-encoder fixtures)
  unet-vae-meta.json                                              seed and library versions
Weights are stored as F16 (small files, and the loaders' F16 -> F32 path is exercised); the references
are computed from the F16-rounded values. Run from the repository root:
  python3 scripts/reference/make_sd_unet_fixtures.py
Needs: numpy, safetensors.
"""
import json
import math
import os
import sys

import numpy as np
from safetensors.numpy import save_file

sys.path.insert(0, os.path.dirname(__file__))
from numpy_image_ops import conv2d, group_norm, upsample_nearest  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "sd-tiny")
SEED = 20261206


class Params:
    """Creates each weight the first time the forward pass asks for it (random, F16-rounded), so the
    walk through the network defines the names and shapes exactly once."""

    def __init__(self, rng):
        self.rng = rng
        self.values = {}

    def get(self, name, shape, kind):
        if name in self.values:
            assert self.values[name].shape == tuple(shape), name
            return self.values[name].astype(np.float64)
        if kind == "weight":  # conv or linear: fan-in scaled
            fan_in = int(np.prod(shape[1:]))
            v = self.rng.standard_normal(shape) / math.sqrt(fan_in)
        elif kind == "norm":
            v = 1 + 0.1 * self.rng.standard_normal(shape)
        else:  # bias
            v = 0.1 * self.rng.standard_normal(shape)
        self.values[name] = v.astype(np.float16)
        return self.values[name].astype(np.float64)

    def conv(self, name, x, cin, cout, k, stride=1, padding=None):
        w = self.get(name + ".weight", (cout, cin, k, k), "weight")
        b = self.get(name + ".bias", (cout,), "bias")
        return conv2d(x, w, b, stride=stride, padding=k // 2 if padding is None else padding)

    def linear(self, name, x, cin, cout, bias=True):
        y = x @ self.get(name + ".weight", (cout, cin), "weight").T
        return y + self.get(name + ".bias", (cout,), "bias") if bias else y

    def group_norm(self, name, x, groups, eps):
        c = x.shape[1]
        return group_norm(x, groups, self.get(name + ".weight", (c,), "norm"), self.get(name + ".bias", (c,), "bias"), eps)

    def layer_norm(self, name, x, eps=1e-5):
        c = x.shape[-1]
        m = x.mean(-1, keepdims=True)
        v = ((x - m) ** 2).mean(-1, keepdims=True)
        return (x - m) / np.sqrt(v + eps) * self.get(name + ".weight", (c,), "norm") + self.get(name + ".bias", (c,), "bias")


def silu(x):
    return x / (1 + np.exp(-x))


def gelu(x):
    return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def timestep_embedding(timesteps, dim, flip_sin_to_cos=True, shift=0.0, max_period=10000):
    """embeddings.get_timestep_embedding, with torch's float32 frequencies and products."""
    half = dim // 2
    exponent = (-math.log(max_period) * np.arange(half, dtype=np.float32)) / np.float32(half - shift)
    freqs = np.exp(exponent.astype(np.float32)).astype(np.float32)
    args = (np.asarray(timesteps, np.float32)[:, None] * freqs[None, :]).astype(np.float32).astype(np.float64)
    emb = np.concatenate([np.sin(args), np.cos(args)], axis=-1)
    if flip_sin_to_cos:
        emb = np.concatenate([emb[:, half:], emb[:, :half]], axis=-1)
    if dim % 2:
        emb = np.pad(emb, ((0, 0), (0, 1)))
    return emb


# ---------------------------------------------------------------- blocks shared by the UNet and the VAE
def resnet(P, name, x, temb, cin, cout, groups, eps):
    h = silu(P.group_norm(name + ".norm1", x, groups, eps))
    h = P.conv(name + ".conv1", h, cin, cout, 3)
    if temb is not None:
        h = h + P.linear(name + ".time_emb_proj", silu(temb), temb.shape[1], cout)[:, :, None, None]
    h = silu(P.group_norm(name + ".norm2", h, groups, eps))
    h = P.conv(name + ".conv2", h, cout, cout, 3)
    if cin != cout:
        x = P.conv(name + ".conv_shortcut", x, cin, cout, 1)
    return x + h


def attention(q, k, v, heads):
    """Multi-head scaled dot-product attention over [B, T, C] (attention_processor.AttnProcessor)."""
    b, tq, c = q.shape
    d = c // heads
    split = lambda t: t.reshape(b, t.shape[1], heads, d).transpose(0, 2, 1, 3)
    p = softmax(split(q) @ split(k).transpose(0, 1, 3, 2) * d ** -0.5)
    return (p @ split(v)).transpose(0, 2, 1, 3).reshape(b, tq, c)


def transformer(P, name, x, context, heads, groups, linear_projection):
    """Transformer2DModel (continuous input, one BasicTransformerBlock)."""
    b, c, hgt, wid = x.shape
    residual = x
    h = P.group_norm(name + ".norm", x, groups, 1e-6)
    if linear_projection:
        tokens = P.linear(name + ".proj_in", h.reshape(b, c, -1).transpose(0, 2, 1), c, c)
    else:
        tokens = P.conv(name + ".proj_in", h, c, c, 1).reshape(b, c, -1).transpose(0, 2, 1)
    blk = name + ".transformer_blocks.0"
    n = P.layer_norm(blk + ".norm1", tokens)
    q, k, v = (P.linear(f"{blk}.attn1.to_{s}", n, c, c, bias=False) for s in "qkv")
    tokens = tokens + P.linear(blk + ".attn1.to_out.0", attention(q, k, v, heads), c, c)
    n = P.layer_norm(blk + ".norm2", tokens)
    cd = context.shape[-1]
    q = P.linear(blk + ".attn2.to_q", n, c, c, bias=False)
    k, v = (P.linear(f"{blk}.attn2.to_{s}", context, cd, c, bias=False) for s in "kv")
    tokens = tokens + P.linear(blk + ".attn2.to_out.0", attention(q, k, v, heads), c, c)
    n = P.layer_norm(blk + ".norm3", tokens)
    hidden, gate = np.split(P.linear(blk + ".ff.net.0.proj", n, c, 8 * c), 2, axis=-1)
    tokens = tokens + P.linear(blk + ".ff.net.2", hidden * gelu(gate), 4 * c, c)
    if linear_projection:
        h = P.linear(name + ".proj_out", tokens, c, c).transpose(0, 2, 1).reshape(b, c, hgt, wid)
    else:
        h = P.conv(name + ".proj_out", tokens.transpose(0, 2, 1).reshape(b, c, hgt, wid), c, c, 1)
    return h + residual


# ---------------------------------------------------------------- UNet2DConditionModel
def unet_forward(P, cfg, sample, timesteps, context):
    ch, layers, groups, eps = cfg["block_out_channels"], cfg["layers_per_block"], cfg["norm_num_groups"], cfg["norm_eps"]
    heads = cfg["attention_head_dim"]
    heads = heads if isinstance(heads, list) else [heads] * len(ch)
    lin = cfg["use_linear_projection"]
    temb = timestep_embedding(timesteps, ch[0], cfg["flip_sin_to_cos"], cfg["freq_shift"])
    temb = P.linear("time_embedding.linear_1", temb, ch[0], 4 * ch[0])
    temb = P.linear("time_embedding.linear_2", silu(temb), 4 * ch[0], 4 * ch[0])
    x = P.conv("conv_in", sample, cfg["in_channels"], ch[0], 3)
    skips = [x]
    cin = ch[0]
    for i, kind in enumerate(cfg["down_block_types"]):
        for j in range(layers):
            x = resnet(P, f"down_blocks.{i}.resnets.{j}", x, temb, cin, ch[i], groups, eps)
            cin = ch[i]
            if kind == "CrossAttnDownBlock2D":
                x = transformer(P, f"down_blocks.{i}.attentions.{j}", x, context, heads[i], groups, lin)
            skips.append(x)
        if i < len(ch) - 1:
            x = P.conv(f"down_blocks.{i}.downsamplers.0.conv", x, ch[i], ch[i], 3, stride=2, padding=1)
            skips.append(x)
    x = resnet(P, "mid_block.resnets.0", x, temb, ch[-1], ch[-1], groups, eps)
    x = transformer(P, "mid_block.attentions.0", x, context, heads[-1], groups, lin)
    x = resnet(P, "mid_block.resnets.1", x, temb, ch[-1], ch[-1], groups, eps)
    rch, rheads = ch[::-1], heads[::-1]
    for i, kind in enumerate(cfg["up_block_types"]):
        for j in range(layers + 1):
            skip = skips.pop()
            x = np.concatenate([x, skip], axis=1)
            x = resnet(P, f"up_blocks.{i}.resnets.{j}", x, temb, x.shape[1], rch[i], groups, eps)
            if kind == "CrossAttnUpBlock2D":
                x = transformer(P, f"up_blocks.{i}.attentions.{j}", x, context, rheads[i], groups, lin)
        if i < len(ch) - 1:
            x = P.conv(f"up_blocks.{i}.upsamplers.0.conv", upsample_nearest(x, 2), rch[i], rch[i], 3)
    x = silu(P.group_norm("conv_norm_out", x, groups, eps))
    return P.conv("conv_out", x, ch[0], cfg["out_channels"], 3)


def unet_config(block_out_channels, layers, heads, cross_dim, groups, linear_projection, sample_size):
    n = len(block_out_channels)
    return {
        "_class_name": "UNet2DConditionModel", "_diffusers_version": "0.30.0",
        "act_fn": "silu", "attention_head_dim": heads, "block_out_channels": block_out_channels,
        "center_input_sample": False, "cross_attention_dim": cross_dim,
        "down_block_types": ["CrossAttnDownBlock2D"] * (n - 1) + ["DownBlock2D"],
        "downsample_padding": 1, "flip_sin_to_cos": True, "freq_shift": 0, "in_channels": 4,
        "layers_per_block": layers, "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": groups,
        "out_channels": 4, "sample_size": sample_size, "up_block_types": ["UpBlock2D"] + ["CrossAttnUpBlock2D"] * (n - 1),
        "use_linear_projection": linear_projection,
    }


# ---------------------------------------------------------------- AutoencoderKL
def vae_attention(P, name, x, groups):
    b, c, hgt, wid = x.shape
    h = P.group_norm(name + ".group_norm", x, groups, 1e-6).reshape(b, c, -1).transpose(0, 2, 1)
    q, k, v = (P.linear(f"{name}.to_{s}", h, c, c) for s in "qkv")
    out = P.linear(name + ".to_out.0", attention(q, k, v, 1), c, c)
    return out.transpose(0, 2, 1).reshape(b, c, hgt, wid) + x


def vae_mid(P, name, x, groups):
    c = x.shape[1]
    x = resnet(P, name + ".resnets.0", x, None, c, c, groups, 1e-6)
    x = vae_attention(P, name + ".attentions.0", x, groups)
    return resnet(P, name + ".resnets.1", x, None, c, c, groups, 1e-6)


def vae_encode(P, cfg, image):
    ch, layers, groups = cfg["block_out_channels"], cfg["layers_per_block"], cfg["norm_num_groups"]
    x = P.conv("encoder.conv_in", image, cfg["in_channels"], ch[0], 3)
    cin = ch[0]
    for i in range(len(ch)):
        for j in range(layers):
            x = resnet(P, f"encoder.down_blocks.{i}.resnets.{j}", x, None, cin, ch[i], groups, 1e-6)
            cin = ch[i]
        if i < len(ch) - 1:  # Downsample2D(padding=0): pad right and bottom by one, then stride 2
            x = np.pad(x, ((0, 0), (0, 0), (0, 1), (0, 1)))
            x = P.conv(f"encoder.down_blocks.{i}.downsamplers.0.conv", x, ch[i], ch[i], 3, stride=2, padding=0)
    x = vae_mid(P, "encoder.mid_block", x, groups)
    x = silu(P.group_norm("encoder.conv_norm_out", x, groups, 1e-6))
    latent = cfg["latent_channels"]
    x = P.conv("encoder.conv_out", x, ch[-1], 2 * latent, 3)
    moments = P.conv("quant_conv", x, 2 * latent, 2 * latent, 1)
    return moments[:, :latent], moments[:, latent:]


def vae_decode(P, cfg, z):
    ch, layers, groups = cfg["block_out_channels"], cfg["layers_per_block"], cfg["norm_num_groups"]
    latent = cfg["latent_channels"]
    z = P.conv("post_quant_conv", z, latent, latent, 1)
    x = P.conv("decoder.conv_in", z, latent, ch[-1], 3)
    x = vae_mid(P, "decoder.mid_block", x, groups)
    rch = ch[::-1]
    cin = rch[0]
    for i in range(len(ch)):
        for j in range(layers + 1):
            x = resnet(P, f"decoder.up_blocks.{i}.resnets.{j}", x, None, cin, rch[i], groups, 1e-6)
            cin = rch[i]
        if i < len(ch) - 1:
            x = P.conv(f"decoder.up_blocks.{i}.upsamplers.0.conv", upsample_nearest(x, 2), rch[i], rch[i], 3)
    x = silu(P.group_norm("decoder.conv_norm_out", x, groups, 1e-6))
    return P.conv("decoder.conv_out", x, ch[0], cfg["out_channels"], 3)


def vae_config(block_out_channels, layers, groups, sample_size):
    n = len(block_out_channels)
    return {
        "_class_name": "AutoencoderKL", "_diffusers_version": "0.30.0", "act_fn": "silu",
        "block_out_channels": block_out_channels, "down_block_types": ["DownEncoderBlock2D"] * n,
        "in_channels": 3, "latent_channels": 4, "layers_per_block": layers, "norm_num_groups": groups,
        "out_channels": 3, "sample_size": sample_size, "scaling_factor": 0.18215, "up_block_types": ["UpDecoderBlock2D"] * n,
    }


# ---------------------------------------------------------------- files
def write_component(folder, cfg, P):
    path = os.path.join(ROOT, folder)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    save_file(dict(sorted(P.values.items())), os.path.join(path, "diffusion_pytorch_model.safetensors"))
    return sum(v.size for v in P.values.values())


def write_reference(name, arrays):
    os.makedirs(os.path.join(ROOT, "reference"), exist_ok=True)
    save_file({k: np.ascontiguousarray(v, np.float32) for k, v in arrays.items()}, os.path.join(ROOT, "reference", name + ".safetensors"))


def make_unet(rng, folder, cfg, batch, side):
    P = Params(rng)
    sample = rng.standard_normal((batch, 4, side, side))
    timesteps = np.array([999.0, 421.0][:batch])
    context = rng.standard_normal((batch, 77, cfg["cross_attention_dim"]))
    out = unet_forward(P, cfg, sample, timesteps, context)
    count = write_component(folder, cfg, P)
    write_reference(folder, {"sample": sample, "timesteps": timesteps, "encoder_hidden_states": context, "noise_pred": out})
    return count


def main():
    rng = np.random.default_rng(SEED)
    counts = {
        "unet": make_unet(rng, "unet", unet_config([32, 64], 1, 8, 32, 32, False, 16), batch=2, side=16),
        "unet-linear-projection": make_unet(rng, "unet-linear-projection", unet_config([8, 16], 1, [2, 4], 12, 4, True, 8),
                                            batch=1, side=8),
    }
    cfg = vae_config([32, 64], 1, 32, 32)
    P = Params(rng)
    image = np.tanh(rng.standard_normal((1, 3, 32, 32)))
    mean, logvar = vae_encode(P, cfg, image)
    latents = rng.standard_normal((2, 4, 8, 8))
    decoded = vae_decode(P, cfg, latents)
    counts["vae"] = write_component("vae", cfg, P)
    write_reference("vae", {"image": image, "mean": mean, "logvar": logvar, "latents": latents, "decoded": decoded})
    index = {"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.30.0", "feature_extractor": [None, None],
             "requires_safety_checker": False, "safety_checker": [None, None], "scheduler": ["diffusers", "PNDMScheduler"],
             "text_encoder": ["transformers", "CLIPTextModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
             "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"]}
    with open(os.path.join(ROOT, "model_index.json"), "w") as f:
        json.dump(index, f, indent=1)
    with open(os.path.join(ROOT, "unet-vae-meta.json"), "w") as f:
        json.dump({"seed": SEED, "python": sys.version.split()[0], "numpy": np.__version__,
                   "safetensors": __import__("importlib.metadata").metadata.version("safetensors"),
                   "script": "scripts/reference/make_sd_unet_fixtures.py", "parameters": counts}, f, indent=1)
    print(counts)


if __name__ == "__main__":
    main()
