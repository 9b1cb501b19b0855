#!/usr/bin/env bash
# The test command: everything CI checks, from a clean clone.
#   scripts/test.sh            build (no warnings allowed in our code), then run every test
# Environment: SWIFT_TEST_ARGS passes extra arguments to `swift test` (e.g. --filter X).
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

echo "== swift test"
# shellcheck disable=SC2086
swift test ${SWIFT_TEST_ARGS:-}
