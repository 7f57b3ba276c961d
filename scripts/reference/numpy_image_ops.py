"""numpy versions of the torch.nn image operations, written from the PyTorch documentation's
definitions (NCHW, float64 inside), for the reference fixtures of aigc's image kernels and models.

conv_transpose2d deliberately uses a different derivation than aigc (which scatters columns,
col2im): the textbook equivalence with a stride-1 convolution of the zero-upsampled input with the
flipped, in/out-swapped kernel, so the two implementations check each other.
"""
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """torch.nn.functional.conv2d (padding_mode as nn.Conv2d): x [N, C, H, W], w [O, C/groups, kH, kW]."""
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    if padding:
        mode = {"zeros": "constant", "replicate": "edge"}[padding_mode]
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), mode=mode)
    o, cg, kh, kw = w.shape
    span_h, span_w = dilation * (kh - 1) + 1, dilation * (kw - 1) + 1
    # windows: [N, C, H', W', span_h, span_w] -> taps every `dilation`, outputs every `stride`
    windows = sliding_window_view(x, (span_h, span_w), axis=(2, 3))[:, :, ::stride, ::stride, ::dilation, ::dilation]
    og = o // groups
    outs = []
    for g in range(groups):
        part = windows[:, g * cg:(g + 1) * cg]
        outs.append(np.einsum("nchwij,ocij->nohw", part, w[g * og:(g + 1) * og]))
    y = np.concatenate(outs, axis=1)
    if b is not None:
        y = y + np.asarray(b, np.float64)[None, :, None, None]
    return y


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1, groups=1):
    """torch.nn.functional.conv_transpose2d: x [N, C, H, W], w [C, O/groups, kH, kW]. Insert
    stride - 1 zeros between pixels, pad by dilation * (k - 1) - padding (+ output_padding at the
    bottom and right), and correlate with the flipped kernel whose in/out axes are swapped."""
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    n, c, h, wd = x.shape
    _, og, kh, kw = w.shape
    up = np.zeros((n, c, (h - 1) * stride + 1, (wd - 1) * stride + 1))
    up[:, :, ::stride, ::stride] = x
    ph, pw = dilation * (kh - 1) - padding, dilation * (kw - 1) - padding
    assert ph >= 0 and pw >= 0, "padding larger than the dilated kernel is not needed here"
    up = np.pad(up, ((0, 0), (0, 0), (ph, ph + output_padding), (pw, pw + output_padding)))
    cg = c // groups
    # Conv2d weight [O, C/groups, kH, kW] for each group: swap in/out and flip both spatial axes.
    flipped = np.concatenate([w[g * cg:(g + 1) * cg].transpose(1, 0, 2, 3)[:, :, ::-1, ::-1] for g in range(groups)], axis=0)
    return conv2d(up, flipped, b, stride=1, padding=0, dilation=dilation, groups=groups)


def batch_norm2d(x, mean, var, weight, bias, eps=1e-5):
    """nn.BatchNorm2d in eval mode."""
    s = lambda v: np.asarray(v, np.float64)[None, :, None, None]
    return (np.asarray(x, np.float64) - s(mean)) / np.sqrt(s(var) + eps) * s(weight) + s(bias)


def group_norm(x, groups, weight, bias, eps=1e-5):
    x = np.asarray(x, np.float64)
    n, c, h, w = x.shape
    g = x.reshape(n, groups, -1)
    y = ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + eps)).reshape(n, c, h, w)
    return y * np.asarray(weight, np.float64)[None, :, None, None] + np.asarray(bias, np.float64)[None, :, None, None]


def channel_layer_norm(x, weight, bias, eps=1e-6):
    """ConvNeXt's LayerNorm(data_format="channels_first")."""
    x = np.asarray(x, np.float64)
    u = x.mean(1, keepdims=True)
    s = ((x - u) ** 2).mean(1, keepdims=True)
    return (x - u) / np.sqrt(s + eps) * np.asarray(weight, np.float64)[None, :, None, None] + np.asarray(bias, np.float64)[None, :, None, None]


def upsample_nearest(x, factor):
    return np.repeat(np.repeat(np.asarray(x, np.float64), factor, axis=2), factor, axis=3)


def pool2d(x, kernel, stride, padding, mode):
    """nn.AvgPool2d (count_include_pad=True) or nn.MaxPool2d."""
    x = np.asarray(x, np.float64)
    fill = 0.0 if mode == "average" else -np.inf
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=fill)
    windows = sliding_window_view(x, (kernel, kernel), axis=(2, 3))[:, :, ::stride, ::stride]
    return windows.mean(axis=(-1, -2)) if mode == "average" else windows.max(axis=(-1, -2))


_erf = np.frompyfunc(math.erf, 1, 1)

ACTIVATIONS = {
    "relu": lambda x: np.maximum(x, 0),
    "leaky_relu_0.2": lambda x: np.where(x >= 0, x, 0.2 * x),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
    "silu": lambda x: x / (1 + np.exp(-x)),
    "gelu": lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2)).astype(np.float64)),
    "gelu_tanh": lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))),
}
