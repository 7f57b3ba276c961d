#!/usr/bin/env python3
"""The tiny Stable Diffusion fixture (Tests/Fixtures/sd-tiny: diffusers folder of a random UNet, VAE and
CLIP text encoder) rewritten as ONE single-file checkpoint in the CompVis/LDM layout that
`v1-5-pruned-emaonly.safetensors` uses:

  model.diffusion_model.*          the UNet (openaimodel.py UNetModel names: input_blocks.N.M, middle_block.N,
                                   output_blocks.N.M, time_embed.0/2, out.0/2)
  first_stage_model.*              the VAE (model.py Encoder/Decoder names: down.N.block.M, up.N.block.M with up.0
                                   the full-size level, mid.block_1/attn_1/block_2, norm_out, nin_shortcut); the mid
                                   attention's q/k/v/proj_out as the 1x1 convolutions [C, C, 1, 1] LDM stores
  cond_stage_model.transformer.*   the CLIP text encoder, under transformers' own names
  betas, alphas_cumprod, ...       DDPM's 12 schedule buffers (ddpm.py register_schedule, scaled_linear
                                   0.00085..0.012 over 1000 steps, float32) and CLIP's int64 position_ids,
                                   which LDM files carry and readers of the weights ignore

Same tensors, same dtypes, same bytes: only the names (and the VAE attention shapes) change. The renaming is
the inverse of diffusers' convert_ldm_unet_checkpoint / convert_ldm_vae_checkpoint /
convert_ldm_clip_checkpoint (src/diffusers/loaders/single_file_utils.py @ 58eb52c080), written here from the
block structure in the configs (layers_per_block, block types), not from aigc's Swift mapping, so that
SingleFileCheckpointTests cross-checks that mapping. Every folder tensor must be placed exactly once.

Writes Tests/Fixtures/sd-tiny-single-file.safetensors. Run from anywhere with numpy and safetensors:
  python3 scripts/reference/make_sd_single_file_fixture.py
"""
import json
import os

import numpy as np
from safetensors.numpy import load_file, save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TINY = os.path.join(ROOT, "Tests", "Fixtures", "sd-tiny")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "sd-tiny-single-file.safetensors")

UNET_PREFIX, VAE_PREFIX, CLIP_PREFIX = "model.diffusion_model.", "first_stage_model.", "cond_stage_model.transformer."

# diffusers ResnetBlock2D -> LDM ResBlock (in_layers = GroupNorm, SiLU, conv; emb_layers = SiLU, Linear;
# out_layers = GroupNorm, SiLU, Dropout, conv).
UNET_RESNET = {"norm1": "in_layers.0", "conv1": "in_layers.2", "time_emb_proj": "emb_layers.1",
               "norm2": "out_layers.0", "conv2": "out_layers.3", "conv_shortcut": "skip_connection"}
# diffusers ResnetBlock2D -> LDM's VAE ResnetBlock.
VAE_RESNET = {"norm1": "norm1", "conv1": "conv1", "norm2": "norm2", "conv2": "conv2", "conv_shortcut": "nin_shortcut"}
# diffusers Attention -> LDM AttnBlock.
VAE_ATTENTION = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}


def config(component):
    with open(os.path.join(TINY, component, "config.json")) as f:
        return json.load(f)


def split(name, prefix):
    """'down_blocks.1.resnets.0.conv1.weight' with prefix 'down_blocks.' -> (1, 'resnets.0.conv1.weight')."""
    index, rest = name[len(prefix):].split(".", 1)
    return int(index), rest


def unet_resnet(rest):
    """'conv_shortcut.weight' -> 'skip_connection.weight'."""
    layer, param = rest.rsplit(".", 1)
    return f"{UNET_RESNET[layer]}.{param}"


def unet_name(name, cfg):
    """diffusers UNet2DConditionModel name -> LDM UNetModel name (without the prefix)."""
    per_level = cfg["layers_per_block"] + 1  # LDM input/output blocks per level (down: L resnets + downsampler; up: L + 1 resnets)
    fixed = {"time_embedding.linear_1": "time_embed.0", "time_embedding.linear_2": "time_embed.2",
             "conv_in": "input_blocks.0.0", "conv_norm_out": "out.0", "conv_out": "out.2"}
    module, param = name.rsplit(".", 1)
    if module in fixed:
        return f"{fixed[module]}.{param}"
    if name.startswith("down_blocks."):
        level, rest = split(name, "down_blocks.")
        kind, rest = rest.split(".", 1)
        if kind == "downsamplers":
            assert rest.startswith("0.conv."), name
            return f"input_blocks.{1 + level * per_level + cfg['layers_per_block']}.0.op.{rest[len('0.conv.'):]}"
        j, rest = split(rest, "")
        block = 1 + level * per_level + j
        if kind == "resnets":
            return f"input_blocks.{block}.0.{unet_resnet(rest)}"
        assert kind == "attentions", name
        return f"input_blocks.{block}.1.{rest}"
    if name.startswith("mid_block."):
        kind, rest = name[len("mid_block."):].split(".", 1)
        j, rest = split(rest, "")
        if kind == "resnets":
            return f"middle_block.{2 * j}.{unet_resnet(rest)}"  # resnet, transformer, resnet
        assert kind == "attentions" and j == 0, name
        return f"middle_block.1.{rest}"
    if name.startswith("up_blocks."):
        level, rest = split(name, "up_blocks.")
        kind, rest = rest.split(".", 1)
        has_attention = cfg["up_block_types"][level].startswith("CrossAttn")
        if kind == "upsamplers":
            assert rest.startswith("0.conv."), name
            # The upsampler follows the last resnet (and its transformer when the level has one).
            return f"output_blocks.{level * per_level + per_level - 1}.{2 if has_attention else 1}.conv.{rest[len('0.conv.'):]}"
        j, rest = split(rest, "")
        block = level * per_level + j
        if kind == "resnets":
            return f"output_blocks.{block}.0.{unet_resnet(rest)}"
        assert kind == "attentions", name
        return f"output_blocks.{block}.1.{rest}"
    raise ValueError(f"no LDM place for UNet tensor {name}")


def vae_name(name, cfg):
    """diffusers AutoencoderKL name -> (LDM name without the prefix, is a mid-attention projection weight)."""
    levels = len(cfg["block_out_channels"])
    if name.split(".")[0] in ("quant_conv", "post_quant_conv"):
        return name, False
    coder, rest = name.split(".", 1)
    module, param = rest.rsplit(".", 1)
    if module in ("conv_in", "conv_out"):
        return f"{coder}.{module}.{param}", False
    if module == "conv_norm_out":
        return f"{coder}.norm_out.{param}", False
    if rest.startswith("mid_block.resnets."):
        j, inner = split(rest, "mid_block.resnets.")
        layer, param = inner.rsplit(".", 1)
        return f"{coder}.mid.block_{j + 1}.{VAE_RESNET[layer]}.{param}", False
    if rest.startswith("mid_block.attentions.0."):
        layer, param = rest[len("mid_block.attentions.0."):].rsplit(".", 1)
        return f"{coder}.mid.attn_1.{VAE_ATTENTION[layer]}.{param}", layer != "group_norm" and param == "weight"
    blocks = "down_blocks." if coder == "encoder" else "up_blocks."
    assert rest.startswith(blocks), name
    i, inner = split(rest, blocks)
    # LDM's decoder numbers its levels by resolution (up.0 is full size, run last); diffusers in run order.
    ldm_level = f"down.{i}" if coder == "encoder" else f"up.{levels - 1 - i}"
    if inner.startswith("resnets."):
        j, inner = split(inner, "resnets.")
        layer, param = inner.rsplit(".", 1)
        return f"{coder}.{ldm_level}.block.{j}.{VAE_RESNET[layer]}.{param}", False
    sampler = "downsample" if coder == "encoder" else "upsample"
    assert inner.startswith(f"{sampler}rs.0.conv."), name
    return f"{coder}.{ldm_level}.{sampler}.conv.{inner.rsplit('.', 1)[1]}", False


def schedule_buffers():
    """ddpm.py register_schedule for linear_start 0.00085, linear_end 0.012, 1000 steps, v_posterior 0: computed in
    float64, stored as float32."""
    betas = np.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=np.float64) ** 2
    alphas = 1.0 - betas
    cumprod = np.cumprod(alphas)
    prev = np.append(1.0, cumprod[:-1])
    variance = betas * (1.0 - prev) / (1.0 - cumprod)
    buffers = {
        "betas": betas, "alphas_cumprod": cumprod, "alphas_cumprod_prev": prev,
        "sqrt_alphas_cumprod": np.sqrt(cumprod), "sqrt_one_minus_alphas_cumprod": np.sqrt(1.0 - cumprod),
        "log_one_minus_alphas_cumprod": np.log(1.0 - cumprod), "sqrt_recip_alphas_cumprod": np.sqrt(1.0 / cumprod),
        "sqrt_recipm1_alphas_cumprod": np.sqrt(1.0 / cumprod - 1.0), "posterior_variance": variance,
        "posterior_log_variance_clipped": np.log(np.maximum(variance, 1e-20)),
        "posterior_mean_coef1": betas * np.sqrt(prev) / (1.0 - cumprod),
        "posterior_mean_coef2": (1.0 - prev) * np.sqrt(alphas) / (1.0 - cumprod),
    }
    return {k: v.astype(np.float32) for k, v in buffers.items()}


def main():
    out = {}

    def put(name, value):
        assert name not in out, f"two tensors land on {name}"
        out[name] = np.ascontiguousarray(value)

    unet_cfg = config("unet")
    unet = load_file(os.path.join(TINY, "unet", "diffusion_pytorch_model.safetensors"))
    for name, value in unet.items():
        put(UNET_PREFIX + unet_name(name, unet_cfg), value)

    vae_cfg = config("vae")
    vae = load_file(os.path.join(TINY, "vae", "diffusion_pytorch_model.safetensors"))
    for name, value in vae.items():
        ldm, conv = vae_name(name, vae_cfg)
        if conv:
            assert value.ndim == 2, name
            value = value.reshape(value.shape + (1, 1))  # LDM's AttnBlock: Conv2d(C, C, kernel_size=1)
        put(VAE_PREFIX + ldm, value)

    clip = load_file(os.path.join(TINY, "text_encoder", "model.safetensors"))
    for name, value in clip.items():
        assert name.startswith("text_model."), name
        put(CLIP_PREFIX + name, value)
    positions = clip["text_model.embeddings.position_embedding.weight"].shape[0]
    put(CLIP_PREFIX + "text_model.embeddings.position_ids", np.arange(positions, dtype=np.int64)[None, :])

    for name, value in schedule_buffers().items():
        put(name, value)

    assert len(out) == len(unet) + len(vae) + len(clip) + 1 + 12
    # One metadata key: safetensors writes the metadata map in hash order, so two keys would make the bytes vary run to run.
    save_file(out, OUT, metadata={"format": "pt"})
    print(f"{os.path.relpath(OUT, ROOT)}: {len(out)} tensors ({len(unet)} UNet, {len(vae)} VAE, {len(clip)} CLIP, 13 ignored), "
          f"{os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
