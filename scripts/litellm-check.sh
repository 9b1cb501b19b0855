#!/bin/bash
# Runs `harness demo` against a real LiteLLM proxy (mocked models, no upstream) used as an
# OpenAI-compatible and as an Anthropic-compatible server. Installs LiteLLM (pinned) into
# .build-peers/venv-litellm on first use. Usage: scripts/litellm-check.sh [path/to/harness]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
HARNESS="${1:-$ROOT/.build/debug/harness}"
VENV="${LITELLM_VENV:-$ROOT/.build-peers/venv-litellm}"
LOCK="$ROOT/../shared/peers/requirements-venv-litellm.lock.txt"
if [ ! -x "$VENV/bin/litellm" ]; then
  echo "litellm-check: installing LiteLLM into $VENV"
  python3 -m venv "$VENV"
  if [ -f "$LOCK" ]; then "$VENV/bin/pip" install -q -r "$LOCK"; else "$VENV/bin/pip" install -q 'litellm[proxy]==1.106.2'; fi
fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
WORK=$(mktemp -d)
LOG="$WORK/litellm.log"
# Offline: LiteLLM must not fetch cost maps or anything else.
export LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS=True LITELLM_TELEMETRY=False
export DISABLE_ADMIN_UI=True NO_DOCS=True NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
unset DATABASE_URL
setsid "$VENV/bin/litellm" --config "$ROOT/scripts/peers/litellm.yaml" --host 127.0.0.1 --port "$PORT" --num_workers 1 >"$LOG" 2>&1 </dev/null &
LPID=$!
cleanup() { kill -TERM -- "-$LPID" 2>/dev/null || kill "$LPID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
for _ in $(seq 1 240); do
  curl -fsS -m 2 "http://127.0.0.1:$PORT/health/liveliness" >/dev/null 2>&1 && break
  kill -0 "$LPID" 2>/dev/null || { echo "litellm-check: LiteLLM died"; tail -30 "$LOG"; exit 1; }
  sleep 0.5
done
cd "$WORK"
fail=0
run() {  # name, expected text, env..., -- demo args...
  local name="$1" expect="$2"; shift 2
  local envs=(); while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
  if out=$(env -u OPENAI_API_KEY -u ANTHROPIC_API_KEY "${envs[@]}" "$HARNESS" demo "$@" 2>&1) && grep -qF -- "$expect" <<<"$out"; then
    echo "litellm-check: ok   $name"
  else
    echo "litellm-check: FAIL $name"; echo "$out" | tail -15; fail=1
  fi
}
OPENAI=(OPENAI_API_KEY=sk-peer-test OPENAI_BASE_URL="http://127.0.0.1:$PORT/v1")
ANTHROPIC=(ANTHROPIC_API_KEY=sk-peer-test ANTHROPIC_BASE_URL="http://127.0.0.1:$PORT")
run "openai, streamed"            "Hello from the LiteLLM mock." "${OPENAI[@]}" -- --provider openai --model mock-gpt
run "openai, not streamed"        "Hello from the LiteLLM mock." "${OPENAI[@]}" -- --provider openai --model mock-gpt --no-stream
run "openai, tool calls"          "get_weather"                  "${OPENAI[@]}" -- --provider openai --model mock-tools --no-stream
run "anthropic, streamed"         "anthropic route"              "${ANTHROPIC[@]}" -- --provider anthropic --model claude-mock
run "anthropic, not streamed"     "anthropic route"              "${ANTHROPIC[@]}" -- --provider anthropic --model claude-mock --no-stream
exit $fail
