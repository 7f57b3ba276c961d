#!/usr/bin/env bash
# Decode and prefill speed while another CPU-bound process occupies one core (started here, for a
# bounded time): aigc at 2 threads must stay >= 0.8x its own 1-thread speed. If LLAMA_BENCH names a
# llama-bench binary, it runs under the same load for comparison.
# Usage: benchmarks/contention.sh [MODEL] [REPETITIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-smollm2-135m-instruct}"; reps="${2:-3}"
aigc=.build/release/aigc
[ -x "$aigc" ] || swift build -c release --product aigc
busy_core=$(( $(nproc) - 1 ))
timeout 600 taskset -c "$busy_core" sh -c 'while :; do :; done' &
load=$!
trap 'kill $load 2>/dev/null || true' EXIT
sleep 1
echo "commit $(git rev-parse --short HEAD), $(date -u +%F), busy loop pinned to CPU $busy_core"
one="$("$aigc" bench -m "$model" -t 1 -p 512 -n 128 -r "$reps" --json)"
two="$("$aigc" bench -m "$model" -t 2 -p 512 -n 128 -r "$reps" --json)"
python3 - "$one" "$two" <<'PY'
import json, sys
one, two = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for test in ("pp512", "tg128"):
    a = next(r for r in one if r["test"] == test)["tokens_per_second"]
    b = next(r for r in two if r["test"] == test)["tokens_per_second"]
    print(f"aigc {test}: 1 thread {a:.1f} t/s, 2 threads {b:.1f} t/s under load -> {b / a:.2f}x of 1 thread (target >= 0.8)")
PY
if [ -n "${LLAMA_BENCH:-}" ]; then
  path="$("$aigc" models show "$model" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["path"])')"
  "$LLAMA_BENCH" -m "$path" -t 1,2 -p 512 -n 128 -r "$reps" -o json 2>/dev/null | python3 -c '
import json, sys
rows = json.load(sys.stdin)
for kind in ("pp", "tg"):
    r = {x["n_threads"]: x["avg_ts"] for x in rows if (x["n_prompt"] > 0) == (kind == "pp")}
    print(f"llama-bench {kind}: 1 thread {r[1]:.1f} t/s, 2 threads {r[2]:.1f} t/s under load -> {r[2] / r[1]:.2f}x")'
fi
