#!/usr/bin/env bash
# aigc against llama.cpp on the same GGUF files, alternately in one run (llama-bench's method):
# pp512 and tg128 at 1 and 2 threads, for the default model (Q4_1) and Q8_0/Q4_0/Q4_K_M/F16
# variants made with `aigc quantize`. llama.cpp runs through the PyPI package llama-cpp-python
# (pinned; compiled from source into .venv-bench on first use, ~15 min on 2 cores) and, if
# LLAMA_BENCH names a llama-bench binary you built beside the project, through llama-bench too.
# Usage: benchmarks/vs-llamacpp.sh [REPETITIONS] [VARIANTS...]   (default: 3 q4_1 q8_0 q4_0 q4_k_m f16)
set -euo pipefail
cd "$(dirname "$0")/.."
reps="${1:-3}"; shift || true
variants=("${@:-q4_1 q8_0 q4_0 q4_k_m f16}")
read -r -a variants <<< "${variants[*]}"
LLAMA_CPP_PYTHON_VERSION=0.3.16
aigc=.build/release/aigc
[ -x "$aigc" ] || swift build -c release --product aigc
"$aigc" pull smollm2-135m-instruct >/dev/null
base="$("$aigc" models list --json | python3 -c 'import json,sys,os; m=[x for x in json.load(sys.stdin) if x["name"]=="smollm2-135m-instruct"][0]; print(os.path.join(os.environ.get("AIGC_HOME", os.path.expanduser("~/.aigc")), "models", m["name"], m["file"]))')"
work="${TMPDIR:-/tmp}/aigc-vs-llamacpp"
mkdir -p "$work"
if [ ! -x .venv-bench/bin/python ] || ! .venv-bench/bin/python -c "import llama_cpp" 2>/dev/null; then
  echo "installing llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION into .venv-bench (builds llama.cpp from source)..." >&2
  python3 -m venv .venv-bench
  CMAKE_ARGS="-DGGML_NATIVE=ON" .venv-bench/bin/pip install -q "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" >&2
fi
echo "commit $(git rev-parse --short HEAD), $(date -u +%F), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs, llama-cpp-python $LLAMA_CPP_PYTHON_VERSION${LLAMA_BENCH:+, llama-bench $LLAMA_BENCH}"
printf "| model | threads | test | aigc t/s | llama-cpp-python t/s | ratio |%s\n" "${LLAMA_BENCH:+ llama-bench t/s | ratio |}"
printf "|---|---|---|---|---|---|%s\n" "${LLAMA_BENCH:+---|---|}"
for v in "${variants[@]}"; do
  model="$base"
  if [ "$v" != q4_1 ]; then
    model="$work/smollm2-$v.gguf"
    [ -f "$model" ] || "$aigc" quantize "$base" "$model" --type "$v" >/dev/null 2>&1
  fi
  for t in 1 2; do
    ours="$("$aigc" bench -m "$model" -t "$t" -p 512 -n 128 -r "$reps" --json)"
    theirs="$(.venv-bench/bin/python benchmarks/llama_cpp_python_bench.py "$model" "$t" 512 128 "$reps" 2>/dev/null)"
    bench=""
    [ -n "${LLAMA_BENCH:-}" ] && bench="$("$LLAMA_BENCH" -m "$model" -t "$t" -p 512 -n 128 -r "$reps" -o json 2>/dev/null)"
    python3 - "$v" "$t" "$ours" "$theirs" "$bench" <<'PY'
import json, sys
v, t, ours, theirs, bench = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), [json.loads(l) for l in sys.argv[4].splitlines()], sys.argv[5]
bench = json.loads(bench) if bench.strip() else []
for test in ("pp512", "tg128"):
    a = next(r for r in ours if r["test"] == test)["tokens_per_second"]
    b = next(r for r in theirs if r["test"] == test)["tokens_per_second"]
    row = f"| {v} | {t} | {test} | {a:.1f} | {b:.1f} | {a / b:.2f}x |"
    if bench:
        c = next(r["avg_ts"] for r in bench if (r["n_prompt"] > 0) == test.startswith("pp"))
        row += f" {c:.1f} | {a / c:.2f}x |"
    print(row)
PY
  done
done
