#!/usr/bin/env bash
# Serve-load benchmark: the same streaming load (load.py: CLIENTS concurrent clients for DURATION s,
# MAX_TOKENS each, on 127.0.0.1) against `aigc serve`, llama.cpp's llama-server and the server of
# the PyPI package llama-cpp-python[server], one after the other in one run, on the same GGUF file.
# llama-cpp-python decodes one request at a time; --interrupt_requests False makes it queue the
# others instead of cutting the streaming one short (its default), so every answer is complete.
#
#   benchmarks/serve-load/run.sh [GGUF]      (default: the default model in $AIGC_HOME)
#
# Environment: AIGC (default .build/release/aigc), LLAMA_SERVER (path of a llama-server binary built
# beside the project; skipped when unset), LLAMA_PY (python with llama-cpp-python[server]; default
# .venv-bench/bin/python, skipped when it lacks the package: python3 -m venv .venv-bench &&
# .venv-bench/bin/pip install "llama-cpp-python[server]"; it compiles its llama.cpp from the sdist), THREADS (2), CLIENTS (16), DURATION (60),
# MAX_TOKENS (64), SLOTS (parallel sequences for the servers that batch; default CLIENTS),
# OUT (JSON lines, default .build/serve-load.jsonl).
set -euo pipefail
cd "$(dirname "$0")/../.."
AIGC=${AIGC:-.build/release/aigc}
THREADS=${THREADS:-2}; CLIENTS=${CLIENTS:-16}; DURATION=${DURATION:-60}; MAX_TOKENS=${MAX_TOKENS:-64}
SLOTS=${SLOTS:-$CLIENTS}
LLAMA_PY=${LLAMA_PY:-.venv-bench/bin/python}
OUT=${OUT:-.build/serve-load.jsonl}
home=${AIGC_HOME:-$HOME/.aigc}
GGUF=${1:-$(ls "$home"/models/smollm2-135m-instruct/*.gguf 2>/dev/null | head -1)}
[ -f "$GGUF" ] || { echo "no GGUF: pass a path or run '$AIGC pull smollm2-135m-instruct' first" >&2; exit 1; }
[ -x "$AIGC" ] || { echo "$AIGC missing: swift build -c release --product aigc" >&2; exit 1; }
work=$(mktemp -d); mkdir -p "$(dirname "$OUT")"; : > "$OUT"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

wait_ready() { # url path seconds
  for _ in $(seq 1 $(( $3 * 5 ))); do
    curl -sf -o /dev/null "$1$2" && return 0
    kill -0 "$pid" 2>/dev/null || { echo "server exited; log:" >&2; tail -20 "$work/log" >&2; return 1; }
    sleep 0.2
  done
  echo "server not ready in $3 s" >&2; return 1
}

measure() { # label port model-name
  local url="http://127.0.0.1:$2"
  python3 benchmarks/serve-load/load.py "$url" --clients 2 --duration 3 --max-tokens 8 --model "$3" --label warmup >/dev/null
  python3 benchmarks/serve-load/load.py "$url" --clients "$CLIENTS" --duration "$DURATION" --max-tokens "$MAX_TOKENS" \
    --model "$3" --label "$1" | tee -a "$OUT"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}

echo "# serve-load: $CLIENTS clients x ${DURATION}s, max_tokens $MAX_TOKENS, $THREADS threads, $(basename "$GGUF"), $(git rev-parse --short HEAD), $(date -u +%FT%TZ)"
"$AIGC" serve --port 18301 -m "$GGUF" --auth off --database "$work/aigc.sqlite" -t "$THREADS" \
  --max-sequences "$SLOTS" --queue 64 >"$work/log" 2>&1 & pid=$!
wait_ready http://127.0.0.1:18301 /health 120
measure aigc 18301 "$(basename "${GGUF%.gguf}")"

if [ -n "${LLAMA_SERVER:-}" ]; then
  "$LLAMA_SERVER" -m "$GGUF" --port 18302 -t "$THREADS" -np "$SLOTS" -c $(( SLOTS * 1024 )) --no-webui >"$work/log" 2>&1 & pid=$!
  wait_ready http://127.0.0.1:18302 /health 120
  measure "llama-server -np $SLOTS" 18302 model
else
  echo "LLAMA_SERVER unset: llama-server skipped" >&2
fi

if "$LLAMA_PY" -c "import llama_cpp.server" 2>/dev/null; then
  "$LLAMA_PY" -m llama_cpp.server --model "$GGUF" --port 18303 --n_threads "$THREADS" --n_ctx 2048 --interrupt_requests False >"$work/log" 2>&1 & pid=$!
  wait_ready http://127.0.0.1:18303 /v1/models 120
  measure "llama-cpp-python[server]" 18303 model
else
  echo "$LLAMA_PY lacks llama-cpp-python[server]: skipped" >&2
fi

python3 - "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
base = next((r for r in rows if r["server"].startswith("llama-server")), None)
print(f"{'server':28} {'req':>5} {'fail':>4} {'tok/s':>8} {'TTFT p50':>9} {'TTFT p95':>9} {'vs llama-server':>15}")
for r in rows:
    ratio = f"{r['aggregate_tokens_per_s'] / base['aggregate_tokens_per_s']:.2f}x" if base else "-"
    print(f"{r['server']:28} {r['requests']:>5} {r['failed']:>4} {r['aggregate_tokens_per_s']:>8} {r['ttft_p50_ms']!s:>9} {r['ttft_p95_ms']!s:>9} {ratio:>15}")
PY
