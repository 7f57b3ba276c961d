#!/usr/bin/env bash
# Prompt and generation speed of `aigc generate` on a model (default: the default model), 1 and 2
# threads, from the timings of --json. Usage: benchmarks/text-speed.sh [MODEL] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-smollm2-135m-instruct}"
runs="${2:-3}"
aigc=.build/release/aigc
[ -x "$aigc" ] || swift build -c release --product aigc >/dev/null
# A ~500-token prompt: the README's first paragraphs, repeated.
prompt="$(head -c 2000 README.md | tr '\n' ' ')"
echo "model=$model runs=$runs commit=$(git rev-parse --short HEAD) date=$(date -u +%F) cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for threads in 1 2; do
  for run in $(seq "$runs"); do
    "$aigc" generate -m "$model" -t "$threads" --temperature 0 --max-tokens 128 --ignore-eos --json "$prompt" |
      python3 -c "import json,sys; o=json.load(sys.stdin); t=o['timings']; print(f\"threads=$threads run=$run prompt_tokens={len(o['prompt_tokens'])} pp={t['prompt_tokens_per_second']:.1f} tok/s tg={t['generation_tokens_per_second']:.1f} tok/s load={t['load_ms']:.0f} ms\")"
  done
done
