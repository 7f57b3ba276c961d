#!/usr/bin/env python3
"""Tiny random-weight text models and their reference outputs, computed with numpy only.

Writes Tests/Fixtures/tiny-models/<name>/ with:
  model.gguf                  (gguf-py; Llama q/k permuted for interleaved rope, as convert_hf_to_gguf does)
  hf/config.json, hf/model.safetensors, hf/vocab.json, hf/merges.txt  (Hugging Face layout)
  reference.json              prompt ids, full-prefill logits, greedy continuation (+ beam search for GPT-2)
and meta.json with the seed and library versions. Run from the repository root:
  python3 scripts/reference/make_tiny_models.py
Needs: numpy, gguf (gguf-py), safetensors.
"""
import json
import os
import sys

import numpy as np

import gguf
from safetensors.numpy import save_file

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "tiny-models")
SEED = 20261123
VOCAB = 256
PROMPT = [1, 72, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100]  # "\x01Hello world"
GREEDY_STEPS = 24
EOS = 0


# ---------------------------------------------------------------- byte-level tokenizer of 256 tokens
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def tiny_vocab():
    b2u = bytes_to_unicode()
    tokens = [b2u[b] for b in range(256)]
    tokens[EOS] = "<|endoftext|>"  # byte 0 is given up for an end-of-text control token
    types = [1] * 256
    types[EOS] = 3
    return tokens, types


# ---------------------------------------------------------------- numpy reference forward passes
def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def layer_norm(x, w, b, eps):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * w + b


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def rope_neox(x, positions, theta, dims):
    # x: [T, H, D]; rotate (i, i + dims/2) pairs of the first `dims` dimensions (Hugging Face rotate_half)
    half = dims // 2
    freqs = theta ** (-np.arange(half, dtype=np.float64) * 2 / dims)
    ang = np.outer(positions, freqs)  # [T, half]
    cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    a, b = x[..., :half].astype(np.float64), x[..., half:dims].astype(np.float64)
    out = x.astype(np.float64).copy()
    out[..., :half] = a * cos - b * sin
    out[..., half:dims] = a * sin + b * cos
    return out


def llama_forward(W, cfg, tokens):
    C, H, KV = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    D = C // H
    T = len(tokens)
    pos = np.arange(T)
    x = W["model.embed_tokens.weight"][tokens].astype(np.float64)
    mask = np.triu(np.full((T, T), -np.inf), 1)
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = rms_norm(x, W[p + "input_layernorm.weight"], cfg["rms_norm_eps"])
        q = h @ W[p + "self_attn.q_proj.weight"].T
        k = h @ W[p + "self_attn.k_proj.weight"].T
        v = h @ W[p + "self_attn.v_proj.weight"].T
        if p + "self_attn.q_proj.bias" in W:
            q, k, v = q + W[p + "self_attn.q_proj.bias"], k + W[p + "self_attn.k_proj.bias"], v + W[p + "self_attn.v_proj.bias"]
        q = rope_neox(q.reshape(T, H, D), pos, cfg["rope_theta"], D)
        k = rope_neox(k.reshape(T, KV, D), pos, cfg["rope_theta"], D)
        v = v.reshape(T, KV, D)
        group = H // KV
        out = np.zeros((T, H, D))
        for hh in range(H):
            s = q[:, hh, :] @ k[:, hh // group, :].T / np.sqrt(D) + mask
            out[:, hh, :] = softmax(s) @ v[:, hh // group, :]
        x = x + out.reshape(T, C) @ W[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], cfg["rms_norm_eps"])
        g = h @ W[p + "mlp.gate_proj.weight"].T
        u = h @ W[p + "mlp.up_proj.weight"].T
        x = x + (g / (1 + np.exp(-g)) * u) @ W[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, W["model.norm.weight"], cfg["rms_norm_eps"])
    head = W.get("lm_head.weight", W["model.embed_tokens.weight"])
    return x @ head.T


def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def gpt2_forward(W, cfg, tokens):
    C, H = cfg["n_embd"], cfg["n_head"]
    D = C // H
    T = len(tokens)
    x = W["wte.weight"][tokens].astype(np.float64) + W["wpe.weight"][np.arange(T)]
    mask = np.triu(np.full((T, T), -np.inf), 1)
    eps = cfg["layer_norm_epsilon"]
    for l in range(cfg["n_layer"]):
        p = f"h.{l}."
        h = layer_norm(x, W[p + "ln_1.weight"], W[p + "ln_1.bias"], eps)
        qkv = h @ W[p + "attn.c_attn.weight"] + W[p + "attn.c_attn.bias"]  # Conv1D: [in, out]
        q, k, v = qkv[:, :C].reshape(T, H, D), qkv[:, C:2 * C].reshape(T, H, D), qkv[:, 2 * C:].reshape(T, H, D)
        out = np.zeros((T, H, D))
        for hh in range(H):
            s = q[:, hh] @ k[:, hh].T / np.sqrt(D) + mask
            out[:, hh] = softmax(s) @ v[:, hh]
        x = x + out.reshape(T, C) @ W[p + "attn.c_proj.weight"] + W[p + "attn.c_proj.bias"]
        h = layer_norm(x, W[p + "ln_2.weight"], W[p + "ln_2.bias"], eps)
        f = gelu_tanh(h @ W[p + "mlp.c_fc.weight"] + W[p + "mlp.c_fc.bias"])
        x = x + f @ W[p + "mlp.c_proj.weight"] + W[p + "mlp.c_proj.bias"]
    x = layer_norm(x, W["ln_f.weight"], W["ln_f.bias"], eps)
    return x @ W["wte.weight"].T


def log_softmax(x):
    m = x.max()
    return x - (m + np.log(np.exp(x - m).sum()))


def greedy(forward, prompt, steps):
    """Greedy tokens; refuses to produce a reference whose argmax is a near tie (flaky in float32)."""
    seq = list(prompt)
    out = []
    for _ in range(steps):
        last = forward(seq)[-1]
        top2 = np.sort(last)[-2:]
        assert top2[1] - top2[0] > 1e-3, f"near tie in the greedy path ({top2[1] - top2[0]:.2e}); change SEED"
        nxt = int(np.argmax(last))
        if nxt == EOS:
            break
        out.append(nxt)
        seq.append(nxt)
    return out


def banned_ngram_tokens(seq, n):
    if n <= 0 or len(seq) + 1 < n:
        return []
    prefix = seq[len(seq) - (n - 1):]
    return [seq[i + n - 1] for i in range(len(seq) - n + 1) if seq[i:i + n - 1] == prefix]


def beam_search(forward, prompt, beams, max_new, length_penalty=1.0, early_stopping=False, no_repeat=0):
    """Hugging Face transformers' beam search (BeamSearchScorer + BeamHypotheses, v4.46)."""
    tokens = [[] for _ in range(beams)]
    scores = [0.0] + [-1e9] * (beams - 1)
    hyps, worst = [], 1e9
    done = False

    def add(seq, s, length, eos):
        nonlocal worst
        score = s / (max(length, 1) ** length_penalty)
        if len(hyps) < beams or score > worst:
            hyps.append((score, seq, eos))
            if len(hyps) > beams:
                i = min(range(len(hyps)), key=lambda j: hyps[j][0])
                del hyps[i]
                worst = min(h[0] for h in hyps)
            else:
                worst = min(score, worst)

    step = 0
    while step < max_new:
        cands = []
        for b in range(beams):
            lp = log_softmax(forward(prompt + tokens[b])[-1])
            for t in banned_ngram_tokens(prompt + tokens[b], no_repeat):
                lp[t] = -np.inf
            for v in range(len(lp)):
                if lp[v] > -np.inf:
                    cands.append((scores[b] + lp[v], b, v))
        cands.sort(key=lambda c: -c[0])
        cands = cands[:2 * beams]
        nxt = []
        for rank, (s, b, v) in enumerate(cands):
            if v == EOS:
                if rank < beams:
                    add(tokens[b], s, step + 1, True)
            else:
                nxt.append((s, b, v))
            if len(nxt) == beams:
                break
        step += 1
        if len(hyps) >= beams and (early_stopping or worst >= cands[0][0] / (step ** length_penalty)):
            done = True
            break
        tokens = [tokens[b] + [v] for (_, b, v) in nxt]
        scores = [s for (s, _, _) in nxt]
    if not done:
        for b in range(beams):
            add(tokens[b], scores[b], len(tokens[b]), False)
    best = max(range(len(hyps)), key=lambda j: (hyps[j][0], j))
    return {"tokens": hyps[best][1], "score": hyps[best][0], "ended_with_eos": hyps[best][2]}


# ---------------------------------------------------------------- writers
def permute_for_gguf(w, n_head, n_head_kv=None):
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def write_tokenizer_gguf(w):
    tokens, types = tiny_vocab()
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges([])
    w.add_bos_token_id(EOS)
    w.add_eos_token_id(EOS)


def write_tokenizer_hf(folder):
    tokens, _ = tiny_vocab()
    with open(os.path.join(folder, "vocab.json"), "w") as f:
        json.dump({t: i for i, t in enumerate(tokens)}, f, ensure_ascii=False)
    with open(os.path.join(folder, "merges.txt"), "w") as f:
        f.write("#version: 0.2\n")


def write_huggingface_folder(name, cfg, W):
    """hf/config.json, hf/model.safetensors and the tokenizer files; returns the model's folder."""
    folder = os.path.join(ROOT, name)
    hf = os.path.join(folder, "hf")
    os.makedirs(hf, exist_ok=True)
    save_file({k: v.astype(np.float32) for k, v in W.items()}, os.path.join(hf, "model.safetensors"))
    with open(os.path.join(hf, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    write_tokenizer_hf(hf)
    return folder


def write_llama(name, cfg, W, arch):
    folder = write_huggingface_folder(name, cfg, W)

    g = gguf.GGUFWriter(os.path.join(folder, "model.gguf"), arch)
    g.add_name(name)
    g.add_context_length(cfg["max_position_embeddings"])
    g.add_embedding_length(cfg["hidden_size"])
    g.add_block_count(cfg["num_hidden_layers"])
    g.add_feed_forward_length(cfg["intermediate_size"])
    g.add_head_count(cfg["num_attention_heads"])
    g.add_head_count_kv(cfg["num_key_value_heads"])
    g.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    g.add_rope_freq_base(cfg["rope_theta"])
    g.add_rope_dimension_count(cfg["hidden_size"] // cfg["num_attention_heads"])
    g.add_file_type(0)
    write_tokenizer_gguf(g)
    H, KV = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    names = {"input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
             "self_attn.o_proj": "attn_output", "post_attention_layernorm": "ffn_norm", "mlp.gate_proj": "ffn_gate",
             "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down"}
    g.add_tensor("token_embd.weight", W["model.embed_tokens.weight"].astype(np.float32))
    for l in range(cfg["num_hidden_layers"]):
        for hf_name, gg_name in names.items():
            for suffix in ("weight", "bias"):
                key = f"model.layers.{l}.{hf_name}.{suffix}"
                if key not in W:
                    continue
                t = W[key]
                if arch == "llama" and hf_name == "self_attn.q_proj":
                    t = permute_for_gguf(t, H, H)
                if arch == "llama" and hf_name == "self_attn.k_proj":
                    t = permute_for_gguf(t, H, KV)
                g.add_tensor(f"blk.{l}.{gg_name}.{suffix}", t.astype(np.float32))
    g.add_tensor("output_norm.weight", W["model.norm.weight"].astype(np.float32))
    if "lm_head.weight" in W:
        g.add_tensor("output.weight", W["lm_head.weight"].astype(np.float32))
    g.write_header_to_file()
    g.write_kv_data_to_file()
    g.write_tensors_to_file()
    g.close()


def write_gpt2(name, cfg, W):
    folder = write_huggingface_folder(name, cfg, W)
    g = gguf.GGUFWriter(os.path.join(folder, "model.gguf"), "gpt2")
    g.add_name(name)
    g.add_context_length(cfg["n_positions"])
    g.add_embedding_length(cfg["n_embd"])
    g.add_block_count(cfg["n_layer"])
    g.add_feed_forward_length(4 * cfg["n_embd"])
    g.add_head_count(cfg["n_head"])
    g.add_layer_norm_eps(cfg["layer_norm_epsilon"])
    g.add_file_type(0)
    write_tokenizer_gguf(g)
    g.add_tensor("token_embd.weight", W["wte.weight"].astype(np.float32))
    g.add_tensor("position_embd.weight", W["wpe.weight"].astype(np.float32))
    names = {"ln_1": "attn_norm", "attn.c_attn": "attn_qkv", "attn.c_proj": "attn_output", "ln_2": "ffn_norm",
             "mlp.c_fc": "ffn_up", "mlp.c_proj": "ffn_down"}
    for l in range(cfg["n_layer"]):
        for hf_name, gg_name in names.items():
            w = W[f"h.{l}.{hf_name}.weight"]
            if w.ndim == 2:
                w = w.T  # Conv1D [in, out] -> [out, in]
            g.add_tensor(f"blk.{l}.{gg_name}.weight", np.ascontiguousarray(w).astype(np.float32))
            g.add_tensor(f"blk.{l}.{gg_name}.bias", W[f"h.{l}.{hf_name}.bias"].astype(np.float32))
    g.add_tensor("output_norm.weight", W["ln_f.weight"].astype(np.float32))
    g.add_tensor("output_norm.bias", W["ln_f.bias"].astype(np.float32))
    g.write_header_to_file()
    g.write_kv_data_to_file()
    g.write_tensors_to_file()
    g.close()


def save_reference(name, forward, extra=None):
    logits = forward(PROMPT)
    ref = {
        "prompt": PROMPT,
        "logits": [[float(v) for v in row] for row in logits.astype(np.float32)],
        "greedy": greedy(forward, PROMPT, GREEDY_STEPS),
    }
    if extra:
        ref.update(extra)
    with open(os.path.join(ROOT, name, "reference.json"), "w") as f:
        json.dump(ref, f)


def llama_weights(rng, cfg, qkv_bias, tied):
    C, F, H, KV = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    D = C // H
    W = {"model.embed_tokens.weight": rng.standard_normal((VOCAB, C)) * 0.5}
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        W[p + "input_layernorm.weight"] = 1 + 0.1 * rng.standard_normal(C)
        W[p + "self_attn.q_proj.weight"] = rng.standard_normal((H * D, C)) / np.sqrt(C)
        W[p + "self_attn.k_proj.weight"] = rng.standard_normal((KV * D, C)) / np.sqrt(C)
        W[p + "self_attn.v_proj.weight"] = rng.standard_normal((KV * D, C)) / np.sqrt(C)
        if qkv_bias:
            W[p + "self_attn.q_proj.bias"] = 0.1 * rng.standard_normal(H * D)
            W[p + "self_attn.k_proj.bias"] = 0.1 * rng.standard_normal(KV * D)
            W[p + "self_attn.v_proj.bias"] = 0.1 * rng.standard_normal(KV * D)
        W[p + "self_attn.o_proj.weight"] = rng.standard_normal((C, H * D)) / np.sqrt(H * D)
        W[p + "post_attention_layernorm.weight"] = 1 + 0.1 * rng.standard_normal(C)
        W[p + "mlp.gate_proj.weight"] = rng.standard_normal((F, C)) / np.sqrt(C)
        W[p + "mlp.up_proj.weight"] = rng.standard_normal((F, C)) / np.sqrt(C)
        W[p + "mlp.down_proj.weight"] = rng.standard_normal((C, F)) / np.sqrt(F)
    W["model.norm.weight"] = 1 + 0.1 * rng.standard_normal(C)
    if not tied:
        W["lm_head.weight"] = rng.standard_normal((VOCAB, C)) / np.sqrt(C)
    # Store what the files store: float32 values.
    return {k: v.astype(np.float32).astype(np.float64) for k, v in W.items()}


def gpt2_weights(rng, cfg):
    C = cfg["n_embd"]
    W = {"wte.weight": rng.standard_normal((VOCAB, C)) * 0.3, "wpe.weight": rng.standard_normal((cfg["n_positions"], C)) * 0.1}
    for l in range(cfg["n_layer"]):
        p = f"h.{l}."
        for ln in ("ln_1", "ln_2"):
            W[p + ln + ".weight"] = 1 + 0.1 * rng.standard_normal(C)
            W[p + ln + ".bias"] = 0.1 * rng.standard_normal(C)
        W[p + "attn.c_attn.weight"] = rng.standard_normal((C, 3 * C)) / np.sqrt(C)
        W[p + "attn.c_attn.bias"] = 0.1 * rng.standard_normal(3 * C)
        W[p + "attn.c_proj.weight"] = rng.standard_normal((C, C)) / np.sqrt(C)
        W[p + "attn.c_proj.bias"] = 0.1 * rng.standard_normal(C)
        W[p + "mlp.c_fc.weight"] = rng.standard_normal((C, 4 * C)) / np.sqrt(C)
        W[p + "mlp.c_fc.bias"] = 0.1 * rng.standard_normal(4 * C)
        W[p + "mlp.c_proj.weight"] = rng.standard_normal((4 * C, C)) / np.sqrt(4 * C)
        W[p + "mlp.c_proj.bias"] = 0.1 * rng.standard_normal(C)
    W["ln_f.weight"] = 1 + 0.1 * rng.standard_normal(C)
    W["ln_f.bias"] = 0.1 * rng.standard_normal(C)
    return {k: v.astype(np.float32).astype(np.float64) for k, v in W.items()}


def main():
    rng = np.random.default_rng(SEED)
    llama_cfg = {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                 "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": VOCAB, "max_position_embeddings": 128,
                 "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": False}
    W = llama_weights(rng, llama_cfg, qkv_bias=False, tied=False)
    write_llama("llama", llama_cfg, W, "llama")
    save_reference("llama", lambda t: llama_forward(W, llama_cfg, t))

    qwen_cfg = dict(llama_cfg, model_type="qwen2", num_key_value_heads=1, rope_theta=1000000.0, rms_norm_eps=1e-6,
                    tie_word_embeddings=True)
    Wq = llama_weights(rng, qwen_cfg, qkv_bias=True, tied=True)
    write_llama("qwen2", qwen_cfg, Wq, "qwen2")
    save_reference("qwen2", lambda t: llama_forward(Wq, qwen_cfg, t))

    gpt2_cfg = {"model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 4, "vocab_size": VOCAB, "n_positions": 128,
                "layer_norm_epsilon": 1e-5}
    Wg = gpt2_weights(rng, gpt2_cfg)
    write_gpt2("gpt2", gpt2_cfg, Wg)
    fwd = lambda t: gpt2_forward(Wg, gpt2_cfg, t)
    save_reference("gpt2", fwd, {
        "beam_search": [
            dict(beams=5, max_new=20, length_penalty=1.0, early_stopping=True, no_repeat_ngram=2,
                 **beam_search(fwd, PROMPT, 5, 20, 1.0, True, 2)),
            dict(beams=3, max_new=12, length_penalty=0.7, early_stopping=False, no_repeat_ngram=0,
                 **beam_search(fwd, PROMPT, 3, 12, 0.7, False, 0)),
        ]})

    with open(os.path.join(ROOT, "meta.json"), "w") as f:
        json.dump({"seed": SEED, "numpy": np.__version__, "gguf": __import__("importlib.metadata").metadata.version("gguf"),
                   "safetensors": __import__("importlib.metadata").metadata.version("safetensors"),
                   "python": sys.version.split()[0], "script": "scripts/reference/make_tiny_models.py"}, f, indent=1)


if __name__ == "__main__":
    main()
