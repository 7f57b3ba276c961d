#!/usr/bin/env python3
"""numpy forward passes of the three MNIST image generators in shared/data/models, on fixed noise
that is written into the fixtures so the Swift tests feed the networks exactly the same input.

  gan:  DCGAN generator (gan/generator.pth): z [4, 100] -> tanh images [4, 1, 28, 28]
  vae:  decoder (vae/vae.pth): z [4, 20] -> sigmoid images; encoder of those images -> mean and
        log-variance [4, 20]; the latent digit classifier (vae/classifier.pth) of z -> logits [4, 10]
  ddpm: toy DDPM (ddpm/ddpm_mnist.pth): x_T [4, 1, 28, 28] and z for t = 10..2, the eps of the
        first step, and x_0 of ancestral sampling (Algorithm 2, float32 schedule buffers)

The checkpoints are read with make_pytorch_fixtures.read_numpy (zipfile + a restricted
pickle.Unpickler whose find_class allows only OrderedDict, _rebuild_tensor_v2, _rebuild_parameter
and storage classes, and whose persistent_load maps storages to numpy arrays); torch is not needed.

Writes Tests/Fixtures/mnist-generators/<name>.f32 (raw little-endian float32, C order),
manifest.json ({name: shape}) and meta.json. Run from the repository root:
  python3 scripts/reference/make_mnist_generator_fixtures.py
"""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import numpy_image_ops as ops  # noqa: E402
from make_pytorch_fixtures import read_numpy  # noqa: E402

ROOT = os.path.join(HERE, "..", "..")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "mnist-generators")
MODELS = os.path.join(ROOT, "..", "shared", "data", "models")
SEED = 20261125
N = 4


def dcgan(W, z):
    """generator.pth, layer_stack indices as in gan/ARCH.md."""
    x = z.reshape(-1, 100, 1, 1)
    plan = [(1, 1, 0), (4, 2, 1), (7, 2, 1), (10, 2, 1)]  # (index, stride, padding)
    for index, stride, padding in plan:
        x = ops.conv_transpose2d(x, W[f"layer_stack.{index}.weight"], None, stride=stride, padding=padding)
        if index != 10:
            p = f"layer_stack.{index + 1}."
            x = ops.batch_norm2d(x, W[p + "running_mean"], W[p + "running_var"], W[p + "weight"], W[p + "bias"], 1e-5)
            x = np.where(x >= 0, x, 0.2 * x)
    return np.tanh(x)


def vae_decode(W, z):
    x = (z.astype(np.float64) @ W["decoder.fc.weight"].T.astype(np.float64) + W["decoder.fc.bias"]).reshape(-1, 8, 28, 28)
    for i, act in ((1, "relu"), (2, "relu"), (3, "sigmoid")):
        p = f"decoder.conv{i}."
        x = ops.conv2d(x, W[p + "weight"], W[p + "bias"], padding=1, padding_mode="replicate")
        x = np.maximum(x, 0) if act == "relu" else 1 / (1 + np.exp(-x))
    return x


def vae_encode(W, images):
    x = images
    for i in (1, 2):
        p = f"encoder.conv{i}."
        x = ops.conv2d(x, W[p + "weight"], W[p + "bias"], padding=1, padding_mode="replicate")
        x = ops.pool2d(np.maximum(x, 0), 2, 2, 0, "max")
    b = ops.conv2d(x, W["encoder.conv3.weight"], W["encoder.conv3.bias"]).reshape(len(images), -1)
    return b @ W["mean_layer.weight"].T + W["mean_layer.bias"], b @ W["logvar_layer.weight"].T + W["logvar_layer.bias"]


def classifier(W, z):
    h = np.maximum(z.astype(np.float64) @ W["module.0.weight"].T + W["module.0.bias"], 0)
    return h @ W["module.2.weight"].T + W["module.2.bias"]


def ddpm_eps(W, x):
    for i in range(3):
        p = f"eps_model.conv.{i}."
        x = ops.conv2d(x, W[p + "0.weight"], W[p + "0.bias"], padding=3)
        x = ops.batch_norm2d(x, W[p + "1.running_mean"], W[p + "1.running_var"], W[p + "1.weight"], W[p + "1.bias"], 1e-5)
        x = np.where(x >= 0, x, 0.01 * x)
    return ops.conv2d(x, W["eps_model.conv.3.weight"], W["eps_model.conv.3.bias"], padding=1)


def ddpm_sample(W, x_T, zs):
    """DDPM.sample of superminddpm.py with the given noise; zs[k] is z for t = 10 - k."""
    n_T = len(W["alpha_t"]) - 1
    x = x_T.astype(np.float64)
    first_eps = None
    for t in range(n_T, 0, -1):
        eps = ddpm_eps(W, x)
        if first_eps is None:
            first_eps = eps
        z = zs[n_T - t] if t > 1 else 0.0
        x = W["oneover_sqrta"][t] * (x - eps * W["mab_over_sqrtmab"][t]) + W["sqrt_beta_t"][t] * z
    return first_eps, x


def main():
    rng = np.random.default_rng(SEED)
    normal = lambda *shape: rng.standard_normal(shape).astype(np.float32)
    arrays = {}
    gan = read_numpy(os.path.join(MODELS, "gan", "generator.pth"))
    arrays["gan_z"] = normal(N, 100)
    arrays["gan_images"] = dcgan(gan, arrays["gan_z"])

    vae = read_numpy(os.path.join(MODELS, "vae", "vae.pth"))
    arrays["vae_z"] = normal(N, 20)
    arrays["vae_images"] = vae_decode(vae, arrays["vae_z"])
    # Encode the float32 decoded images, as the Swift test does.
    arrays["vae_mean"], arrays["vae_logvar"] = vae_encode(vae, arrays["vae_images"].astype(np.float32))
    arrays["classifier_logits"] = classifier(read_numpy(os.path.join(MODELS, "vae", "classifier.pth")), arrays["vae_z"])

    ddpm = read_numpy(os.path.join(MODELS, "ddpm", "ddpm_mnist.pth"))
    n_T = len(ddpm["alpha_t"]) - 1
    arrays["ddpm_x_T"] = normal(N, 1, 28, 28)
    arrays["ddpm_z"] = normal(n_T - 1, N, 1, 28, 28)
    arrays["ddpm_first_eps"], arrays["ddpm_x_0"] = ddpm_sample(ddpm, arrays["ddpm_x_T"], arrays["ddpm_z"])

    os.makedirs(OUT, exist_ok=True)
    manifest = {}
    for name, a in arrays.items():
        a = np.ascontiguousarray(a, dtype="<f4")
        a.tofile(os.path.join(OUT, name + ".f32"))
        manifest[name] = list(a.shape)
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    with open(os.path.join(OUT, "meta.json"), "w") as f:
        json.dump({"seed": SEED, "python": sys.version.split()[0], "numpy": np.__version__,
                   "script": "scripts/reference/make_mnist_generator_fixtures.py",
                   "digits_of_vae_z": [int(d) for d in arrays["classifier_logits"].argmax(1)]}, f, indent=1)
        f.write("\n")
    print({k: list(v.shape) for k, v in arrays.items()})


if __name__ == "__main__":
    main()
