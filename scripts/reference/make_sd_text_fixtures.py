#!/usr/bin/env python3
"""A tiny random CLIP text encoder in diffusers' `text_encoder/` layout and its outputs, in numpy
(float64) following transformers' CLIPTextModel (models/clip/modeling_clip.py): token + position
embeddings, pre-LayerNorm blocks with causal multi-head self-attention (q scaled by head_dim^-0.5),
quick_gelu / gelu MLP, final LayerNorm.

Config: hidden 32, 4 heads, 5 layers, MLP 37, 77 positions, vocab 1000 (CLIP's is 49408; the token
ids below stand in for BOS/EOS with 998/999 so the embedding stays small). The token embedding and
mlp.fc1 weights are stored as float16 (as fp16 checkpoints do), the rest float32.

Writes Tests/Fixtures/sd-tiny/text_encoder/{config.json, model.safetensors} and
Tests/Fixtures/sd-text/{tokens.json, last_hidden_state.f32, clip_skip1.f32, gelu_last_hidden_state.f32, meta.json}:
  python3 scripts/reference/make_sd_text_fixtures.py   (needs numpy)
"""
import json
import os
import struct

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
MODEL = os.path.join(ROOT, "Tests", "Fixtures", "sd-tiny", "text_encoder")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "sd-text")
SEED = 20261123
CONFIG = {"architectures": ["CLIPTextModel"], "model_type": "clip_text_model", "hidden_size": 32, "intermediate_size": 37,
          "num_attention_heads": 4, "num_hidden_layers": 5, "max_position_embeddings": 77, "vocab_size": 1000,
          "hidden_act": "quick_gelu", "layer_norm_eps": 1e-05, "bos_token_id": 998, "eos_token_id": 999, "pad_token_id": 999,
          "projection_dim": 32, "torch_dtype": "float32"}
HALF = {"text_model.embeddings.token_embedding.weight"} | {f"text_model.encoder.layers.{i}.mlp.fc1.weight" for i in range(5)}


def save_safetensors(path, tensors):
    """safetensors layout: u64 header length, JSON header (dtype, shape, data_offsets), raw little-endian data."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        dtype = {np.dtype("<f4"): "F32", np.dtype("<f2"): "F16"}[a.dtype]
        raw = a.tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def weights(rng):
    C, F, V, P = CONFIG["hidden_size"], CONFIG["intermediate_size"], CONFIG["vocab_size"], CONFIG["max_position_embeddings"]
    W = {"text_model.embeddings.token_embedding.weight": rng.normal(0, 0.5, (V, C)),
         "text_model.embeddings.position_embedding.weight": rng.normal(0, 0.2, (P, C)),
         "text_model.final_layer_norm.weight": 1 + rng.normal(0, 0.1, C), "text_model.final_layer_norm.bias": rng.normal(0, 0.1, C)}
    for i in range(CONFIG["num_hidden_layers"]):
        p = f"text_model.encoder.layers.{i}."
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            W[p + f"self_attn.{proj}.weight"] = rng.normal(0, C ** -0.5, (C, C))
            W[p + f"self_attn.{proj}.bias"] = rng.normal(0, 0.1, C)
        for norm in ("layer_norm1", "layer_norm2"):
            W[p + norm + ".weight"] = 1 + rng.normal(0, 0.1, C)
            W[p + norm + ".bias"] = rng.normal(0, 0.1, C)
        W[p + "mlp.fc1.weight"], W[p + "mlp.fc1.bias"] = rng.normal(0, C ** -0.5, (F, C)), rng.normal(0, 0.1, F)
        W[p + "mlp.fc2.weight"], W[p + "mlp.fc2.bias"] = rng.normal(0, F ** -0.5, (C, F)), rng.normal(0, 0.1, C)
    return {k: v.astype(np.float16 if k in HALF else np.float32) for k, v in W.items()}


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def forward(W, tokens, activation, skip=0):
    W = {k: v.astype(np.float64) for k, v in W.items()}
    C, H, L = CONFIG["hidden_size"], CONFIG["num_attention_heads"], CONFIG["num_hidden_layers"]
    D, eps = C // H, CONFIG["layer_norm_eps"]
    T = tokens.shape[1]
    x = W["text_model.embeddings.token_embedding.weight"][tokens] + W["text_model.embeddings.position_embedding.weight"][:T]
    mask = np.triu(np.full((T, T), -np.inf), 1)
    act = {"quick_gelu": lambda z: z / (1 + np.exp(-1.702 * z)),
           "gelu": lambda z: 0.5 * z * (1 + np.vectorize(__import__("math").erf)(z / np.sqrt(2)))}[activation]
    for i in range(L - skip):
        p = f"text_model.encoder.layers.{i}."
        lin = lambda z, name: z @ W[p + name + ".weight"].T + W[p + name + ".bias"]
        h = layer_norm(x, W[p + "layer_norm1.weight"], W[p + "layer_norm1.bias"], eps)
        q = lin(h, "self_attn.q_proj") * D ** -0.5
        k, v = lin(h, "self_attn.k_proj"), lin(h, "self_attn.v_proj")
        split = lambda z: z.reshape(z.shape[0], T, H, D).transpose(0, 2, 1, 3)
        s = split(q) @ split(k).transpose(0, 1, 3, 2) + mask
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        o = (s @ split(v)).transpose(0, 2, 1, 3).reshape(x.shape)
        x = x + lin(o, "self_attn.out_proj")
        h = layer_norm(x, W[p + "layer_norm2.weight"], W[p + "layer_norm2.bias"], eps)
        x = x + lin(act(lin(h, "mlp.fc1")), "mlp.fc2")
    return layer_norm(x, W["text_model.final_layer_norm.weight"], W["text_model.final_layer_norm.bias"], eps)


def main():
    rng = np.random.default_rng(SEED)
    W = weights(rng)
    os.makedirs(MODEL, exist_ok=True)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(MODEL, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=1)
    save_safetensors(os.path.join(MODEL, "model.safetensors"), W)
    # Two prompts framed as CLIP frames them: BOS, words, EOS, EOS padding to 77.
    tokens = np.full((2, 77), 999, dtype=np.int64)
    for row, length in enumerate((9, 30)):
        tokens[row, 0] = 998
        tokens[row, 1:1 + length] = rng.integers(0, 998, length)
    forward(W, tokens, "quick_gelu").astype("<f4").tofile(os.path.join(OUT, "last_hidden_state.f32"))
    forward(W, tokens, "quick_gelu", skip=1).astype("<f4").tofile(os.path.join(OUT, "clip_skip1.f32"))
    forward(W, tokens, "gelu").astype("<f4").tofile(os.path.join(OUT, "gelu_last_hidden_state.f32"))
    with open(os.path.join(OUT, "tokens.json"), "w") as f:
        json.dump(tokens.tolist(), f)
    with open(os.path.join(OUT, "meta.json"), "w") as f:
        json.dump({"script": "scripts/reference/make_sd_text_fixtures.py", "seed": SEED, "numpy": np.__version__}, f, indent=1)


if __name__ == "__main__":
    main()
