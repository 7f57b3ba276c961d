#!/usr/bin/env bash
# Installs what a fresh machine lacks to build and test aigc: Debian packages only (idempotent).
set -euo pipefail

# libsqlite3-dev: GRDB (AIGCStore) builds against the system SQLite. PostgreSQL for the store tests is
# installed by scripts/postgres-test-server.sh when `make test` needs it.
packages=(libopenblas-dev zlib1g-dev pkg-config libsqlite3-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
