#!/usr/bin/env bash
# The service tests that need things outside Swift: the official OpenAI Python SDK, a kill -9 crash
# test, the web page in a real headless Chromium, and a schemathesis fuzz of /openapi.json — all
# against real `aigc serve` processes. Installs what a fresh machine lacks (Debian chromium and
# its driver, a CJK font so the page's labels render, a Python venv with pinned packages), once.
# Usage: scripts/service-tests.sh [pytest args]; AIGC_BIN names the binary (default .build/debug/aigc).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(chromium chromium-driver fonts-wqy-zenhei python3-venv)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

venv=.venv-test
requirements="openai==3.54.0 pytest==9.2.0 requests==2.34.2 schemathesis==4.32.5 selenium==4.51.0"
stamp="$venv/.aigc-requirements"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$requirements" ]; then
  python3 -m venv "$venv"
  # shellcheck disable=SC2086
  "$venv/bin/pip" install -q --disable-pip-version-check $requirements
  echo "$requirements" > "$stamp"
fi

export AIGC_BIN="${AIGC_BIN:-$PWD/.build/debug/aigc}"
export AIGC_ARTIFACTS="${AIGC_ARTIFACTS:-$PWD/.build/artifacts}"
mkdir -p "$AIGC_ARTIFACTS"
cd Tests/Python
exec "../../$venv/bin/python" -m pytest -q -rA -p no:cacheprovider "$@"
