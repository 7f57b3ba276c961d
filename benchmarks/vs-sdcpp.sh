#!/usr/bin/env bash
# aigc against stable-diffusion.cpp (github.com/leejet/stable-diffusion.cpp) on the same synthetic
# full-size SD 1.5 checkpoint (issue #6): seconds per CFG step (two UNet evaluations at cfg 7),
# seconds per VAE decode, load time and peak RSS, at each size and thread count.
#
# A step's cost is the difference between a 2-step and a 1-step run of the same image, so text
# encoding, graph setup, the VAE and loading cancel out. sd.cpp's VAE decode and load times come
# from its log ("decode_first_stage completed, taking" less the VAE's lazy "loading tensors
# completed, taking" inside it; load = all of its loading lines); ours from `aigc image --json`
# when it reports them. Peak RSS is GNU time's maximum resident set size of the 2-step run. The last
# column is the highest 1-minute load average seen before the row's runs: above the thread count,
# other work shared the cores and the row's times are inflated.
#
# sd.cpp is never built here: build it beside the project and point SDCPP_BIN at its `sd-cli`
# (or older `sd`) binary; without SDCPP_BIN only aigc runs. The checkpoint (2.1 GB, random weights)
# is made by scripts/reference/make_synthetic_sd15.py when missing.
#
# Usage: SDCPP_BIN=/path/to/sd-cli benchmarks/vs-sdcpp.sh
# Environment: SD15_CHECKPOINT (default /work/sd-synth/sd15-synthetic-f16.safetensors), SIZES ("256 512"),
#              THREADS ("1 2"), RUN_TIMEOUT (seconds per run, default 1800), PROMPT, AIGC_BIN (default
#              .build/release/aigc, built when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
checkpoint="${SD15_CHECKPOINT:-/work/sd-synth/sd15-synthetic-f16.safetensors}"
read -r -a sizes <<< "${SIZES:-256 512}"
read -r -a thread_counts <<< "${THREADS:-1 2}"
limit="${RUN_TIMEOUT:-1800}"
prompt="${PROMPT:-a photograph of an astronaut riding a horse}"
aigc="${AIGC_BIN:-.build/release/aigc}"
work="${TMPDIR:-/tmp}/aigc-vs-sdcpp"
mkdir -p "$work"

[ -x /usr/bin/time ] || { echo "GNU time is needed for peak RSS: apt-get install time" >&2; exit 1; }
[ -f "$checkpoint" ] || python3 scripts/reference/make_synthetic_sd15.py "$checkpoint"
if [ -n "${SDCPP_BIN:-}" ] && [ ! -x "$SDCPP_BIN" ]; then echo "SDCPP_BIN=$SDCPP_BIN is not executable" >&2; exit 1; fi
[ -z "${SDCPP_BIN:-}" ] && echo "SDCPP_BIN not set: stable-diffusion.cpp skipped" >&2

[ -x "$aigc" ] || swift build -c release --product aigc >&2
ours_available=1
# An unknown --arch is rejected before the checkpoint is opened, so this probe costs nothing.
probe="$("$aigc" image -m /nonexistent --arch sd -n 1 -o /dev/null 2>&1 || true)"
if grep -q "choose one of" <<< "$probe"; then
  echo "aigc: --arch sd not available yet" >&2
  ours_available=0
fi

# run NAME COMMAND...: one bounded run; its log in $work/NAME.log, GNU time's report in $work/NAME.time.
run() {
  local name=$1; shift
  cut -d' ' -f1 /proc/loadavg > "$work/$name.load"
  if ! timeout "$limit" /usr/bin/time -v -o "$work/$name.time" "$@" > "$work/$name.log" 2>&1; then
    echo "$name failed or ran past ${limit}s; see $work/$name.log" >&2
    return 1
  fi
}

echo "commit $(git rev-parse --short HEAD), $(date -u +%F), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs, checkpoint $(basename "$checkpoint")${SDCPP_BIN:+, sd.cpp $SDCPP_BIN}"
echo "| size | threads | sd.cpp s/CFG step | sd.cpp s/VAE decode | sd.cpp load s | sd.cpp peak RSS MiB | aigc s/CFG step | aigc s/VAE decode | aigc load s | aigc peak RSS MiB | step ratio aigc/sd.cpp | decode ratio | load avg |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for size in "${sizes[@]}"; do
  for t in "${thread_counts[@]}"; do
    for steps in 1 2; do
      if [ -n "${SDCPP_BIN:-}" ]; then
        run "sdcpp-$size-t$t-s$steps" "$SDCPP_BIN" -m "$checkpoint" -p "$prompt" --steps "$steps" \
          -W "$size" -H "$size" -t "$t" --cfg-scale 7 --sampling-method euler -s 1 -o "$work/sdcpp-$size.png" || true
      fi
      if [ "$ours_available" = 1 ]; then
        run "aigc-$size-t$t-s$steps" "$aigc" image -m "$checkpoint" --arch sd --steps "$steps" \
          --width "$size" --height "$size" --seed 1 -n 1 --cfg 7 --scheduler euler -t "$t" --json -o "$work/aigc-$size.png" "$prompt" || true
      fi
    done
    python3 - "$work" "$size" "$t" <<'PY'
import json, os, re, sys
work, size, t = sys.argv[1], sys.argv[2], sys.argv[3]

def read(name, ext):
    path = os.path.join(work, f"{name}.{ext}")
    return open(path, errors="replace").read() if os.path.exists(path) else ""

def seconds(text, pattern):
    m = re.findall(pattern + r"\s*([0-9.]+)\s*s", text)
    return float(m[-1]) if m else None

def wall(name):
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([0-9.]+)", read(name, "time"))
    return (int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))) if m else None

def rss(name):
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", read(name, "time"))
    return int(m.group(1)) / 1024 if m else None

def sdcpp_phases(text):
    """sampling and decode seconds, the VAE load inside the decode, and all loading: sd.cpp loads each
    model lazily, inside the phase that first uses it, so the decode figure includes the VAE's load."""
    phase, out = None, {"sampling": None, "decode": None, "decode_load": 0.0, "load": 0.0}
    for line in text.splitlines():
        if "decoding" in line and "latents" in line:
            phase = "decode"
        load = seconds(line, "loading tensors completed, taking")
        if load is not None:
            out["load"] += load
            if phase == "decode":
                out["decode_load"] += load
        for key, pattern in (("sampling", "sampling completed, taking"), ("decode", "decode_first_stage completed, taking")):
            value = seconds(line, pattern)
            if value is not None:
                out[key] = value
    return out

def sdcpp(prefix):
    one, two = sdcpp_phases(read(prefix + "-s1", "log")), sdcpp_phases(read(prefix + "-s2", "log"))
    step = two["sampling"] - one["sampling"] if one["sampling"] is not None and two["sampling"] is not None else None
    decodes = [p["decode"] - p["decode_load"] for p in (one, two) if p["decode"] is not None]
    load = two["load"] if two["sampling"] is not None else None
    return step, (sum(decodes) / len(decodes) if decodes else None), load, rss(prefix + "-s2")

def timing(result, *keys):
    """A number under any key containing one of `keys`, searched through nested objects."""
    stack = [result]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, (int, float)) and any(key in k.lower() for key in keys):
                    return float(v) / (1000 if k.lower().endswith("ms") else 1)
                stack.append(v)
    return None

def ours(prefix):
    results = []
    for steps in (1, 2):
        text = read(f"{prefix}-s{steps}", "log")
        line = next((l for l in reversed(text.splitlines()) if l.startswith("{")), None)
        results.append(json.loads(line) if line else None)
    if None in results:
        return None, None, None, None
    a, b = (timing(r, "denois", "sampling") for r in results)
    if a is None or b is None:  # both from the same clock, or the difference means nothing
        a, b = wall(prefix + "-s1"), wall(prefix + "-s2")
    step = b - a if a is not None and b is not None else None
    return step, timing(results[1], "decode"), timing(results[1], "load"), rss(prefix + "-s2")

def cell(v, fmt="{:.2f}"):
    return fmt.format(v) if v is not None else "n/a"

def load(prefix):
    values = [float(read(f"{prefix}-s{steps}", "load") or "nan") for steps in (1, 2)]
    values = [v for v in values if v == v]
    return max(values) if values else None

theirs, mine = sdcpp(f"sdcpp-{size}-t{t}"), ours(f"aigc-{size}-t{t}")
busy = [v for v in (load(f"sdcpp-{size}-t{t}"), load(f"aigc-{size}-t{t}")) if v is not None]
ratio = lambda i: cell(mine[i] / theirs[i], "{:.2f}x") if mine[i] and theirs[i] else "n/a"
print(f"| {size}x{size} | {t} | {cell(theirs[0])} | {cell(theirs[1])} | {cell(theirs[2])} | {cell(theirs[3], '{:.0f}')} | "
      f"{cell(mine[0])} | {cell(mine[1])} | {cell(mine[2])} | {cell(mine[3], '{:.0f}')} | {ratio(0)} | {ratio(1)} | "
      f"{cell(max(busy) if busy else None, '{:.1f}')} |")
PY
  done
done
