#!/usr/bin/env python3
"""A whole Stable Diffusion run on the tiny random-weight pipeline (Tests/Fixtures/sd-tiny), in numpy:
CLIP tokens -> text encoder (negative, positive) -> 2 scheduler steps over the U-Net with
classifier-free guidance -> VAE decode -> image in [0, 1], as diffusers' StableDiffusionPipeline runs
it. Reuses the component references (make_sd_text_fixtures, make_sd_unet_fixtures,
make_scheduler_fixtures) on the weights stored in the fixture folders.

Also completes the tiny folder with what a pipeline needs besides weights:
  tokenizer/vocab.json + merges.txt   CLIP's vocabulary cut to the tiny encoder's 1000 ids (the first
                                      998 tokens of open_clip's list, then <|startoftext|> 998 and
                                      <|endoftext|> 999) and the 486 merges that build them
  scheduler/scheduler_config.json     SD 1.5's (PNDMScheduler, scaled_linear 0.00085..0.012, leading, offset 1)
Writes Tests/Fixtures/sd-tiny/reference/pipeline-{ddim,euler}.safetensors (tokens, starting noise,
final latents, image). Run from the repository root with numpy and safetensors:
  python3 scripts/reference/make_sd_pipeline_fixtures.py
"""
import gzip
import json
import os
import re
import sys

import numpy as np
from safetensors.numpy import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_scheduler_fixtures as schedulers  # noqa: E402
import make_sd_text_fixtures as text  # noqa: E402
import make_sd_unet_fixtures as unet  # noqa: E402

ROOT = os.path.join(HERE, "..", "..")
TINY = os.path.join(ROOT, "Tests", "Fixtures", "sd-tiny")
VOCAB = os.path.join(ROOT, "..", "shared", "data", "tokenizers", "clip", "bpe_simple_vocab_16e6.txt.gz")
PROMPT, NEGATIVE, GUIDANCE, STEPS, SEED = "a red fox in the snow at dawn", "blurry", 7.5, 2, 20261123
SD15 = schedulers.CONFIGS["sd15"]


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def tiny_tokenizer():
    """open_clip's token list cut to 998 + 2 specials; writes tokenizer/ and returns (encoder, ranks)."""
    byte_encoder = bytes_to_unicode()
    merges = [tuple(m.split()) for m in gzip.open(VOCAB).read().decode("utf-8").split("\n")[1:49152 - 256 - 2 + 1]]
    tokens = list(byte_encoder.values())
    tokens += [t + "</w>" for t in tokens]
    kept_merges = merges[:998 - len(tokens)]
    tokens += ["".join(m) for m in kept_merges]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    encoder = {t: i for i, t in enumerate(tokens)}
    folder = os.path.join(TINY, "tokenizer")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(encoder, f, ensure_ascii=False)
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in kept_merges))
    return encoder, {m: i for i, m in enumerate(kept_merges)}, byte_encoder


def encode(text_in, encoder, ranks, byte_encoder):
    """open_clip's framing for plain lower-case ASCII prompts (no ftfy or HTML needed)."""
    ids = []
    for word in re.findall(r"'s|'t|'re|'ve|'m|'ll|'d|[a-z]+|[0-9]|[^\sa-z0-9]+", " ".join(text_in.split()).lower()):
        word = "".join(byte_encoder[b] for b in word.encode())
        parts = list(word[:-1]) + [word[-1] + "</w>"]
        while len(parts) > 1:
            pairs = [(parts[i], parts[i + 1]) for i in range(len(parts) - 1)]
            best = min(pairs, key=lambda p: ranks.get(p, float("inf")))
            if best not in ranks:
                break
            merged, i = [], 0
            while i < len(parts):
                if i < len(parts) - 1 and (parts[i], parts[i + 1]) == best:
                    merged.append(parts[i] + parts[i + 1])
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        ids += [encoder[p] for p in parts]
    ids = [998] + ids[:75] + [999]
    return ids + [999] * (77 - len(ids))


def component(name, stem):
    params = unet.Params(np.random.default_rng(0))
    params.values = dict(load_file(os.path.join(TINY, name, stem + ".safetensors")))
    with open(os.path.join(TINY, name, "config.json")) as f:
        return params, json.load(f)


def main():
    encoder, ranks, byte_encoder = tiny_tokenizer()
    os.makedirs(os.path.join(TINY, "scheduler"), exist_ok=True)
    with open(os.path.join(TINY, "scheduler", "scheduler_config.json"), "w") as f:
        json.dump(dict(SD15, _class_name="PNDMScheduler", _diffusers_version="0.30.0", prediction_type="epsilon"), f, indent=1)

    tokens = np.array([encode(NEGATIVE, encoder, ranks, byte_encoder), encode(PROMPT, encoder, ranks, byte_encoder)])
    weights = load_file(os.path.join(TINY, "text_encoder", "model.safetensors"))
    context = text.forward(weights, tokens, "quick_gelu")
    P, ucfg = component("unet", "diffusion_pytorch_model")
    V, vcfg = component("vae", "diffusion_pytorch_model")
    side = ucfg["sample_size"]
    noise = np.random.default_rng(SEED).standard_normal((1, 4, side, side)).astype(np.float32)
    for kind in ("ddim", "euler"):
        sched = schedulers.MAKERS[kind](schedulers.settings(SD15, kind), STEPS)
        latents = (noise * sched.init_noise_sigma).astype(np.float32)
        for i in range(STEPS):
            model_input = sched.scale(latents, i) if hasattr(sched, "scale") else latents
            t = float(sched.timesteps[i])
            out = unet.unet_forward(P, ucfg, np.concatenate([model_input, model_input]).astype(np.float64), np.array([t, t]), context)
            guided = (out[:1] + GUIDANCE * (out[1:] - out[:1])).astype(np.float32)
            latents = sched.step(guided, latents, i, None)
        decoded = unet.vae_decode(V, vcfg, latents.astype(np.float64) / vcfg["scaling_factor"])
        image = np.clip((decoded + 1) / 2, 0, 1)
        save_file({"tokens": tokens.astype(np.float32), "noise": noise, "latents": np.ascontiguousarray(latents, np.float32),
                   "image": np.ascontiguousarray(image, np.float32)},
                  os.path.join(TINY, "reference", f"pipeline-{kind}.safetensors"))
        print(kind, "timesteps", list(sched.timesteps), "image mean", float(image.mean()))


if __name__ == "__main__":
    main()
