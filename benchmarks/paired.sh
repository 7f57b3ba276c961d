#!/usr/bin/env bash
# Paired A/B runs of decode speed on this noisy shared machine: each round runs every configuration
# once, back to back, and the summary gives each one's median and its median ratio to the first
# configuration within the same round (the host's speed moves by 2x between minutes, so only
# ratios taken in one round compare). A configuration is a binary path, or environment settings for
# .build/release/aigc ("AIGC_SIMD=avx2", "-" for none).
# Usage: benchmarks/paired.sh ROUNDS THREADS CONFIG... [-- extra aigc bench arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="$1"; threads="$2"; shift 2
configs=(); extra=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then shift; extra=("$@"); break; fi
  configs+=("$1"); shift
done
[ "${#extra[@]}" -gt 0 ] || extra=(-p 0 -n 128)
results="$(mktemp)"
trap 'rm -f "$results"' EXIT
for _ in $(seq "$rounds"); do
  for i in "${!configs[@]}"; do
    c="${configs[$i]}"; bin=.build/release/aigc; settings=()
    if [ -x "$c" ]; then bin="$c"; elif [ "$c" != "-" ]; then read -r -a settings <<< "$c"; fi
    tps="$(env "${settings[@]}" "$bin" bench -t "$threads" -r 2 "${extra[@]}" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["tokens_per_second"])')"
    echo "$i $tps" >> "$results"
  done
done
python3 - "$results" "${configs[@]}" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    i, v = line.split()
    runs.setdefault(int(i), []).append(float(v))
for i, name in enumerate(sys.argv[2:]):
    ratios = [a / b for a, b in zip(runs[i], runs[0])]
    print(f"{name:40s} median {statistics.median(runs[i]):7.1f} t/s   paired ratio {statistics.median(ratios):.3f}   "
          + " ".join(f"{v:.0f}" for v in runs[i]))
PY
