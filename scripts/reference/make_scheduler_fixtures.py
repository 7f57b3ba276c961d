#!/usr/bin/env python3
"""Reference trajectories of the diffusion schedulers aigc implements, restated in numpy from
diffusers' formulas (src/diffusers/schedulers/scheduling_{ddpm,ddim,euler_discrete,
euler_ancestral_discrete,dpmsolver_multistep,lcm}.py @ 58eb52c) in the float32 arithmetic diffusers
uses (torch.linspace betas in float32, cumprod with a double accumulator, float32 step math).

Each case runs a scheduler on a 2x4x4x4 sample with a synthetic model
  out[i] = 0.1 * model_input[i] + 0.5 * sin(t / 100 + 0.05 * (i % 7))
and deterministic "noise" wave(k, i) = float32(1.2 * sin(0.7 i + 1.3 k + 0.1)) (k = 0: the starting
noise, k = step + 1: the noise a stochastic step adds), so Swift can rebuild every input. It records
timesteps, sigmas, init_noise_sigma, the sample after each step, and an img2img run (strength 0.6)
from clean[i] = float32(0.5 cos(0.3 i)) (LCM: timesteps picked for that strength, from step 0). Writes Tests/Fixtures/schedulers/cases.json + meta.json:
  python3 scripts/reference/make_scheduler_fixtures.py   (needs numpy)
"""
import json
import math
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Fixtures", "schedulers")
F = np.float32
SIZE = 2 * 4 * 4 * 4

CLASS_DEFAULTS = {
    "PNDMScheduler": {"timestep_spacing": "leading", "set_alpha_to_one": False},
    "DDIMScheduler": {"timestep_spacing": "leading", "set_alpha_to_one": True, "clip_sample": True},
    "DDPMScheduler": {"timestep_spacing": "leading", "clip_sample": True},
    "EulerDiscreteScheduler": {"timestep_spacing": "linspace"},
    "EulerAncestralDiscreteScheduler": {"timestep_spacing": "linspace"},
    "DPMSolverMultistepScheduler": {"timestep_spacing": "linspace"},
    "LCMScheduler": {"timestep_spacing": "leading", "set_alpha_to_one": True, "clip_sample": False,
                     "beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012},
}
KIND_CLASS = {"ddpm": "DDPMScheduler", "ddim": "DDIMScheduler", "euler": "EulerDiscreteScheduler",
              "euler-a": "EulerAncestralDiscreteScheduler", "dpm++2m": "DPMSolverMultistepScheduler", "lcm": "LCMScheduler"}
BASE = {"num_train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear",
        "prediction_type": "epsilon", "steps_offset": 0, "clip_sample": False, "set_alpha_to_one": True,
        "original_inference_steps": 50, "timestep_scaling": 10.0, "clip_sample_range": 1.0}

CONFIGS = {
    "sd15": {"_class_name": "PNDMScheduler", "num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
             "beta_schedule": "scaled_linear", "clip_sample": False, "set_alpha_to_one": False, "skip_prk_steps": True,
             "steps_offset": 1, "trained_betas": None},
    "vpred-trailing": {"_class_name": "DDIMScheduler", "beta_schedule": "linear", "prediction_type": "v_prediction",
                       "timestep_spacing": "trailing", "clip_sample": False},
    "cosine-linspace": {"_class_name": "EulerDiscreteScheduler", "beta_schedule": "squaredcos_cap_v2", "timestep_spacing": "linspace"},
    "sample-leading": {"_class_name": "DDPMScheduler", "beta_schedule": "linear", "prediction_type": "sample", "clip_sample": False},
}


def settings(config, kind):
    s = dict(BASE)
    s.update(CLASS_DEFAULTS[KIND_CLASS[kind]])
    s.update(CLASS_DEFAULTS.get(config.get("_class_name"), {}))
    s.update({k: v for k, v in config.items() if v is not None})
    return s


def torch_linspace(a, b, n):
    a, b = F(a), F(b)
    step = (b - a) / F(n - 1)
    return np.array([a + step * F(i) if i < n // 2 else b - step * F(n - 1 - i) for i in range(n)], dtype=F)


def alphas_cumprod(s):
    n = s["num_train_timesteps"]
    if s["beta_schedule"] == "linear":
        betas = torch_linspace(s["beta_start"], s["beta_end"], n)
    elif s["beta_schedule"] == "scaled_linear":
        betas = torch_linspace(s["beta_start"] ** 0.5, s["beta_end"] ** 0.5, n) ** 2
    else:
        bar = lambda t: math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
        betas = np.array([min(1 - bar((i + 1) / n) / bar(i / n), 0.999) for i in range(n)], dtype=F)
    alphas = (F(1) - betas).astype(F)
    return np.cumprod(alphas.astype(np.float64)).astype(F)


def discrete_timesteps(s, n):
    T = s["num_train_timesteps"]
    if s["timestep_spacing"] == "linspace":
        return np.linspace(0, T - 1, n).round()[::-1].astype(np.int64)
    if s["timestep_spacing"] == "leading":
        return (np.arange(0, n) * (T // n)).round()[::-1].astype(np.int64) + s["steps_offset"]
    return np.round(np.arange(T, 0, -T / n)).astype(np.int64) - 1


def train_sigmas(ac):
    return (((F(1) - ac) / ac) ** F(0.5)).astype(F)


def x0_alpha(out, x, a, pred):
    if pred == "epsilon":
        return (x - (F(1) - a) ** F(0.5) * out) / a ** F(0.5)
    if pred == "sample":
        return out
    return a ** F(0.5) * x - (F(1) - a) ** F(0.5) * out


def x0_sigma(out, x, sigma, pred):
    if pred == "epsilon":
        return x - sigma * out
    if pred == "sample":
        return out
    return out * (-sigma / (sigma ** 2 + F(1)) ** F(0.5)) + x / (sigma ** 2 + F(1))


class DDPM:
    def __init__(self, s, n):
        self.s, self.ac = s, alphas_cumprod(s)
        self.ts = discrete_timesteps(s, n)
        self.timesteps, self.sigmas, self.init_noise_sigma = self.ts.astype(F), None, F(1)

    def scale(self, x, i):
        return x

    def needs_noise(self, i):
        return self.ts[i] > 0

    def step(self, out, x, i, z):
        t = self.ts[i]
        prev = self.ts[i + 1] if i + 1 < len(self.ts) else -1
        a, ap = self.ac[t], (self.ac[prev] if prev >= 0 else F(1))
        alpha = a / ap
        beta = F(1) - alpha
        x0 = x0_alpha(out, x, a, self.s["prediction_type"])
        if self.s["clip_sample"]:
            x0 = np.clip(x0, -F(self.s["clip_sample_range"]), F(self.s["clip_sample_range"]))
        prev_x = (ap ** F(0.5) * beta / (F(1) - a)) * x0 + (alpha ** F(0.5) * (F(1) - ap) / (F(1) - a)) * x
        if t > 0:
            var = np.maximum((F(1) - ap) / (F(1) - a) * beta, F(1e-20))
            prev_x = prev_x + var ** F(0.5) * z
        return prev_x.astype(F)

    def add_noise(self, x0, z, i):
        a = self.ac[self.ts[i]]
        return (a ** F(0.5) * x0 + (F(1) - a) ** F(0.5) * z).astype(F)


class DDIM(DDPM):
    def __init__(self, s, n, eta=0.0):
        super().__init__(s, n)
        self.eta, self.n = eta, n

    def needs_noise(self, i):
        return self.eta > 0

    def step(self, out, x, i, z):
        t = self.ts[i]
        prev = t - self.s["num_train_timesteps"] // self.n
        a = self.ac[t]
        ap = self.ac[prev] if prev >= 0 else (F(1) if self.s["set_alpha_to_one"] else self.ac[0])
        pred = self.s["prediction_type"]
        x0 = x0_alpha(out, x, a, pred)
        if pred == "epsilon":
            eps = out
        elif pred == "sample":
            eps = (x - a ** F(0.5) * out) / (F(1) - a) ** F(0.5)
        else:
            eps = a ** F(0.5) * out + (F(1) - a) ** F(0.5) * x
        if self.s["clip_sample"]:
            x0 = np.clip(x0, -F(self.s["clip_sample_range"]), F(self.s["clip_sample_range"]))
        variance = (F(1) - ap) / (F(1) - a) * (F(1) - a / ap)
        std = F(self.eta) * variance ** F(0.5)
        prev_x = ap ** F(0.5) * x0 + (F(1) - ap - std ** 2) ** F(0.5) * eps
        if self.eta > 0:
            prev_x = prev_x + std * z
        return prev_x.astype(F)


class Euler:
    def __init__(self, s, n):
        self.s, self.ac = s, alphas_cumprod(s)
        T = s["num_train_timesteps"]
        if s["timestep_spacing"] == "linspace":
            ts = np.linspace(0, T - 1, n, dtype=np.float32)[::-1].copy()
        else:
            ts = discrete_timesteps(s, n).astype(F)
        sig = np.interp(ts, np.arange(0, T), train_sigmas(self.ac))
        self.timesteps = ts.astype(F)
        self.sigmas = np.concatenate([sig, [0.0]]).astype(F)
        top = self.sigmas.max()
        self.init_noise_sigma = top if s["timestep_spacing"] in ("linspace", "trailing") else (top ** 2 + F(1)) ** F(0.5)

    def scale(self, x, i):
        return (x / (self.sigmas[i] ** 2 + F(1)) ** F(0.5)).astype(F)

    def needs_noise(self, i):
        return False

    def step(self, out, x, i, z):
        sigma = self.sigmas[i]
        x0 = x0_sigma(out, x, sigma, self.s["prediction_type"])
        return (x + (x - x0) / sigma * (self.sigmas[i + 1] - sigma)).astype(F)

    def add_noise(self, x0, z, i):
        return (x0 + z * self.sigmas[i]).astype(F)


class EulerAncestral(Euler):
    def needs_noise(self, i):
        return self.sigmas[i + 1] > 0

    def step(self, out, x, i, z):
        sigma, nxt = self.sigmas[i], self.sigmas[i + 1]
        x0 = x0_sigma(out, x, sigma, self.s["prediction_type"])
        up = (nxt ** 2 * (sigma ** 2 - nxt ** 2) / sigma ** 2) ** F(0.5)
        down = (nxt ** 2 - up ** 2) ** F(0.5)
        prev_x = x + (x - x0) / sigma * (down - sigma)
        if z is not None:
            prev_x = prev_x + z * up
        return prev_x.astype(F)


class DPMSolver2M:
    def __init__(self, s, n):
        self.s, self.ac = s, alphas_cumprod(s)
        T = s["num_train_timesteps"]
        if s["timestep_spacing"] == "linspace":
            ts = np.linspace(0, T - 1, n + 1).round()[::-1][:-1].copy().astype(np.int64)
        elif s["timestep_spacing"] == "leading":
            ts = (np.arange(0, n + 1) * (T // (n + 1))).round()[::-1][:-1].copy().astype(np.int64) + s["steps_offset"]
        else:
            ts = np.arange(T, 0, -T / n).round().copy().astype(np.int64) - 1
        sig = np.interp(ts, np.arange(0, T), train_sigmas(self.ac))
        self.ts, self.timesteps = ts, ts.astype(F)
        self.sigmas = np.concatenate([sig, [0.0]]).astype(F)
        self.init_noise_sigma = F(1)
        self.previous, self.taken = None, 0

    def scale(self, x, i):
        return x

    def needs_noise(self, i):
        return False

    @staticmethod
    def alpha_sigma(sigma):
        alpha = F(1) / (sigma ** 2 + F(1)) ** F(0.5)
        return alpha, sigma * alpha

    @staticmethod
    def lam(p):
        with np.errstate(divide="ignore"):
            return np.log(p[0]) - np.log(p[1])

    def step(self, out, x, i, z):
        now, nxt = self.alpha_sigma(self.sigmas[i]), self.alpha_sigma(self.sigmas[i + 1])
        pred = self.s["prediction_type"]
        if pred == "epsilon":
            x0 = (x - now[1] * out) / now[0]
        elif pred == "sample":
            x0 = out
        else:
            x0 = now[0] * x - now[1] * out
        h = self.lam(nxt) - self.lam(now)
        last = i == len(self.ts) - 1
        if self.taken < 1 or last:
            prev_x = nxt[1] / now[1] * x - nxt[0] * (np.exp(-h) - F(1)) * x0
        else:
            before = self.alpha_sigma(self.sigmas[i - 1])
            r0 = (self.lam(now) - self.lam(before)) / h
            d1 = F(1) / r0 * (x0 - self.previous)
            prev_x = nxt[1] / now[1] * x - nxt[0] * (np.exp(-h) - F(1)) * x0 - F(0.5) * (nxt[0] * (np.exp(-h) - F(1))) * d1
        self.previous, self.taken = x0, self.taken + 1
        return prev_x.astype(F)

    def add_noise(self, x0, z, i):
        alpha, sigma = self.alpha_sigma(self.sigmas[i])
        return (alpha * x0 + sigma * z).astype(F)


class LCM(DDPM):
    def __init__(self, s, n, strength=1.0):
        self.s, self.ac = s, alphas_cumprod(s)
        orig = s["original_inference_steps"]
        k = s["num_train_timesteps"] // orig
        origin = (np.asarray(list(range(1, int(orig * strength) + 1))) * k - 1)[::-1].copy()
        idx = np.floor(np.linspace(0, len(origin), num=n, endpoint=False)).astype(np.int64)
        self.ts = origin[idx]
        self.timesteps, self.sigmas, self.init_noise_sigma = self.ts.astype(F), None, F(1)

    def needs_noise(self, i):
        return i != len(self.ts) - 1

    def step(self, out, x, i, z):
        t = self.ts[i]
        prev = self.ts[i + 1] if i + 1 < len(self.ts) else t
        a, ap = self.ac[t], self.ac[prev]
        u = F(t) * F(self.s["timestep_scaling"])
        c_skip = F(0.25) / (u ** 2 + F(0.25))
        c_out = u / (u ** 2 + F(0.25)) ** F(0.5)
        x0 = x0_alpha(out, x, a, self.s["prediction_type"])
        if self.s["clip_sample"]:
            x0 = np.clip(x0, -F(self.s["clip_sample_range"]), F(self.s["clip_sample_range"]))
        denoised = c_out * x0 + c_skip * x
        if i != len(self.ts) - 1:
            return (ap ** F(0.5) * denoised + (F(1) - ap) ** F(0.5) * z).astype(F)
        return denoised.astype(F)


MAKERS = {"ddpm": DDPM, "ddim": DDIM, "euler": Euler, "euler-a": EulerAncestral, "dpm++2m": DPMSolver2M, "lcm": LCM}


def wave(k):
    i = np.arange(SIZE, dtype=np.float64)
    return (1.2 * np.sin(0.7 * i + 1.3 * k + 0.1)).astype(F)


def model(x, t):
    i = np.arange(SIZE)
    return (F(0.1) * x + (0.5 * np.sin(float(t) / 100 + 0.05 * (i % 7))).astype(F)).astype(F)


def run(make, start, x):
    sched = make()
    trajectory, noise_used = [], []
    for i in range(start, len(sched.timesteps)):
        out = model(sched.scale(x, i), sched.timesteps[i])
        used = bool(sched.needs_noise(i))
        x = sched.step(out, x, i, wave(i + 1) if used else None)
        trajectory.append(x)
        noise_used.append(used)
    return sched, trajectory, noise_used


def floats(a):
    return [float(v) for v in np.asarray(a, dtype=F).ravel()]


def main():
    cases = []
    plan = [(c, k, {}) for c in CONFIGS for k in MAKERS if not (c == "sample-leading" and k == "euler-a")]
    plan.append(("sd15", "ddim", {"eta": 0.5}))
    for config_name, kind, extra in plan:
        s = settings(CONFIGS[config_name], kind)
        steps = 4 if kind == "lcm" else 6
        make = lambda: MAKERS[kind](s, steps, **extra)
        sched, trajectory, noise_used = run(make, 0, (wave(0) * make().init_noise_sigma).astype(F))
        # img2img at strength 0.6: diffusers' get_timesteps start index, except LCM, whose img2img
        # pipeline passes the strength to set_timesteps and runs all steps of that schedule.
        start = max(steps - min(int(steps * 0.6), steps), 0)
        make_img2img = make
        if kind == "lcm":
            start, make_img2img = 0, lambda: LCM(s, steps, strength=0.6)
        clean = (0.5 * np.cos(0.3 * np.arange(SIZE))).astype(F)
        noised = make_img2img().add_noise(clean, wave(99), start)
        _, img2img, _ = run(make_img2img, start, noised)
        cases.append({
            "name": f"{kind}/{config_name}" + ("/eta0.5" if extra else ""), "kind": kind, "config": CONFIGS[config_name],
            "eta": extra.get("eta", 0.0), "steps": steps, "timesteps": floats(sched.timesteps),
            "sigmas": floats(sched.sigmas) if sched.sigmas is not None else None,
            "init_noise_sigma": float(sched.init_noise_sigma), "noise_used": noise_used,
            "trajectory": [floats(x) for x in trajectory], "img2img_start": start,
            "img2img_noised": floats(noised), "img2img_final": floats(img2img[-1]),
        })
    ddim50 = DDIM(settings(CONFIGS["sd15"], "ddim"), 50).ts.tolist()
    euler7 = floats(Euler(settings({"_class_name": "EulerDiscreteScheduler"}, "euler"), 7).timesteps)
    dpm20 = DPMSolver2M(settings(CONFIGS["sd15"], "dpm++2m"), 20).ts.tolist()
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"size": SIZE, "cases": cases, "sd15_ddim_50": ddim50, "euler_linspace_7": euler7, "sd15_dpm_20": dpm20}, f)
    with open(os.path.join(OUT, "meta.json"), "w") as f:
        json.dump({"script": "scripts/reference/make_scheduler_fixtures.py", "numpy": np.__version__,
                   "diffusers_commit": "58eb52c080"}, f, indent=1)
    print(f"{len(cases)} cases; SD 1.5 DDIM 50 steps: {ddim50[:3]} ... {ddim50[-2:]}")


if __name__ == "__main__":
    main()
