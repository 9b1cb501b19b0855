#!/usr/bin/env bash
# Compare Harness's per-iteration orchestration overhead with Pydantic AI and the OpenAI
# Agents SDK on the same scripted 10-iteration tool-calling conversation.
#
# Creates a virtualenv (default: <repo>/.build/bench-venv, override with VENV=...), installs
# the pinned framework versions from PyPI, then runs compare_frameworks.py with every
# argument passed through, e.g.:
#
#   Benchmarks/compare-frameworks.sh                 # needs: swift build -c release --product harness
#   Benchmarks/compare-frameworks.sh --skip-harness  # Python frameworks only
#   Benchmarks/compare-frameworks.sh --runs 1000 --json
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(dirname "$SCRIPT_DIR")"
VENV="${VENV:-$REPO_ROOT/.build/bench-venv}"

# Exact versions the numbers in FRAMEWORKS.md were measured with.
PYDANTIC_AI_VERSION="2.68.0"
OPENAI_AGENTS_VERSION="0.24.0"

if [[ ! -x "$VENV/bin/python" ]]; then
    echo "Creating virtualenv at $VENV" >&2
    python3 -m venv "$VENV"
fi

# pip is a no-op (apart from resolution) when the pins are already satisfied.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "pydantic-ai-slim==$PYDANTIC_AI_VERSION" \
    "openai-agents==$OPENAI_AGENTS_VERSION" >&2

exec "$VENV/bin/python" "$SCRIPT_DIR/compare_frameworks.py" "$@"
