#!/bin/bash
# Runs the official openai and anthropic Python SDKs (pinned, from PyPI, in
# .build-peers/venv-sdk) against live `harness serve` instances: chat, streaming, tools,
# structured output, usage, the SDKs' error classes, cross-format routes, agents, and
# `promtool check metrics` on /metrics (Debian package prometheus, installed if missing).
# Usage: scripts/gateway-sdk-check.sh [path/to/harness]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
HARNESS="${1:-$ROOT/.build/debug/harness}"
VENV="${SDK_VENV:-$ROOT/.build-peers/venv-sdk}"
LOCK="$ROOT/../shared/peers/requirements-venv.lock.txt"
pin() { grep -E "^$1==" "$LOCK" 2>/dev/null || echo "$1==$2"; }
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import openai, anthropic' 2>/dev/null; then
  echo "gateway-sdk-check: installing the openai and anthropic SDKs into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "$(pin openai 3.54.0)" "$(pin anthropic 2.12.0)"
fi
if ! command -v promtool >/dev/null 2>&1; then
  echo "gateway-sdk-check: installing promtool (Debian package prometheus)"
  sudo_if_needed=""; [ "$(id -u)" -eq 0 ] || sudo_if_needed="sudo"
  $sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -q prometheus >/dev/null \
    || { $sudo_if_needed apt-get update -q >/dev/null && $sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -q prometheus >/dev/null; }
fi
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
"$VENV/bin/python" "$ROOT/scripts/gateway/sdk_test.py" "$HARNESS"
