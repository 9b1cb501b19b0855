#!/usr/bin/env bash
# Creates the Python environment of the OTLP test receiver (scripts/otel-receiver.py):
#   .build-peers/venv-otel with opentelemetry-proto (and protobuf) from PyPI.
# HarnessOTelTests fail, saying to run this, when it is missing. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build-peers/venv-otel
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import opentelemetry.proto.collector.trace.v1.trace_service_pb2" 2>/dev/null; then
  echo "$venv: ready"
  exit 0
fi
mkdir -p .build-peers
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "opentelemetry-proto>=1.20"
"$venv/bin/python" -c "import opentelemetry.proto.collector.trace.v1.trace_service_pb2" 
echo "$venv: ready"
