#!/usr/bin/env python3
"""Random blocks of every GGML block type and their dequantized values from gguf-py's numpy
dequantizers (gguf/quants.py), an implementation independent of aigc's C kernels.

Writes Tests/Fixtures/quant/<TYPE>.blocks (raw blocks) and <TYPE>.f32 (expected floats, little-endian)
plus meta.json. Run from the repository root: python3 scripts/reference/make_quant_fixtures.py
"""
import json
import os

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "quant")
SEED = 7
# Byte offsets of the float16 scale fields inside one block; random bytes there could be NaN/inf.
HALF_FIELDS = {T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0], T.Q2_K: [80, 82],
               T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208]}


def main():
    rng = np.random.default_rng(SEED)
    os.makedirs(OUT, exist_ok=True)
    meta = {"seed": SEED, "numpy": np.__version__, "gguf": __import__("importlib.metadata").metadata.version("gguf"), "types": {}}
    for qtype, fields in HALF_FIELDS.items():
        block_elements, block_bytes = GGML_QUANT_SIZES[qtype]
        blocks = 16 if block_elements == 32 else 6
        raw = rng.integers(0, 256, size=(blocks, block_bytes), dtype=np.uint8)
        for off in fields:
            halves = (rng.uniform(0.001, 0.1, size=blocks) * rng.choice([-1, 1], size=blocks)).astype(np.float16)
            raw[:, off:off + 2] = halves.view(np.uint8).reshape(blocks, 2)
        values = dequantize(raw.reshape(-1), qtype).astype(np.float32).reshape(-1)
        assert values.size == blocks * block_elements and np.isfinite(values).all()
        raw.tofile(os.path.join(OUT, f"{qtype.name}.blocks"))
        values.tofile(os.path.join(OUT, f"{qtype.name}.f32"))
        meta["types"][qtype.name] = {"id": int(qtype), "blocks": blocks}
    for qtype, dtype in ((T.F16, np.float16), (T.BF16, None)):
        x = rng.standard_normal(96).astype(np.float32)
        if dtype is not None:
            raw = x.astype(np.float16).view(np.uint8)
            values = x.astype(np.float16).astype(np.float32)
        else:
            bits = x.view(np.uint32)
            rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
            raw = rounded.view(np.uint8)
            values = dequantize(raw, T.BF16).astype(np.float32).reshape(-1)
        raw.tofile(os.path.join(OUT, f"{qtype.name}.blocks"))
        values.tofile(os.path.join(OUT, f"{qtype.name}.f32"))
        meta["types"][qtype.name] = {"id": int(qtype), "elements": 96}
    with open(os.path.join(OUT, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)


if __name__ == "__main__":
    main()
