#!/usr/bin/env bash
# pg-start.sh — start (or reuse) a throwaway PostgreSQL server on 127.0.0.1, for tests.
#
# Idempotent: if the server for PG_STATE_DIR is already running, it just prints the
# connection URL again. Trust auth, no TLS, fsync off: for tests only. A test that kills
# the *server* to check durability must start it with PG_DURABLE=1 (fsync on). (Killing the
# client, as the crash test of HarnessPostgresTests does, is safe with fsync off.)
#
# Env knobs:
#   PG_STATE_DIR  state dir (data, socket, log, port)   default <repo>/.build/pg
#   PG_PORT       TCP port; default: first free port from 54329 upward
#   PG_BIN        dir with initdb/pg_ctl/postgres       default: from PATH, else /usr/lib/postgresql/15/bin
#   PG_OS_USER    OS user to run as when invoked as root default postgres (created if missing)
#   PG_DURABLE    1 keeps fsync, synchronous_commit and full_page_writes on
# Output (stdout): exactly one line, the URL, e.g.
#   postgres://postgres@127.0.0.1:54329/postgres?sslmode=disable
# Also written to $PG_STATE_DIR/url; the PID is line 1 of $PG_STATE_DIR/data/postmaster.pid.
# Stop it with scripts/pg-stop.sh (same PG_STATE_DIR).
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
STATE="${PG_STATE_DIR:-$REPO/.build/pg}"
DATA="$STATE/data"
SOCK="$STATE/sock"
LOG="$STATE/postgres.log"
OS_USER="${PG_OS_USER:-postgres}"

if [[ -n "${PG_BIN:-}" ]]; then BIN="$PG_BIN"
elif command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then BIN="$(dirname "$(command -v initdb)")"
else BIN=/usr/lib/postgresql/15/bin; fi
for t in initdb pg_ctl postgres; do
  [[ -x "$BIN/$t" ]] || {
    echo "pg-start: $BIN/$t not found (set PG_BIN, or install the server: apt-get install -y postgresql-15)" >&2
    exit 1
  }
done

# Run a command as the unprivileged user when we are root (postgres refuses to run as root).
if [[ "$(id -u)" -eq 0 ]]; then
  if ! id -u "$OS_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$OS_USER"
  fi
  as_pg() { runuser -u "$OS_USER" -- "$@"; }
else
  as_pg() { "$@"; }
fi

url_for() { echo "postgres://postgres@127.0.0.1:$1/postgres?sslmode=disable"; }

# Alive = exists and is not a zombie (in containers whose PID 1 does not reap,
# a dead postmaster lingers as <defunct> and `kill -0` still succeeds).
is_alive() {
  local st
  kill -0 "$1" 2>/dev/null || return 1
  [[ -r "/proc/$1/stat" ]] || return 0
  st="$(sed 's/^.*) //' "/proc/$1/stat" | cut -d' ' -f1)"
  [[ "$st" != Z && "$st" != X ]]
}

running_pid() {  # prints the PID if the server for $DATA is alive
  local pidfile="$DATA/postmaster.pid" pid
  [[ -f "$pidfile" ]] || return 1
  pid="$(head -n1 "$pidfile" 2>/dev/null || true)"
  [[ -n "$pid" ]] && is_alive "$pid" || return 1
  echo "$pid"
}

# Already running? Reuse.
if running_pid >/dev/null; then
  port="$(sed -n 4p "$DATA/postmaster.pid")"
  url_for "$port" | tee "$STATE/url"
  exit 0
fi

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [[ -n "${PG_PORT:-}" ]]; then
  PORT="$PG_PORT"
  port_free "$PORT" || { echo "pg-start: port $PORT is in use" >&2; exit 1; }
else
  PORT=54329
  while ! port_free "$PORT"; do
    PORT=$((PORT + 1))
    [[ $PORT -lt 54429 ]] || { echo "pg-start: no free port in 54329..54428" >&2; exit 1; }
  done
fi

mkdir -p "$STATE" "$SOCK"
if [[ "$(id -u)" -eq 0 ]]; then
  chown "$OS_USER" "$STATE" "$SOCK"
  as_pg test -w "$STATE" || {
    echo "pg-start: user $OS_USER cannot reach $STATE (a parent directory is closed); set PG_STATE_DIR, e.g. /tmp/harness-pg" >&2
    exit 1
  }
fi
chmod 700 "$SOCK"

if [[ ! -s "$DATA/PG_VERSION" ]]; then
  rm -rf "$DATA"
  as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >"$STATE/initdb.log" 2>&1 \
    || { echo "pg-start: initdb failed, see $STATE/initdb.log" >&2; cat "$STATE/initdb.log" >&2; exit 1; }
fi
# Not running: drop stale lock files left by a killed server (postgres would
# refuse to start if their PID still "exists", e.g. as an unreaped zombie).
rm -f "$DATA/postmaster.pid" "$SOCK"/.s.PGSQL.*

OPTS="-p $PORT -k $SOCK -c listen_addresses=127.0.0.1"
if [[ "${PG_DURABLE:-0}" != 1 ]]; then
  OPTS="$OPTS -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi
as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 30 start -o "$OPTS" >/dev/null \
  || { echo "pg-start: start failed, see $LOG" >&2; tail -n 20 "$LOG" >&2; exit 1; }

running_pid >/dev/null || { echo "pg-start: the server did not stay up, see $LOG" >&2; exit 1; }
echo "$PORT" > "$STATE/port"
url_for "$PORT" | tee "$STATE/url"
