#!/usr/bin/env python3
"""A synthetic, full-size Stable Diffusion 1.5 checkpoint: one single-file safetensors with the tensor
names and shapes of the original CompVis/LDM `v1-5-pruned-emaonly.safetensors` and seeded random weights.

The weights mean nothing; the file exists so that aigc and stable-diffusion.cpp can be timed and
checked for name/shape agreement on the real layout without downloading 2-4 GB (issue #6).

Layout sources (read, not copied): ldm/modules/diffusionmodules/openaimodel.py (UNetModel with
model_channels 320, channel_mult 1,2,4,4, num_res_blocks 2, attention_resolutions 4,2,1, 8 heads,
context_dim 768, SpatialTransformer with 1x1-conv proj_in/proj_out), ldm/modules/diffusionmodules/model.py
(Encoder/Decoder with ch 128, ch_mult 1,2,4,4, num_res_blocks 2, z_channels 4, mid attention as 1x1 convs),
ldm/models/diffusion/ddpm.py (the 12 schedule buffers of register_schedule, linear_start 0.00085,
linear_end 0.012) and Hugging Face transformers' CLIPTextModel (ViT-L/14 text tower) under
`cond_stage_model.transformer.`.

Also writes, with --fixtures, Tests/Fixtures/sd15-names/:
  ldm-tensors.json       [[name, shape], ...] of every tensor in the checkpoint, sorted by name
  diffusers-tensors.json {"unet": [[name, shape], ...], "vae": [...], "text_encoder": [...]}: the names a
                         diffusers-layout UNet2DConditionModel / AutoencoderKL / CLIPTextModel asks for, derived
                         independently from diffusers' block structure (not by renaming the LDM list), with
                         the VAE attention projections as the linear [C, C] matrices diffusers stores.
  meta.json              seed, versions, counts.

Weights: seeded per tensor (numpy default_rng([SEED, index of the name in sorted order])), so a tensor's
values do not depend on --dtype or on which other tensors exist. Matrices and convolutions are
normal / sqrt(fan_in), which keeps activations near unit scale through every GroupNorm-led block;
norm weights are 1 and biases are small; embeddings are normal * 0.02 like CLIP's initialisation.
The file is written in one pass, tensor by tensor, so memory stays at the largest tensor (the token
embedding, 38M values).

Run from the repository root:
  python3 scripts/reference/make_synthetic_sd15.py [OUT.safetensors] [--dtype f16|f32] [--in-channels 4|9]
  python3 scripts/reference/make_synthetic_sd15.py --fixtures-only      (just the JSON fixtures)
Default OUT: /work/sd-synth/sd15-synthetic-f16.safetensors (never inside the repository: ~2.1 GB in F16).
"""
import argparse
import json
import os
import platform
import struct
import sys
import time

import numpy as np

SEED = 20261206
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures", "sd15-names")
DEFAULT_OUT = "/work/sd-synth/sd15-synthetic-f16.safetensors"

# SD 1.x hyper-parameters (v1-inference.yaml).
UNET_CHANNELS = 320
UNET_MULT = (1, 2, 4, 4)
UNET_RES_BLOCKS = 2
UNET_ATTENTION_LEVELS = (True, True, True, False)  # attention_resolutions 4,2,1 = the first three levels
TIME_EMBED = 4 * UNET_CHANNELS
CONTEXT = 768
VAE_CHANNELS = 128
VAE_MULT = (1, 2, 4, 4)
VAE_RES_BLOCKS = 2
LATENT = 4
CLIP_LAYERS, CLIP_HIDDEN, CLIP_MLP, CLIP_VOCAB, CLIP_POSITIONS = 12, 768, 3072, 49408, 77
SCHEDULE_STEPS = 1000


# ---- Method A: the LDM/CompVis state dict, following the constructors of the original code ----

def ldm_resblock(out, p, cin, cout, emb):
    """ResBlock (openaimodel.py) when emb is given, else ResnetBlock (model.py)."""
    if emb:
        out += [(f"{p}.in_layers.0.weight", [cin]), (f"{p}.in_layers.0.bias", [cin]),
                (f"{p}.in_layers.2.weight", [cout, cin, 3, 3]), (f"{p}.in_layers.2.bias", [cout]),
                (f"{p}.emb_layers.1.weight", [cout, emb]), (f"{p}.emb_layers.1.bias", [cout]),
                (f"{p}.out_layers.0.weight", [cout]), (f"{p}.out_layers.0.bias", [cout]),
                (f"{p}.out_layers.3.weight", [cout, cout, 3, 3]), (f"{p}.out_layers.3.bias", [cout])]
        if cin != cout:
            out += [(f"{p}.skip_connection.weight", [cout, cin, 1, 1]), (f"{p}.skip_connection.bias", [cout])]
    else:
        out += [(f"{p}.norm1.weight", [cin]), (f"{p}.norm1.bias", [cin]),
                (f"{p}.conv1.weight", [cout, cin, 3, 3]), (f"{p}.conv1.bias", [cout]),
                (f"{p}.norm2.weight", [cout]), (f"{p}.norm2.bias", [cout]),
                (f"{p}.conv2.weight", [cout, cout, 3, 3]), (f"{p}.conv2.bias", [cout])]
        if cin != cout:
            out += [(f"{p}.nin_shortcut.weight", [cout, cin, 1, 1]), (f"{p}.nin_shortcut.bias", [cout])]


def ldm_spatial_transformer(out, p, c):
    out += [(f"{p}.norm.weight", [c]), (f"{p}.norm.bias", [c]),
            (f"{p}.proj_in.weight", [c, c, 1, 1]), (f"{p}.proj_in.bias", [c])]
    b = f"{p}.transformer_blocks.0"
    for attn, kv in (("attn1", c), ("attn2", CONTEXT)):
        out += [(f"{b}.{attn}.to_q.weight", [c, c]), (f"{b}.{attn}.to_k.weight", [c, kv]),
                (f"{b}.{attn}.to_v.weight", [c, kv]),
                (f"{b}.{attn}.to_out.0.weight", [c, c]), (f"{b}.{attn}.to_out.0.bias", [c])]
    out += [(f"{b}.ff.net.0.proj.weight", [8 * c, c]), (f"{b}.ff.net.0.proj.bias", [8 * c]),
            (f"{b}.ff.net.2.weight", [c, 4 * c]), (f"{b}.ff.net.2.bias", [c])]
    for n in ("norm1", "norm2", "norm3"):
        out += [(f"{b}.{n}.weight", [c]), (f"{b}.{n}.bias", [c])]
    out += [(f"{p}.proj_out.weight", [c, c, 1, 1]), (f"{p}.proj_out.bias", [c])]


def ldm_unet(in_channels):
    out, p = [], "model.diffusion_model"
    out += [(f"{p}.time_embed.0.weight", [TIME_EMBED, UNET_CHANNELS]), (f"{p}.time_embed.0.bias", [TIME_EMBED]),
            (f"{p}.time_embed.2.weight", [TIME_EMBED, TIME_EMBED]), (f"{p}.time_embed.2.bias", [TIME_EMBED])]
    out += [(f"{p}.input_blocks.0.0.weight", [UNET_CHANNELS, in_channels, 3, 3]),
            (f"{p}.input_blocks.0.0.bias", [UNET_CHANNELS])]
    # UNetModel.__init__ appends one TimestepEmbedSequential per res block, then one per downsample,
    # and records each block's output width for the skip connections the decoder concatenates.
    skips, ch, index = [UNET_CHANNELS], UNET_CHANNELS, 1
    for level, mult in enumerate(UNET_MULT):
        for _ in range(UNET_RES_BLOCKS):
            ldm_resblock(out, f"{p}.input_blocks.{index}.0", ch, mult * UNET_CHANNELS, TIME_EMBED)
            ch = mult * UNET_CHANNELS
            if UNET_ATTENTION_LEVELS[level]:
                ldm_spatial_transformer(out, f"{p}.input_blocks.{index}.1", ch)
            skips.append(ch)
            index += 1
        if level != len(UNET_MULT) - 1:
            out += [(f"{p}.input_blocks.{index}.0.op.weight", [ch, ch, 3, 3]), (f"{p}.input_blocks.{index}.0.op.bias", [ch])]
            skips.append(ch)
            index += 1
    ldm_resblock(out, f"{p}.middle_block.0", ch, ch, TIME_EMBED)
    ldm_spatial_transformer(out, f"{p}.middle_block.1", ch)
    ldm_resblock(out, f"{p}.middle_block.2", ch, ch, TIME_EMBED)
    index = 0
    for level, mult in reversed(list(enumerate(UNET_MULT))):
        for i in range(UNET_RES_BLOCKS + 1):
            skip = skips.pop()
            ldm_resblock(out, f"{p}.output_blocks.{index}.0", ch + skip, mult * UNET_CHANNELS, TIME_EMBED)
            ch = mult * UNET_CHANNELS
            layer = 1
            if UNET_ATTENTION_LEVELS[level]:
                ldm_spatial_transformer(out, f"{p}.output_blocks.{index}.1", ch)
                layer = 2
            if level and i == UNET_RES_BLOCKS:
                out += [(f"{p}.output_blocks.{index}.{layer}.conv.weight", [ch, ch, 3, 3]),
                        (f"{p}.output_blocks.{index}.{layer}.conv.bias", [ch])]
            index += 1
    out += [(f"{p}.out.0.weight", [ch]), (f"{p}.out.0.bias", [ch]),
            (f"{p}.out.2.weight", [LATENT, ch, 3, 3]), (f"{p}.out.2.bias", [LATENT])]
    return out


def ldm_vae_mid(out, p, c):
    ldm_resblock(out, f"{p}.mid.block_1", c, c, None)
    out += [(f"{p}.mid.attn_1.norm.weight", [c]), (f"{p}.mid.attn_1.norm.bias", [c])]
    for n in ("q", "k", "v", "proj_out"):
        out += [(f"{p}.mid.attn_1.{n}.weight", [c, c, 1, 1]), (f"{p}.mid.attn_1.{n}.bias", [c])]
    ldm_resblock(out, f"{p}.mid.block_2", c, c, None)


def ldm_vae():
    out, p = [], "first_stage_model"
    e = f"{p}.encoder"
    out += [(f"{e}.conv_in.weight", [VAE_CHANNELS, 3, 3, 3]), (f"{e}.conv_in.bias", [VAE_CHANNELS])]
    ch = VAE_CHANNELS
    for level, mult in enumerate(VAE_MULT):
        for block in range(VAE_RES_BLOCKS):
            ldm_resblock(out, f"{e}.down.{level}.block.{block}", ch, mult * VAE_CHANNELS, None)
            ch = mult * VAE_CHANNELS
        if level != len(VAE_MULT) - 1:
            out += [(f"{e}.down.{level}.downsample.conv.weight", [ch, ch, 3, 3]), (f"{e}.down.{level}.downsample.conv.bias", [ch])]
    ldm_vae_mid(out, e, ch)
    out += [(f"{e}.norm_out.weight", [ch]), (f"{e}.norm_out.bias", [ch]),
            (f"{e}.conv_out.weight", [2 * LATENT, ch, 3, 3]), (f"{e}.conv_out.bias", [2 * LATENT])]
    out += [(f"{p}.quant_conv.weight", [2 * LATENT, 2 * LATENT, 1, 1]), (f"{p}.quant_conv.bias", [2 * LATENT]),
            (f"{p}.post_quant_conv.weight", [LATENT, LATENT, 1, 1]), (f"{p}.post_quant_conv.bias", [LATENT])]
    d = f"{p}.decoder"
    ch = VAE_CHANNELS * VAE_MULT[-1]
    out += [(f"{d}.conv_in.weight", [ch, LATENT, 3, 3]), (f"{d}.conv_in.bias", [ch])]
    ldm_vae_mid(out, d, ch)
    # Decoder.__init__ builds `up` from the deepest level down and inserts each at the front, so
    # up.3 is the first block the latent meets.
    for level in reversed(range(len(VAE_MULT))):
        cout = VAE_MULT[level] * VAE_CHANNELS
        for block in range(VAE_RES_BLOCKS + 1):
            ldm_resblock(out, f"{d}.up.{level}.block.{block}", ch, cout, None)
            ch = cout
        if level != 0:
            out += [(f"{d}.up.{level}.upsample.conv.weight", [ch, ch, 3, 3]), (f"{d}.up.{level}.upsample.conv.bias", [ch])]
    out += [(f"{d}.norm_out.weight", [ch]), (f"{d}.norm_out.bias", [ch]),
            (f"{d}.conv_out.weight", [3, ch, 3, 3]), (f"{d}.conv_out.bias", [3])]
    return out


def clip_text(prefix):
    """transformers CLIPTextModel state dict names under `prefix` (position_ids excluded)."""
    t, h = f"{prefix}text_model", CLIP_HIDDEN
    out = [(f"{t}.embeddings.token_embedding.weight", [CLIP_VOCAB, h]),
           (f"{t}.embeddings.position_embedding.weight", [CLIP_POSITIONS, h])]
    for i in range(CLIP_LAYERS):
        layer = f"{t}.encoder.layers.{i}"
        for proj in ("k_proj", "v_proj", "q_proj", "out_proj"):
            out += [(f"{layer}.self_attn.{proj}.weight", [h, h]), (f"{layer}.self_attn.{proj}.bias", [h])]
        out += [(f"{layer}.layer_norm1.weight", [h]), (f"{layer}.layer_norm1.bias", [h]),
                (f"{layer}.mlp.fc1.weight", [CLIP_MLP, h]), (f"{layer}.mlp.fc1.bias", [CLIP_MLP]),
                (f"{layer}.mlp.fc2.weight", [h, CLIP_MLP]), (f"{layer}.mlp.fc2.bias", [h]),
                (f"{layer}.layer_norm2.weight", [h]), (f"{layer}.layer_norm2.bias", [h])]
    out += [(f"{t}.final_layer_norm.weight", [h]), (f"{t}.final_layer_norm.bias", [h])]
    return out


SCHEDULE_BUFFERS = ("betas", "alphas_cumprod", "alphas_cumprod_prev", "sqrt_alphas_cumprod",
                    "sqrt_one_minus_alphas_cumprod", "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod",
                    "sqrt_recipm1_alphas_cumprod", "posterior_variance", "posterior_log_variance_clipped",
                    "posterior_mean_coef1", "posterior_mean_coef2")


def schedule_buffers():
    """The real values of ddpm.py's register_schedule for SD 1.x (v_posterior 0), so a reader that
    takes alphas_cumprod from the file (stable-diffusion.cpp does) gets the true schedule."""
    betas = np.linspace(0.00085 ** 0.5, 0.012 ** 0.5, SCHEDULE_STEPS, dtype=np.float64) ** 2
    alphas = 1.0 - betas
    ac = np.cumprod(alphas)
    ac_prev = np.append(1.0, ac[:-1])
    posterior_variance = betas * (1.0 - ac_prev) / (1.0 - ac)
    return {
        "betas": betas, "alphas_cumprod": ac, "alphas_cumprod_prev": ac_prev,
        "sqrt_alphas_cumprod": np.sqrt(ac), "sqrt_one_minus_alphas_cumprod": np.sqrt(1.0 - ac),
        "log_one_minus_alphas_cumprod": np.log(1.0 - ac), "sqrt_recip_alphas_cumprod": np.sqrt(1.0 / ac),
        "sqrt_recipm1_alphas_cumprod": np.sqrt(1.0 / ac - 1), "posterior_variance": posterior_variance,
        "posterior_log_variance_clipped": np.log(np.maximum(posterior_variance, 1e-20)),
        "posterior_mean_coef1": betas * np.sqrt(ac_prev) / (1.0 - ac),
        "posterior_mean_coef2": (1.0 - ac_prev) * np.sqrt(alphas) / (1.0 - ac),
    }


POSITION_IDS = "cond_stage_model.transformer.text_model.embeddings.position_ids"


def ldm_tensors(in_channels=4):
    """Every (name, shape) of the single-file checkpoint, sorted by name."""
    out = ldm_unet(in_channels) + ldm_vae() + clip_text("cond_stage_model.transformer.")
    out += [(n, [SCHEDULE_STEPS]) for n in SCHEDULE_BUFFERS] + [(POSITION_IDS, [1, CLIP_POSITIONS])]
    names = [n for n, _ in out]
    assert len(names) == len(set(names)), "duplicate LDM names"
    return sorted(out)


# ---- Method B: the diffusers names, from diffusers' block structure (UNet2DConditionModel, AutoencoderKL) ----

def diffusers_resnet(out, p, cin, cout, temb):
    out += [(f"{p}.norm1.weight", [cin]), (f"{p}.norm1.bias", [cin]),
            (f"{p}.conv1.weight", [cout, cin, 3, 3]), (f"{p}.conv1.bias", [cout])]
    if temb:
        out += [(f"{p}.time_emb_proj.weight", [cout, temb]), (f"{p}.time_emb_proj.bias", [cout])]
    out += [(f"{p}.norm2.weight", [cout]), (f"{p}.norm2.bias", [cout]),
            (f"{p}.conv2.weight", [cout, cout, 3, 3]), (f"{p}.conv2.bias", [cout])]
    if cin != cout:
        out += [(f"{p}.conv_shortcut.weight", [cout, cin, 1, 1]), (f"{p}.conv_shortcut.bias", [cout])]


def diffusers_transformer2d(out, p, c):
    # Transformer2DModel with use_linear_projection False (SD 1.x): proj_in/proj_out stay 1x1 convs.
    out += [(f"{p}.norm.weight", [c]), (f"{p}.norm.bias", [c]), (f"{p}.proj_in.weight", [c, c, 1, 1]),
            (f"{p}.proj_in.bias", [c]), (f"{p}.proj_out.weight", [c, c, 1, 1]), (f"{p}.proj_out.bias", [c])]
    b = f"{p}.transformer_blocks.0"
    for i in (1, 2, 3):
        out += [(f"{b}.norm{i}.weight", [c]), (f"{b}.norm{i}.bias", [c])]
    for attn, cross in (("attn1", c), ("attn2", CONTEXT)):
        out += [(f"{b}.{attn}.to_q.weight", [c, c]), (f"{b}.{attn}.to_k.weight", [c, cross]),
                (f"{b}.{attn}.to_v.weight", [c, cross]), (f"{b}.{attn}.to_out.0.weight", [c, c]),
                (f"{b}.{attn}.to_out.0.bias", [c])]
    out += [(f"{b}.ff.net.0.proj.weight", [8 * c, c]), (f"{b}.ff.net.0.proj.bias", [8 * c]),
            (f"{b}.ff.net.2.weight", [c, 4 * c]), (f"{b}.ff.net.2.bias", [c])]


def diffusers_unet(in_channels=4):
    block_out = [m * UNET_CHANNELS for m in UNET_MULT]
    down_types = ["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"]
    up_types = ["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3
    temb, out = block_out[0] * 4, []
    out += [("conv_in.weight", [block_out[0], in_channels, 3, 3]), ("conv_in.bias", [block_out[0]]),
            ("time_embedding.linear_1.weight", [temb, block_out[0]]), ("time_embedding.linear_1.bias", [temb]),
            ("time_embedding.linear_2.weight", [temb, temb]), ("time_embedding.linear_2.bias", [temb])]
    cout = block_out[0]
    for i, kind in enumerate(down_types):
        cin, cout = cout, block_out[i]
        for j in range(UNET_RES_BLOCKS):
            diffusers_resnet(out, f"down_blocks.{i}.resnets.{j}", cin if j == 0 else cout, cout, temb)
            if kind.startswith("CrossAttn"):
                diffusers_transformer2d(out, f"down_blocks.{i}.attentions.{j}", cout)
        if i != len(down_types) - 1:  # add_downsample = not is_final_block
            out += [(f"down_blocks.{i}.downsamplers.0.conv.weight", [cout, cout, 3, 3]),
                    (f"down_blocks.{i}.downsamplers.0.conv.bias", [cout])]
    mid = block_out[-1]
    diffusers_resnet(out, "mid_block.resnets.0", mid, mid, temb)
    diffusers_transformer2d(out, "mid_block.attentions.0", mid)
    diffusers_resnet(out, "mid_block.resnets.1", mid, mid, temb)
    reversed_out = list(reversed(block_out))
    cout = reversed_out[0]
    for i, kind in enumerate(up_types):
        prev, cout = cout, reversed_out[i]
        cin = reversed_out[min(i + 1, len(block_out) - 1)]
        for j in range(UNET_RES_BLOCKS + 1):
            # UpBlock2D / CrossAttnUpBlock2D: res_skip = in_channels for the last resnet, else out_channels.
            skip = cin if j == UNET_RES_BLOCKS else cout
            res_in = prev if j == 0 else cout
            diffusers_resnet(out, f"up_blocks.{i}.resnets.{j}", res_in + skip, cout, temb)
            if kind.startswith("CrossAttn"):
                diffusers_transformer2d(out, f"up_blocks.{i}.attentions.{j}", cout)
        if i != len(up_types) - 1:
            out += [(f"up_blocks.{i}.upsamplers.0.conv.weight", [cout, cout, 3, 3]),
                    (f"up_blocks.{i}.upsamplers.0.conv.bias", [cout])]
    out += [("conv_norm_out.weight", [block_out[0]]), ("conv_norm_out.bias", [block_out[0]]),
            ("conv_out.weight", [LATENT, block_out[0], 3, 3]), ("conv_out.bias", [LATENT])]
    return out


def diffusers_vae_mid(out, p, c):
    diffusers_resnet(out, f"{p}.mid_block.resnets.0", c, c, None)
    diffusers_resnet(out, f"{p}.mid_block.resnets.1", c, c, None)
    a = f"{p}.mid_block.attentions.0"
    out += [(f"{a}.group_norm.weight", [c]), (f"{a}.group_norm.bias", [c])]
    for n in ("to_q", "to_k", "to_v", "to_out.0"):
        out += [(f"{a}.{n}.weight", [c, c]), (f"{a}.{n}.bias", [c])]


def diffusers_vae():
    block_out = [m * VAE_CHANNELS for m in VAE_MULT]
    out = [("encoder.conv_in.weight", [block_out[0], 3, 3, 3]), ("encoder.conv_in.bias", [block_out[0]])]
    cout = block_out[0]
    for i in range(len(block_out)):  # DownEncoderBlock2D
        cin, cout = cout, block_out[i]
        for j in range(VAE_RES_BLOCKS):
            diffusers_resnet(out, f"encoder.down_blocks.{i}.resnets.{j}", cin if j == 0 else cout, cout, None)
        if i != len(block_out) - 1:
            out += [(f"encoder.down_blocks.{i}.downsamplers.0.conv.weight", [cout, cout, 3, 3]),
                    (f"encoder.down_blocks.{i}.downsamplers.0.conv.bias", [cout])]
    diffusers_vae_mid(out, "encoder", block_out[-1])
    out += [("encoder.conv_norm_out.weight", [block_out[-1]]), ("encoder.conv_norm_out.bias", [block_out[-1]]),
            ("encoder.conv_out.weight", [2 * LATENT, block_out[-1], 3, 3]), ("encoder.conv_out.bias", [2 * LATENT]),
            ("quant_conv.weight", [2 * LATENT, 2 * LATENT, 1, 1]), ("quant_conv.bias", [2 * LATENT]),
            ("post_quant_conv.weight", [LATENT, LATENT, 1, 1]), ("post_quant_conv.bias", [LATENT]),
            ("decoder.conv_in.weight", [block_out[-1], LATENT, 3, 3]), ("decoder.conv_in.bias", [block_out[-1]])]
    diffusers_vae_mid(out, "decoder", block_out[-1])
    reversed_out = list(reversed(block_out))
    cout = reversed_out[0]
    for i in range(len(block_out)):  # UpDecoderBlock2D, layers_per_block + 1 resnets
        prev, cout = cout, reversed_out[i]
        for j in range(VAE_RES_BLOCKS + 1):
            diffusers_resnet(out, f"decoder.up_blocks.{i}.resnets.{j}", prev if j == 0 else cout, cout, None)
        if i != len(block_out) - 1:
            out += [(f"decoder.up_blocks.{i}.upsamplers.0.conv.weight", [cout, cout, 3, 3]),
                    (f"decoder.up_blocks.{i}.upsamplers.0.conv.bias", [cout])]
    out += [("decoder.conv_norm_out.weight", [block_out[0]]), ("decoder.conv_norm_out.bias", [block_out[0]]),
            ("decoder.conv_out.weight", [3, block_out[0], 3, 3]), ("decoder.conv_out.bias", [3])]
    return out


def diffusers_tensors(in_channels=4):
    parts = {"unet": diffusers_unet(in_channels), "vae": diffusers_vae(), "text_encoder": clip_text("")}
    for part, entries in parts.items():
        assert len({n for n, _ in entries}) == len(entries), f"duplicate diffusers names in {part}"
    return {part: sorted(entries) for part, entries in parts.items()}


# ---- Writing ----

def values(index, name, shape):
    """float32 values of one tensor, seeded by its index in the sorted name list."""
    if name == POSITION_IDS:
        return np.arange(CLIP_POSITIONS, dtype=np.int64).reshape(shape)
    if name in SCHEDULE_BUFFERS:
        return schedule_buffers()[name].astype(np.float32)
    rng = np.random.default_rng([SEED, index])
    count = int(np.prod(shape))
    if len(shape) == 1:
        # All 1-D weights of SD are norm scales; 1-D biases get a little noise so bias paths are exercised.
        if name.endswith(".weight"):
            return np.ones(count, np.float32)
        return (rng.standard_normal(count, dtype=np.float32) * np.float32(0.02)).reshape(shape)
    if name.endswith("embedding.weight"):
        scale = 0.02
    else:
        scale = 1.0 / np.sqrt(np.prod(shape[1:]))
    return (rng.standard_normal(count, dtype=np.float32) * np.float32(scale)).reshape(shape)


def file_dtype(name, dtype):
    if name == POSITION_IDS:
        return "I64", np.int64
    if name in SCHEDULE_BUFFERS:  # tiny, and their precision matters to samplers that read them
        return "F32", np.float32
    return ("F16", np.float16) if dtype == "f16" else ("F32", np.float32)


def write_checkpoint(path, dtype, in_channels):
    entries = ldm_tensors(in_channels)
    header, offset = {}, 0
    for name, shape in entries:
        tag, np_type = file_dtype(name, dtype)
        size = int(np.prod(shape)) * np.dtype(np_type).itemsize
        header[name] = {"dtype": tag, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    header["__metadata__"] = {"format": "pt", "aigc.synthetic": f"SD 1.5 layout, random weights, seed {SEED}"}
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-(8 + len(blob)) % 8)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".part"
    start = time.time()
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for index, (name, shape) in enumerate(entries):
            _, np_type = file_dtype(name, dtype)
            array = values(index, name, shape).astype(np_type)
            assert np.all(np.isfinite(array)) if array.dtype.kind == "f" else True, name
            f.write(array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes())
    os.replace(tmp, path)
    print(f"wrote {path}: {len(entries)} tensors, {os.path.getsize(path) / 1e9:.2f} GB, {time.time() - start:.0f} s")


def write_fixtures(in_channels):
    os.makedirs(FIXTURES, exist_ok=True)
    ldm = ldm_tensors(in_channels)
    diffusers = diffusers_tensors(in_channels)

    def dump(path, obj):
        with open(path, "w") as f:
            if isinstance(obj, dict):
                f.write("{\n" + ",\n".join(
                    f'"{k}": [\n' + ",\n".join(json.dumps([n, s]) for n, s in v) + "\n]" for k, v in obj.items()) + "\n}\n")
            else:
                f.write("[\n" + ",\n".join(json.dumps([n, s]) for n, s in obj) + "\n]\n")

    dump(os.path.join(FIXTURES, "ldm-tensors.json"), ldm)
    dump(os.path.join(FIXTURES, "diffusers-tensors.json"), diffusers)
    meta = {"script": "scripts/reference/make_synthetic_sd15.py", "seed": SEED, "numpy": np.__version__,
            "python": platform.python_version(), "in_channels": in_channels, "ldm_tensors": len(ldm),
            "diffusers_tensors": {k: len(v) for k, v in diffusers.items()},
            "ignored_ldm_tensors": list(SCHEDULE_BUFFERS) + [POSITION_IDS]}
    with open(os.path.join(FIXTURES, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(f"wrote {FIXTURES}: {len(ldm)} LDM names, diffusers {meta['diffusers_tensors']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", nargs="?", default=DEFAULT_OUT)
    parser.add_argument("--dtype", choices=("f16", "f32"), default="f16")
    parser.add_argument("--in-channels", type=int, choices=(4, 9), default=4, help="9 = the inpainting UNet")
    parser.add_argument("--fixtures", action="store_true", help="also write Tests/Fixtures/sd15-names")
    parser.add_argument("--fixtures-only", action="store_true")
    args = parser.parse_args()
    if args.fixtures or args.fixtures_only:
        write_fixtures(4)
    if not args.fixtures_only:
        write_checkpoint(args.out, args.dtype, args.in_channels)


if __name__ == "__main__":
    sys.exit(main())
