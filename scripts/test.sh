#!/usr/bin/env bash
# The test command: everything CI checks, from a clean clone.
#   scripts/test.sh            build (no warnings allowed in our code), then run every test
# Environment: SWIFT_TEST_ARGS passes extra arguments to `swift test` (e.g. --filter X).
#   HARNESS_TEST_POSTGRES_URL  a PostgreSQL server for HarnessPostgresTests; when unset, a
#                              throwaway one is started (scripts/pg-start.sh) and stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/check-headers.sh

mkdir -p .build
echo "== swift build --build-tests"
swift build --build-tests 2>&1 | tee .build/build.log | grep -vE '^\[[0-9]+/[0-9]+\]' || true
if [ "${PIPESTATUS[0]}" != "0" ]; then echo "build failed"; exit 1; fi
# Our own code must build without warnings (dependencies' warnings are theirs).
if grep -E "^$(pwd)/(Sources|Tests)/.*: warning:" .build/build.log; then
  echo "error: the build has warnings in Sources/ or Tests/ (above)"
  exit 1
fi

# PostgreSQL for HarnessPostgresTests: a throwaway server of our own, stopped on exit.
if [ -z "${HARNESS_TEST_POSTGRES_URL:-}" ]; then
  echo "== PostgreSQL"
  if ! { command -v initdb && command -v pg_ctl; } >/dev/null 2>&1 \
     && ! { [ -x /usr/lib/postgresql/15/bin/initdb ] && [ -x /usr/lib/postgresql/15/bin/pg_ctl ]; }; then
    echo "initdb/pg_ctl not found: installing postgresql-15"
    sudo_if_needed=""; [ "$(id -u)" -eq 0 ] || sudo_if_needed="sudo"
    $sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql-15 \
      || { $sudo_if_needed apt-get update && $sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql-15; }
  fi
  pg_stop_args=""
  if [ -z "${PG_STATE_DIR:-}" ]; then
    # A state dir of this run's own, deleted afterwards.
    export PG_STATE_DIR="$(pwd)/.build/pg-test-$$"
    pg_stop_args="--purge"
  fi
  trap 'scripts/pg-stop.sh $pg_stop_args || true' EXIT
  HARNESS_TEST_POSTGRES_URL="$(scripts/pg-start.sh)"
  export HARNESS_TEST_POSTGRES_URL
  echo "PostgreSQL at $HARNESS_TEST_POSTGRES_URL"
fi

# The OTLP receiver for HarnessOTelTests: opentelemetry-proto from PyPI in .build-peers/venv-otel.
echo "== OTLP receiver venv"
scripts/otel-setup.sh

echo "== swift test"
# shellcheck disable=SC2086
swift test ${SWIFT_TEST_ARGS:-}

# A peer none of us wrote: the demo against a LiteLLM proxy (installed pinned from PyPI on
# first use) as an OpenAI- and an Anthropic-compatible upstream. Skipped only when a filter
# narrows the run.
if [ -z "${SWIFT_TEST_ARGS:-}" ]; then
  echo "== LiteLLM peer check"
  scripts/litellm-check.sh "$(swift build --show-bin-path)/harness"
fi

# The gateway with the official openai and anthropic Python SDKs, unmodified.
if [ -z "${SWIFT_TEST_ARGS:-}" ]; then
  echo "== Gateway SDK check"
  scripts/gateway-sdk-check.sh "$(swift build --show-bin-path)/harness"
fi
