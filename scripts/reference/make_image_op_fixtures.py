#!/usr/bin/env python3
"""Reference outputs of aigc's image operations (conv2d, conv-transpose2d, BatchNorm2d, GroupNorm,
channel LayerNorm, nearest upsampling, pooling, activations) from the numpy versions in
numpy_image_ops.py, on small random inputs with awkward shapes.

Writes Tests/Fixtures/image-ops/cases.json: a list of {name, op, params, input: {shape, values},
tensors: {name: {shape, values}}, output: {shape, values}}, float32 values; and meta.json.
Run from the repository root: python3 scripts/reference/make_image_op_fixtures.py
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy_image_ops as ops  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Fixtures", "image-ops")
SEED = 20261124


def f32(a):
    a = np.asarray(a, np.float32)
    # The shortest decimal that reads back as the same float32 keeps the file small and exact.
    return {"shape": list(a.shape), "values": [float(str(v)) for v in a.reshape(-1)]}


def main():
    rng = np.random.default_rng(SEED)
    r = lambda *shape: rng.standard_normal(shape).astype(np.float32)
    cases = []

    def add(name, op, params, x, tensors, y):
        cases.append({"name": name, "op": op, "params": params, "input": f32(x), "tensors": {k: f32(v) for k, v in tensors.items()}, "output": f32(y)})

    conv_cases = [
        ("conv_3x3_pad1_bias", dict(stride=1, padding=1, dilation=1, groups=1, padding_mode="zeros"), (2, 3, 7, 9), 5, 3),
        ("conv_3x3_stride2_pad1_odd", dict(stride=2, padding=1, dilation=1, groups=1, padding_mode="zeros"), (1, 5, 9, 11), 6, 3),
        ("conv_5x5_dilation2_groups2", dict(stride=1, padding=2, dilation=2, groups=2, padding_mode="zeros"), (1, 6, 10, 9), 4, 5),
        ("conv_3x3_replicate", dict(stride=1, padding=1, dilation=1, groups=1, padding_mode="replicate"), (2, 4, 6, 7), 3, 3),
        ("conv_7x7_replicate_stride2", dict(stride=2, padding=3, dilation=1, groups=1, padding_mode="replicate"), (1, 2, 9, 8), 3, 7),
        ("conv_1x1_pointwise", dict(stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"), (2, 9, 5, 3), 7, 1),
        ("conv_3x3_depthwise", dict(stride=1, padding=1, dilation=1, groups=6, padding_mode="zeros"), (1, 6, 5, 5), 6, 3),
    ]
    for name, p, shape, out, k in conv_cases:
        x, w, b = r(*shape), r(out, shape[1] // p["groups"], k, k) * 0.3, r(out)
        add(name, "conv2d", p, x, {"weight": w, "bias": b}, ops.conv2d(x, w, b, **p))

    transpose_cases = [
        ("deconv_4x4_stride1_pad0_dcgan_first", dict(stride=1, padding=0, output_padding=0, dilation=1, groups=1), (2, 10, 1, 1), 6, 4, False),
        ("deconv_3x3_stride2_pad1", dict(stride=2, padding=1, output_padding=0, dilation=1, groups=1), (2, 5, 4, 4), 3, 3, True),
        ("deconv_4x4_stride2_pad1", dict(stride=2, padding=1, output_padding=0, dilation=1, groups=1), (1, 4, 7, 5), 3, 4, False),
        ("deconv_3x3_stride2_outpad1_groups2", dict(stride=2, padding=1, output_padding=1, dilation=1, groups=2), (1, 4, 3, 5), 6, 3, True),
        ("deconv_3x3_dilation2_stride3", dict(stride=3, padding=2, output_padding=1, dilation=2, groups=1), (1, 3, 4, 3), 2, 3, True),
    ]
    for name, p, shape, out, k, bias in transpose_cases:
        x, w = r(*shape), r(shape[1], out // p["groups"], k, k) * 0.3
        b = r(out) if bias else None
        add(name, "conv_transpose2d", p, x, {"weight": w, **({"bias": b} if bias else {})}, ops.conv_transpose2d(x, w, b, **p))

    x = r(2, 5, 3, 7)
    mean, var, w, b = r(5), np.abs(r(5)) + 0.1, r(5), r(5)
    add("batch_norm2d", "batch_norm2d", {"eps": 1e-5}, x, {"running_mean": mean, "running_var": var, "weight": w, "bias": b},
        ops.batch_norm2d(x, mean, var, w, b))
    x = r(2, 6, 5, 3) * 2 + 1
    w, b = r(6), r(6)
    add("group_norm_3_groups", "group_norm", {"groups": 3, "eps": 1e-5}, x, {"weight": w, "bias": b}, ops.group_norm(x, 3, w, b))
    x = r(2, 5, 3, 4) + 0.5
    w, b = r(5), r(5)
    add("channel_layer_norm", "channel_layer_norm", {"eps": 1e-6}, x, {"weight": w, "bias": b}, ops.channel_layer_norm(x, w, b))
    x = r(1, 3, 3, 5)
    add("upsample_nearest_2", "upsample_nearest", {"factor": 2}, x, {}, ops.upsample_nearest(x, 2))
    x = r(2, 3, 7, 9)
    add("avg_pool_2", "pool2d", {"mode": "average", "kernel": 2, "stride": 2, "padding": 0}, x, {}, ops.pool2d(x, 2, 2, 0, "average"))
    add("avg_pool_3_s2_p1", "pool2d", {"mode": "average", "kernel": 3, "stride": 2, "padding": 1}, x, {}, ops.pool2d(x, 3, 2, 1, "average"))
    add("max_pool_2", "pool2d", {"mode": "max", "kernel": 2, "stride": 2, "padding": 0}, x, {}, ops.pool2d(x, 2, 2, 0, "max"))
    add("max_pool_3_s2_p1", "pool2d", {"mode": "max", "kernel": 3, "stride": 2, "padding": 1}, x, {}, ops.pool2d(x, 3, 2, 1, "max"))
    x = r(1, 3, 5, 7) * 4
    for name, fn in ops.ACTIVATIONS.items():
        add("activation_" + name, "activation", {"kind": name}, x, {}, fn(x.astype(np.float64)))

    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(cases, f, separators=(",", ":"))
        f.write("\n")
    with open(os.path.join(OUT, "meta.json"), "w") as f:
        json.dump({"seed": SEED, "python": sys.version.split()[0], "numpy": np.__version__,
                   "script": "scripts/reference/make_image_op_fixtures.py", "cases": len(cases)}, f, indent=1)
        f.write("\n")
    print(f"{len(cases)} cases")


if __name__ == "__main__":
    main()
