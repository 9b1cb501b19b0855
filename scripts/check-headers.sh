#!/usr/bin/env bash
# Every Swift file in Sources/, Tests/ and Benchmarks/ starts with the license header.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=0
while IFS= read -r -d '' f; do
  if ! head -n 8 "$f" | grep -q "SPDX-License-Identifier: Apache-2.0"; then
    echo "missing license header: $f"
    missing=1
  fi
done < <(find Sources Tests Benchmarks -name '*.swift' -not -path '*/.build/*' -print0 2>/dev/null)
exit $missing
