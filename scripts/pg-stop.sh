#!/usr/bin/env bash
# pg-stop.sh — stop the throwaway server started by scripts/pg-start.sh, by PID.
# Idempotent: exits 0 if nothing is running. Pass --purge to delete PG_STATE_DIR too.
#   PG_STATE_DIR  the same state dir as given to pg-start.sh   default <repo>/.build/pg
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
STATE="${PG_STATE_DIR:-$REPO/.build/pg}"
PIDFILE="$STATE/data/postmaster.pid"

# Alive = exists and is not a zombie (see pg-start.sh).
is_alive() {
  local st
  kill -0 "$1" 2>/dev/null || return 1
  [[ -r "/proc/$1/stat" ]] || return 0
  st="$(sed 's/^.*) //' "/proc/$1/stat" | cut -d' ' -f1)"
  [[ "$st" != Z && "$st" != X ]]
}

if [[ -f "$PIDFILE" ]]; then
  pid="$(head -n1 "$PIDFILE" 2>/dev/null || true)"
  if [[ -n "$pid" ]] && is_alive "$pid"; then
    kill -INT "$pid"                          # "fast" shutdown: abort sessions, clean stop
    for _ in $(seq 1 100); do is_alive "$pid" || break; sleep 0.1; done
    if is_alive "$pid"; then
      kill -QUIT "$pid" 2>/dev/null || true   # immediate shutdown
      sleep 1
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
fi
if [[ "${1:-}" == "--purge" ]]; then rm -rf "$STATE"; fi
exit 0
